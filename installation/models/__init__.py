"""Model folders: check, pull once, build tiny random pipelines for tests; their commands."""
