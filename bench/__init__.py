"""Benchmarks: honest, repeatable measurements of what a visitor feels.

`python -m bench` runs every benchmark side by side in one process run and rewrites the
tables in BENCHMARKS.md; `--quick` uses tiny iteration counts (the smoke test uses them).
bench/gpu.py is separate: it needs CUDA and real weights, and CI never runs it.
"""
