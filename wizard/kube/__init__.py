"""The Kubernetes gateway: the only engine code that talks to a cluster's API server (see client.py)."""
