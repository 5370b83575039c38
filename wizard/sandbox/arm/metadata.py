"""`GET /metadata/endpoints`: the cloud description the Azure CLI reads when a cloud is registered with only a
resource-manager URL. One object (api-version 2022-09-01 shape), every endpoint that matters on the sandbox."""

from __future__ import annotations

from aiohttp import web

from wizard.sandbox.arm.context import Call
from wizard.sandbox.httputil import json_response


async def endpoints(call: Call) -> web.Response:
    base = call.world.base_url + "/"
    return json_response({
        "portal": "https://portal.azure.com",
        "authentication": {
            "loginEndpoint": base,
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": "WiWizardSandbox",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net", "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net", "azureDataLakeAnalyticsCatalogAndJob":
                "azuredatalakeanalytics.net", "keyVaultDns": "vault.azure.net", "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net", "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net", "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com", "mariadbServerEndpoint":
                "mariadb.database.azure.com", "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": base,
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/"
                           "quickstart-templates/aliases.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": base,
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    })
