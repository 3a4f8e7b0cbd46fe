"""The BigQuery client of a warehouse config: the machine's service account by default, a key
only from a ``${secret:...}`` reference, another endpoint for an emulator."""

from __future__ import annotations

import json
from typing import Any

from headrace.errors import ConfigError
from headrace.warehouses.bigquery import BigQueryConfig

SCOPES = ("https://www.googleapis.com/auth/bigquery", "https://www.googleapis.com/auth/cloud-platform")


def credentials(config: BigQueryConfig) -> Any:
    """Credentials of the config: a service account key, anonymous for an emulator, else None
    (the SDK's default chain: the VM's service account, ``GOOGLE_APPLICATION_CREDENTIALS``)."""
    if config.credentials_json:
        from google.oauth2 import service_account

        try:
            info = json.loads(config.credentials_json)
            return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        except (ValueError, KeyError) as exc:
            raise ConfigError(
                f"warehouse.credentials_json: not a service account key ({type(exc).__name__}); "
                "store the key file's JSON in the secret the reference names"
            ) from None
    if config.emulator:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    return None


def make_client(config: BigQueryConfig, creds: Any = None) -> Any:
    from google.api_core.client_options import ClientOptions
    from google.cloud import bigquery

    options = ClientOptions(api_endpoint=config.api_endpoint) if config.api_endpoint else None
    return bigquery.Client(
        project=config.project,
        credentials=creds if creds is not None else credentials(config),
        location=config.location,
        client_options=options,
    )


def impersonated(config: BigQueryConfig, base: Any, account: str, lifetime_s: int) -> Any:
    """A client acting as ``account`` (the install's identity needs roles/iam.serviceAccountTokenCreator on it)."""
    from google.auth import default, impersonated_credentials

    source = base if base is not None else default(scopes=list(SCOPES))[0]
    target = impersonated_credentials.Credentials(
        source_credentials=source,
        target_principal=account,
        target_scopes=list(SCOPES),
        lifetime=min(max(lifetime_s, 600), 43200),
    )
    return make_client(config, target)
