"""Opening PostgreSQL connections with errors a user can act on (used by the postgres extractor
and the postgres warehouse).

A failed connection says which host, port, database and user failed and why, never the
password, and carries its error class: ``ConfigError`` when only a change of settings
helps (authentication, unknown database or role, no pg_hba.conf entry, SSL refused),
``TransientError`` when the same attempt may work later (refused, timed out, dropped,
server starting or full). Every session gets the settings the table file contract relies
on: UTC time zone, ISO dates, hex bytea, UTF-8.
"""

from __future__ import annotations

import re
from typing import Any

from headrace.errors import ConfigError, HeadraceError, TaskFailed, TransientError
from headrace.secrets import redact

SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET bytea_output = 'hex'",
    "SET extra_float_digits = 1",
    "SET client_encoding = 'UTF8'",
)

# libpq reports connection failures as text only (no SQLSTATE): what each one means for the user
_CONFIG = (
    (re.compile(r"authentication failed|no password supplied"), "check user and password"),
    (re.compile(r'database ".*" does not exist'), "check the database name"),
    (re.compile(r'role ".*" does not exist'), "check the user name"),
    (re.compile(r"no pg_hba\.conf entry"), "the server's pg_hba.conf does not admit this host, user or SSL mode"),
    (re.compile(r"permission denied for database"), "grant the user CONNECT on the database"),
    (re.compile(r"does not support SSL|certificate|sslmode"), "check sslmode and the server's certificate"),
    (re.compile(r"Name or service not known|nodename nor servname"), "check the host name"),
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
    last = lines[0] if lines else type(exc).__name__
    return redact(last.rsplit(" failed: ", 1)[-1])


def connect_error(what: str, settings: dict[str, Any], exc: BaseException) -> HeadraceError:
    """The error to raise for a failed connection: its class decides whether the task is retried."""
    why = reason(exc)
    message = f"{what}: cannot connect to PostgreSQL at {describe_target(settings)}: {why}"
    for pattern, hint in _CONFIG:
        if pattern.search(why):
            return ConfigError(f"{message} ({hint})")
    return TransientError(f"{message} (is the server up and reachable from here? the task can be retried)")


def connect(settings: dict[str, Any], what: str, application: str = "headrace", autocommit: bool = True) -> Any:
    """A psycopg connection for ``settings`` (host, port, database, user, password, sslmode)."""
    import psycopg

    port = settings.get("port") or 5432
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: port {port!r} is not a number") from None
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
        raise connect_error(what, settings, exc) from None
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
