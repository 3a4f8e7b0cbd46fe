"""Opening PostgreSQL connections with errors a user can act on (shared by warehouse and extractor).

A failed connection says which host, port, database and user failed and why, never the
password. Every session gets the settings the table file contract relies on: UTC time
zone, ISO dates, hex bytea, UTF-8.
"""

from __future__ import annotations

from typing import Any

from headrace.errors import TaskFailed
from headrace.secrets import redact

SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET bytea_output = 'hex'",
    "SET extra_float_digits = 1",
    "SET client_encoding = 'UTF8'",
)


def describe_target(settings: dict[str, Any]) -> str:
    return (
        f"{settings.get('host')}:{settings.get('port') or 5432}, "
        f"database {settings.get('database')!r}, user {settings.get('user')!r}"
    )


def reason(exc: BaseException) -> str:
    """The useful part of a driver error (the server's primary message), secrets removed."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if primary:
        return redact(primary)
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    for line in lines:  # libpq puts the server's answer after "FATAL:"
        if "FATAL:" in line:
            return redact(line.split("FATAL:", 1)[1].strip())
    return redact(lines[0] if lines else type(exc).__name__)


def connect(settings: dict[str, Any], what: str, application: str = "headrace", autocommit: bool = True) -> Any:
    """A psycopg connection for ``settings`` (host, port, database, user, password, sslmode)."""
    import psycopg

    port = settings.get("port") or 5432
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise TaskFailed(f"{what}: port {port!r} is not a number") from None
    try:
        con = psycopg.connect(
            host=settings["host"],
            port=port,
            dbname=settings["database"],
            user=settings["user"],
            password=settings.get("password") or None,
            sslmode=settings.get("sslmode") or "prefer",
            connect_timeout=int(settings.get("connect_timeout") or 15),
            application_name=application,
            autocommit=autocommit,
        )
    except psycopg.Error as exc:
        raise TaskFailed(
            f"{what}: cannot connect to PostgreSQL at {describe_target(settings)}: {reason(exc)}"
        ) from None
    try:
        with con.cursor() as cur:
            for statement in SESSION:
                cur.execute(statement)
        if not autocommit:
            con.commit()
    except psycopg.Error as exc:
        con.close()
        raise TaskFailed(f"{what}: {describe_target(settings)}: {reason(exc)}") from None
    return con
