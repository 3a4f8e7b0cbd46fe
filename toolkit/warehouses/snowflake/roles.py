"""Roles and users on Snowflake: a throwaway user and role per transformation run, a login and a
role per datamart reader. Every statement Headrace sends for them is built here.

A transformation's role ``HR_<SCHEMA>`` may use the database and the warehouse, use and create
tables and views in its working schema, and read what is in it (the inputs, cloned there by the
warehouse user). Its user of the same name is a ``TYPE = SERVICE`` user (no password login)
that logs in with a key pair made for the run (only the public key is sent to Snowflake), holds
that role and no other (``DEFAULT_SECONDARY_ROLES = ()``), and so cannot ``USE ROLE`` back to the
warehouse user's role: what it reads and writes is decided by Snowflake's grants, never by
reading its SQL. Both are dropped with the working schema.

A reader login gets a generated password, kept in the secret store (never in a warehouse
table) and shown by ``headrace datamart credentials``; its role reads its datamart schemas only.
A user Headrace did not create (no ``managed by headrace`` comment) keeps its password.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from headrace.secretstore import SecretStore
from headrace.sqltext import literal, short_name
from headrace.warehouses.snowflake.names import quote

MANAGED = "managed by headrace"
READER_COMMENT = MANAGED + ": datamart reader"
WORKING_COMMENT = MANAGED + ": transformation working user"


def working_role(schema: str) -> str:
    return short_name("hr_", schema, 255)


def key_pair() -> tuple[bytes, str]:
    """(private key as DER for the connector, public key as Snowflake's RSA_PUBLIC_KEY text)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    body = "".join(line for line in public.decode().splitlines() if "-----" not in line)
    return private, body


def create_working_role(
    database: str, warehouse: str, schema: str, public_key: str, minutes: int
) -> tuple[str, list[str]]:
    """The working role and user of ``schema`` (replacing leftovers): (name, statements)."""
    role = working_role(schema)
    r, s = quote(role), quote(schema)
    db = quote(database)
    return role, [
        f"CREATE OR REPLACE ROLE {r} COMMENT = {literal(MANAGED + ': transformation working role', 'snowflake')}",
        f"GRANT USAGE ON DATABASE {db} TO ROLE {r}",
        f"GRANT USAGE ON WAREHOUSE {quote(warehouse)} TO ROLE {r}",
        f"GRANT USAGE, CREATE TABLE, CREATE VIEW ON SCHEMA {db}.{s} TO ROLE {r}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {db}.{s} TO ROLE {r}",
        f"CREATE OR REPLACE USER {r} TYPE = SERVICE RSA_PUBLIC_KEY = {literal(public_key, 'snowflake')} "
        f"DEFAULT_ROLE = {r} DEFAULT_SECONDARY_ROLES = () DEFAULT_WAREHOUSE = {quote(warehouse)} "
        f"DEFAULT_NAMESPACE = {db}.{s} MINS_TO_UNLOCK = 0 DAYS_TO_EXPIRY = {max(1, minutes // 1440 + 1)} "
        f"COMMENT = {literal(WORKING_COMMENT, 'snowflake')}",
        f"GRANT ROLE {r} TO USER {r}",
    ]


def drop_working_role(schema: str) -> list[str]:
    """End the run's user (its sessions stop) and drop it and its role, if they exist."""
    r = quote(working_role(schema))
    return [f"ALTER USER IF EXISTS {r} SET DISABLED = TRUE", f"DROP USER IF EXISTS {r}", f"DROP ROLE IF EXISTS {r}"]


def reader_role(reader: str) -> str:
    return short_name("hr_reader_", reader, 255)


def new_password() -> str:
    return secrets.token_urlsafe(24)


def ensure_readers(
    run: Callable[..., Any],
    database: str,
    warehouse: str,
    schema: str,
    readers: Sequence[str],
    store: SecretStore,
    key: Callable[[str], str],
    existing: Callable[[str], str | None],
) -> None:
    """Logins ``readers`` exist, each with its role that reads ``schema``; former readers' roles lose it.

    ``existing(user)`` is the comment of an existing user (None when there is none). A new login's
    password goes into ``store`` first, so no login exists whose password is lost."""
    db, s = quote(database), quote(schema)
    for reader in readers:
        role = quote(reader_role(reader))
        run(f"CREATE ROLE IF NOT EXISTS {role} COMMENT = {literal(MANAGED + ': datamart reader role', 'snowflake')}")
        comment = existing(reader)
        if comment is None or (comment == READER_COMMENT and store.read(key(reader)) is None):
            password = new_password()
            store.write(key(reader), password)
            verb = "CREATE USER" if comment is None else "ALTER USER"
            setting = "" if comment is None else "SET "
            run(
                f"{verb} {quote(reader)} {setting}PASSWORD = {literal(password, 'snowflake')} DEFAULT_ROLE = {role} "
                f"DEFAULT_SECONDARY_ROLES = () DEFAULT_WAREHOUSE = {quote(warehouse)} "
                f"MUST_CHANGE_PASSWORD = FALSE COMMENT = {literal(READER_COMMENT, 'snowflake')}"
            )
        run(f"GRANT ROLE {role} TO USER {quote(reader)}")
        run(f"GRANT USAGE ON DATABASE {db} TO ROLE {role}")
        run(f"GRANT USAGE ON WAREHOUSE {quote(warehouse)} TO ROLE {role}")
        run(f"GRANT USAGE ON SCHEMA {db}.{s} TO ROLE {role}")
        run(f"GRANT SELECT ON ALL TABLES IN SCHEMA {db}.{s} TO ROLE {role}")
        run(f"GRANT SELECT ON ALL VIEWS IN SCHEMA {db}.{s} TO ROLE {role}")


def revoke_former(
    run: Callable[..., Any], database: str, schema: str, grantees: Sequence[str], readers: Sequence[str]
) -> None:
    """Roles (``grantees``, read from ``SHOW GRANTS ON SCHEMA``) that read ``schema`` but belong to no reader."""
    keep = {reader_role(r).upper() for r in readers}
    db, s = quote(database), quote(schema)
    for grantee in grantees:
        if grantee.upper().startswith("HR_READER_") and grantee.upper() not in keep:
            run(f"REVOKE SELECT ON ALL TABLES IN SCHEMA {db}.{s} FROM ROLE {quote(grantee)}")
            run(f"REVOKE SELECT ON ALL VIEWS IN SCHEMA {db}.{s} FROM ROLE {quote(grantee)}")
            run(f"REVOKE USAGE ON SCHEMA {db}.{s} FROM ROLE {quote(grantee)}")
