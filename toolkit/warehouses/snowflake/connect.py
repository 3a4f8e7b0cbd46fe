"""Connections to Snowflake with snowflake-connector-python (imported here only).

Every session runs in UTC with a lock timeout (``lock_timeout``: a load waiting on a table
that another session, possibly a killed one, holds fails after it instead of waiting the
default 12 hours). Key-pair authentication takes the PEM of ``private_key`` (PKCS#8,
optionally encrypted with ``private_key_passphrase``).
"""

from __future__ import annotations

from typing import Any

from headrace.errors import ConfigError, TransientError

APPLICATION = "headrace"


def der_private_key(pem: str, passphrase: str | None = None) -> bytes:
    """The DER (PKCS#8) bytes the connector takes, from a PEM private key."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(pem.encode(), passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"warehouse: private_key is not a usable PEM private key ({type(exc).__name__}); "
            "give the whole PEM text (-----BEGIN PRIVATE KEY----- ...) and private_key_passphrase if it is encrypted"
        ) from None
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """Connector arguments of the warehouse user (password or key pair) from the resolved config."""
    args: dict[str, Any] = {
        "account": config["account"],
        "user": config["user"],
        "warehouse": config["warehouse"],
        "database": config["database"],
        "login_timeout": int(config.get("login_timeout") or 60),
        "application": APPLICATION,
        "session_parameters": {
            "TIMEZONE": "UTC",
            "LOCK_TIMEOUT": int(config.get("lock_timeout") or 0),
            "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
        },
    }
    if config.get("role"):
        args["role"] = config["role"]
    if config.get("private_key"):
        args["private_key"] = der_private_key(config["private_key"], config.get("private_key_passphrase"))
    else:
        args["password"] = config["password"]
    for key in ("host", "port", "protocol"):
        if config.get(key):
            args[key] = config[key]
    return args


def connect(args: dict[str, Any], what: str = "warehouse") -> Any:
    """An autocommit connection; a refused login is a ConfigError, an unreachable server transient."""
    import snowflake.connector
    from snowflake.connector import errors

    try:
        return snowflake.connector.connect(autocommit=True, paramstyle="pyformat", **args)
    except errors.DatabaseError as exc:
        where = f"{args.get('user')}@{args.get('account')}"
        message = (getattr(exc, "msg", None) or str(exc)).strip().splitlines()[0]
        if isinstance(exc, errors.OperationalError) and getattr(exc, "errno", None) in (250001, 250003, 251011):
            raise TransientError(f"{what}: cannot reach Snowflake as {where}: {message}") from None
        raise ConfigError(
            f"{what}: Snowflake refused the login of {where}: {message} (check warehouse: in project.yaml)"
        ) from None


def describe(config: dict[str, Any]) -> str:
    return f"snowflake://{config.get('account')}/{config.get('database')} as {config.get('user')}"
