"""Storage: atomic writes, PNGs with metadata, the state file, disk pauses, the archive."""
