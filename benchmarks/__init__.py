"""Load and latency benchmarks; see README.md."""
