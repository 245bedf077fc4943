"""Generation: engines (diffusers, fallback), the worker process, cache and archive."""
