"""Show files: the curators' interface (schema, loading with file:line errors, live reload)."""
