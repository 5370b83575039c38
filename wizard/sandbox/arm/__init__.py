"""Azure Resource Manager emulation: what the Azure SDKs and the Azure CLI call for subscriptions, providers,
resource groups, managed identities and their federated credentials, RBAC, compute quota and AKS clusters.

- service.py / router.py: the entry point and the routing; every call is authenticated (auth.py), authorised
  (rbac.py, built-in roles in roles.py) and checked for provider registration (providers.py) before a handler;
- context.py, errors.py, paging.py, lro.py: the request, ARM's error shapes, list pages, long-running operations;
- subscriptions.py, resourcegroups.py, identities.py, authorization.py, quota.py, managedclusters.py (+
  clusterbody.py), metadata.py: the resources; catalog.py: regions and the provider catalog;
- seed.py: what the scenario seeds.
"""
