"""Engines: the Engine protocol and its spec, diffusers, the fallback, safety, images."""
