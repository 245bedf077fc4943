"""The outcome cache: keys, memory and disk, its disk thread, the cached worker in front
of the generation worker, prefill planning and the `installation prerender` command."""
