"""Ratio benchmarks: each measures the wizard against a baseline in the same run (our machines are noisy, so
only ratios of medians mean something). Run them all with `python -m benchmarks` (see `--help`)."""
