# bench/: see docs/benchmarks.md
