"""wi-wizard: cross-tenant AKS workload identity, set up and proven from the terminal."""

__version__ = "0.1.0"
