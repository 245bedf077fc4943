"""Pure domain core: plain data and pure functions. No serial, torch, pygame or socket imports."""
