"""The static parts of the sandbox's Azure: regions and the resource-provider catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.sandbox.arm.errors import bad_request


@dataclass(frozen=True)
class Region:
    name: str
    display_name: str
    geography: str
    geography_group: str
    latitude: str
    longitude: str
    physical_location: str
    paired: str


REGIONS: tuple[Region, ...] = (
    Region("eastus", "East US", "United States", "US", "37.3719", "-79.8164", "Virginia", "westus"),
    Region("eastus2", "East US 2", "United States", "US", "36.6681", "-78.3889", "Virginia", "centralus"),
    Region("westus", "West US", "United States", "US", "37.783", "-122.417", "California", "eastus"),
    Region("westus2", "West US 2", "United States", "US", "47.233", "-119.852", "Washington", "westcentralus"),
    Region("westeurope", "West Europe", "Europe", "Europe", "52.3667", "4.9", "Netherlands", "northeurope"),
    Region("northeurope", "North Europe", "Europe", "Europe", "53.3478", "-6.2597", "Ireland", "westeurope"),
    Region("uksouth", "UK South", "United Kingdom", "Europe", "50.941", "-0.799", "London", "ukwest"),
    Region("swedencentral", "Sweden Central", "Sweden", "Europe", "60.67488", "17.14127", "Gävle", "swedensouth"),
)
_REGIONS = {r.name: r for r in REGIONS}


def normalize_location(value: str) -> str:
    """ARM accepts `East US` and `eastus` alike and answers with the short name."""
    return value.replace(" ", "").lower()


def check_location(value: Any, resource_type: str) -> str:
    """The short region name, or ARM's LocationNotAvailableForResourceType."""
    name = normalize_location(value) if isinstance(value, str) else ""
    if name not in _REGIONS:
        raise bad_request("LocationNotAvailableForResourceType",
                          f"The provided location '{value}' is not available for resource type '{resource_type}'. "
                          f"List of available regions for the resource type is "
                          f"'{','.join(r.name for r in REGIONS)}'.")
    return name


def location_body(subscription_id: str, region: Region) -> dict[str, Any]:
    base = f"/subscriptions/{subscription_id}/locations"
    return {
        "id": f"{base}/{region.name}", "name": region.name, "type": "Region",
        "displayName": region.display_name, "regionalDisplayName": f"({region.geography_group}) {region.display_name}",
        "metadata": {
            "regionType": "Physical", "regionCategory": "Recommended", "geography": region.geography,
            "geographyGroup": region.geography_group, "longitude": region.longitude, "latitude": region.latitude,
            "physicalLocation": region.physical_location,
            "pairedRegion": [{"name": region.paired, "id": f"{base}/{region.paired}"}],
        },
    }


@dataclass(frozen=True)
class ProviderSpec:
    namespace: str
    resource_types: tuple[str, ...]
    api_versions: tuple[str, ...]
    always_registered: bool = False  # RegistrationFree namespaces (Microsoft.Authorization, Microsoft.Resources)
    edge_zones: bool = False


PROVIDERS: tuple[ProviderSpec, ...] = (
    ProviderSpec("Microsoft.Authorization", ("roleAssignments", "roleDefinitions", "permissions", "locks"),
                 ("2022-04-01", "2022-05-01-preview", "2020-10-01-preview"), always_registered=True),
    ProviderSpec("Microsoft.Resources", ("resourceGroups", "subscriptions", "tenants", "deployments", "locations"),
                 ("2025-04-01", "2024-11-01", "2022-12-01"), always_registered=True),
    ProviderSpec("Microsoft.ContainerService",
                 ("managedClusters", "managedClusters/agentPools", "locations", "locations/operations",
                  "locations/operationresults"),
                 ("2026-08-01", "2026-07-01", "2026-06-01", "2026-04-01", "2025-10-01"), edge_zones=True),
    ProviderSpec("Microsoft.ManagedIdentity",
                 ("userAssignedIdentities", "userAssignedIdentities/federatedIdentityCredentials", "operations"),
                 ("2026-05-31", "2025-05-31-preview", "2025-01-31-preview", "2024-11-30", "2023-01-31")),
    ProviderSpec("Microsoft.Quota", ("quotas", "usages", "quotaRequests", "operations"),
                 ("2025-09-01", "2025-07-15", "2025-03-01", "2023-02-01")),
    ProviderSpec("Microsoft.Compute", ("virtualMachines", "virtualMachineScaleSets", "disks", "locations",
                                       "locations/usages"),
                 ("2025-04-01", "2024-11-01", "2024-07-01")),
    ProviderSpec("Microsoft.Network", ("virtualNetworks", "publicIPAddresses", "loadBalancers",
                                       "networkSecurityGroups"),
                 ("2025-01-01", "2024-07-01", "2024-05-01")),
    ProviderSpec("Microsoft.Storage", ("storageAccounts",), ("2025-01-01", "2024-01-01", "2023-05-01")),
    ProviderSpec("Microsoft.OperationalInsights", ("workspaces",), ("2025-02-01", "2023-09-01", "2022-10-01")),
    ProviderSpec("Microsoft.KubernetesConfiguration", ("extensions", "fluxConfigurations", "operations"),
                 ("2024-11-01", "2023-05-01", "2022-11-01")),
)
_PROVIDERS = {p.namespace.lower(): p for p in PROVIDERS}


def provider(namespace: str) -> ProviderSpec | None:
    return _PROVIDERS.get(namespace.lower())


def resource_types_body(spec: ProviderSpec) -> list[dict[str, Any]]:
    regions = [r.display_name for r in REGIONS]
    found: list[dict[str, Any]] = []
    for resource_type in spec.resource_types:
        tracked = "/" not in resource_type and resource_type not in {"locations", "operations"}
        entry: dict[str, Any] = {"resourceType": resource_type, "locations": regions if tracked else [],
                                 "apiVersions": list(spec.api_versions)}
        if spec.edge_zones and tracked:
            entry["locationMappings"] = [{"location": "West US", "type": "EdgeZone",
                                          "extendedLocations": ["losangeles"]}]
        entry["capabilities"] = ("CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SupportsTags, "
                                 "SupportsLocation") if tracked else "None"
        found.append(entry)
    return found
