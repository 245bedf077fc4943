"""Physical dice over USB serial: protocol codec, supervised reader, emulator, fake, tools."""
