"""The cloud storage blocks of project.yaml: keys only as ${secret:NAME}, identities that exclude each other."""

from __future__ import annotations

from typing import Any

import pytest
from headrace import plugins
from pydantic import ValidationError

pytestmark = pytest.mark.unit

BASE = {
    "s3": {"type": "s3", "bucket": "b"},
    "gcs": {"type": "gcs", "bucket": "b"},
    "azure": {"type": "azure", "account_url": "https://acct.blob.core.windows.net", "container": "c"},
}
KEYS = {
    "s3": ["access_key_id", "secret_access_key", "session_token"],
    "gcs": ["credentials_json"],
    "azure": ["account_key", "sas_token"],
}


def validate(block: dict[str, Any]) -> Any:
    return plugins.get("storage", block["type"]).config.model_validate(block)


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_without_keys_the_machine_identity_is_used_and_written_keys_are_refused(kind: str) -> None:
    assert validate(BASE[kind]).type == kind
    for key in KEYS[kind]:
        with pytest.raises(ValidationError, match="a credential is never written in project files"):
            validate({**BASE[kind], key: "AKIAREALLOOKINGKEY"})
        with pytest.raises(ValidationError, match="a credential is never written in project files"):
            validate({**BASE[kind], key: "${env:KEY}"})


def test_s3_keys_come_in_pairs() -> None:
    pair = {"access_key_id": "${secret:id}", "secret_access_key": "${secret:key}"}
    assert validate({**BASE["s3"], **pair}).access_key_id == "${secret:id}"
    with pytest.raises(ValidationError, match="give both access_key_id and secret_access_key"):
        validate({**BASE["s3"], "access_key_id": "${secret:id}"})
    with pytest.raises(ValidationError, match="session_token needs"):
        validate({**BASE["s3"], "session_token": "${secret:t}"})


def test_one_identity_each() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        validate({**BASE["gcs"], "anonymous": True, "credentials_json": "${secret:sa}"})
    with pytest.raises(ValidationError, match="account_key or sas_token, not both"):
        validate({**BASE["azure"], "account_key": "${secret:k}", "sas_token": "${secret:s}"})


def test_unknown_keys_are_named() -> None:
    with pytest.raises(ValidationError, match="unknown key"):
        validate({**BASE["s3"], "endpoint": "http://x"})  # S3's key is endpoint_url
