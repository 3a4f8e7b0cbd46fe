"""The Snowflake config, names and connection settings, without a server."""

from __future__ import annotations

import pytest
from headrace.errors import ConfigError
from headrace.warehouses.snowflake import SnowflakeConfig, connect, loads, names
from pydantic import ValidationError

pytestmark = pytest.mark.unit

BASE = {"type": "snowflake", "account": "org-acct", "user": "headrace", "warehouse": "wh", "database": "analytics"}


def test_exactly_one_credential_is_required_and_named() -> None:
    for extra in ({}, {"password": "${secret:a}", "private_key": "${secret:b}"}):
        with pytest.raises(ValidationError, match="exactly one of password or private_key"):
            SnowflakeConfig.model_validate({**BASE, **extra})
    assert SnowflakeConfig.model_validate({**BASE, "password": "${secret:sf_password}"}).password
    assert SnowflakeConfig.model_validate({**BASE, "private_key": "${secret:sf_key}"}).private_key


def test_credentials_are_only_secret_references() -> None:
    with pytest.raises(ValidationError, match="a credential is never written in project files"):
        SnowflakeConfig.model_validate({**BASE, "password": "hunter2"})
    with pytest.raises(ValidationError, match="a credential is never written in project files"):
        SnowflakeConfig.model_validate({**BASE, "private_key": "-----BEGIN PRIVATE KEY-----"})


def test_headrace_names_resolve_as_analysts_unquoted_names() -> None:
    # Snowflake folds unquoted names to upper case: Headrace stores its lowercase names that way
    assert names.quote("orders") == '"ORDERS"'
    assert names.quote("at") == '"AT"'  # a reserved word, still what an unquoted "at" would be
    assert names.quote("Order Items") == '"Order Items"'  # not a plain name: kept as written
    assert names.quote('say "hi"') == '"say ""hi"""'
    assert names.qualified("in_sales", "orders") == '"IN_SALES"."ORDERS"'
    assert names.shown("ORDERS") == "orders" and names.shown("Mixed") == "Mixed" and names.shown("A B") == "A B"


def test_key_pair_login_sends_der_and_no_password() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass phrase"),
    ).decode()
    args = connect.settings({**BASE, "private_key": pem, "private_key_passphrase": "pass phrase"})
    assert "password" not in args
    assert serialization.load_der_private_key(args["private_key"], None).key_size == 2048
    assert args["session_parameters"]["TIMEZONE"] == "UTC"
    with pytest.raises(ConfigError, match="private_key is not a usable PEM private key") as info:
        connect.settings({**BASE, "private_key": "not a key"})
    assert "not a key" not in str(info.value)


def test_native_loads_read_the_bucket_with_the_storage_integration() -> None:
    """What is sent for s3/gs/azure storage (real account only: fakesnow cannot read a bucket)."""
    assert loads.location("gs://bkt/raw/a/part-00000.csv.gz") == "gcs://bkt/raw/a/part-00000.csv.gz"
    assert loads.location("az://acct/ctr/raw/p.csv.gz") == "azure://acct.blob.core.windows.net/ctr/raw/p.csv.gz"
    assert loads.location("s3://bkt/raw/p.csv.gz") == "s3://bkt/raw/p.csv.gz"
    sql = loads.copy_sql("_HEADRACE_RAW", ['"ID"'], "s3://bkt/raw/p.csv.gz", "gzip", "hr_bucket")
    assert sql.startswith(
        'COPY INTO _HEADRACE_RAW ("ID") FROM \'s3://bkt/raw/p.csv.gz\' STORAGE_INTEGRATION = "HR_BUCKET"'
    )
    assert "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' EMPTY_FIELD_AS_NULL = TRUE NULL_IF = ()" in sql
    assert "COMPRESSION = GZIP" in sql and "PURGE" not in sql  # never deletes the project's raw files
