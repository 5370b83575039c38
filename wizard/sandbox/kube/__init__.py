"""The sandbox's AKS clusters: a Kubernetes API per cluster, its OIDC issuer, the workload-identity webhook and
a pod runtime."""
