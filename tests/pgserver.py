"""A throwaway PostgreSQL 15 server for tests and benchmarks.

Started from Debian's server binaries with ``initdb`` + ``pg_ctl`` on a free port on
127.0.0.1, with a private socket directory. PostgreSQL refuses to run as root, so when
we are root the data directory belongs to the ``postgres`` user and the binaries run
through ``su postgres``. Password authentication (scram) is on for TCP so tests see the
same errors a real server gives.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUPERUSER = "postgres"
PASSWORD = "pg-test-" + uuid.uuid4().hex[:12]
_SEARCH = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def find_bin(name: str) -> str:
    for folder in _SEARCH:
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise RuntimeError(
        f"PostgreSQL's {name} is not installed: run tests/setup.d/20-postgres.sh (apt-get install postgresql)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["su", SUPERUSER, "-s", "/bin/sh", "-c", shlex.join(command)]


@dataclass
class PgServer:
    root: Path
    port: int
    host: str = "127.0.0.1"
    password: str = PASSWORD

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def conninfo(self, database: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"host={self.host} port={self.port} dbname={database} user={user} password={pw} connect_timeout=10"

    def config(self, database: str, user: str = SUPERUSER, password: str | None = None) -> dict[str, Any]:
        """Connection settings in the shape of a Headrace ``connection:`` or warehouse block."""
        pw = self.password if password is None else password
        return {"host": self.host, "port": self.port, "database": database, "user": user, "password": pw}

    def connect(self, database: str = "postgres", user: str = SUPERUSER, **kwargs: Any) -> Any:
        import psycopg

        return psycopg.connect(self.conninfo(database, user=user), autocommit=True, **kwargs)

    def create_database(self, name: str) -> None:
        with self.connect() as con:
            con.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        with self.connect() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run(
            _as_server_user([find_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start(settings: dict[str, str] | None = None, port: int | None = None) -> PgServer:
    """initdb a fresh cluster in a temporary folder and start it; raise with the log on failure."""
    root = Path(tempfile.mkdtemp(prefix="headrace-pg-"))
    os.chmod(root, 0o755)
    server = PgServer(root, port or free_port())
    sockets = root / "sock"
    sockets.mkdir()
    pwfile = root / "pwfile"
    pwfile.write_text(server.password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, SUPERUSER)
        shutil.chown(sockets, SUPERUSER)
        shutil.chown(pwfile, SUPERUSER)
    init = [
        find_bin("initdb"),
        "-D",
        str(server.data),
        "-U",
        SUPERUSER,
        "--pwfile",
        str(pwfile),
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    ]
    done = subprocess.run(_as_server_user(init), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
    options = {
        "listen_addresses": "127.0.0.1",
        "port": str(server.port),
        "unix_socket_directories": str(sockets),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "100",
        "shared_buffers": "128MB",
        **(settings or {}),
    }
    with (server.data / "postgresql.auto.conf").open("a") as conf:
        for key, value in options.items():
            conf.write(f"{key} = '{value}'\n")
    ctl = [find_bin("pg_ctl"), "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60", "start"]
    done = subprocess.run(_as_server_user(ctl), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        log = server.log.read_text() if server.log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{log}")
    deadline = time.monotonic() + 30
    while True:
        try:
            with server.connect():
                break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return server


@contextlib.contextmanager
def running(settings: dict[str, str] | None = None) -> Any:
    server = start(settings)
    try:
        yield server
    finally:
        server.stop()


def fresh_database(server: PgServer, request: Any) -> str:
    """A new empty database for one test, dropped when the test ends."""
    name = "t_" + uuid.uuid4().hex[:10]
    server.create_database(name)
    request.addfinalizer(lambda: server.drop_database(name))
    return name


WAREHOUSE_USER = "headrace_wh"
SOURCE_USER = "headrace_src"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "postgres.md"


def documented_grants(database: str, user: str, password: str) -> list[str]:
    """The statements docs/postgres.md tells users to run for the warehouse user, for ``database``
    and ``user``: the tests' warehouse user has exactly these rights."""
    text = DOCS.read_text()
    block = text.split("<!-- warehouse-grants", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    block = block.replace("change-me", password).replace("analytics", f'"{database}"')
    block = re.sub(r"\bheadrace\b", user, block)
    return [statement.strip() for statement in block.split(";") if statement.strip()]


def _has_role(con: Any, role: str) -> bool:
    return con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def warehouse_user(server: PgServer, database: str) -> str:
    """The warehouse login with the rights docs/postgres.md lists: CREATEROLE and CONNECT, CREATE,
    TEMPORARY on ``database``; not its owner, not a superuser (as on RDS, Cloud SQL, Flexible Server)."""
    with server.connect(database) as con:
        for statement in documented_grants(database, WAREHOUSE_USER, server.password):
            if statement.startswith("CREATE ROLE") and _has_role(con, WAREHOUSE_USER):
                continue  # roles are cluster-wide: created once per server
            con.execute(statement)
    return WAREHOUSE_USER


def source_user(server: PgServer, database: str) -> str:
    """A read-only source login, as docs/postgres.md asks: CONNECT on ``database``, USAGE on its
    ``public`` schema, SELECT on its tables (also those created later by the superuser)."""
    with server.connect(database) as con:
        if not _has_role(con, SOURCE_USER):
            con.execute(f"CREATE ROLE {SOURCE_USER} LOGIN PASSWORD '{server.password}'")
        con.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {SOURCE_USER}')
        con.execute(f"GRANT USAGE ON SCHEMA public TO {SOURCE_USER}")
        con.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {SOURCE_USER}")
        con.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {SUPERUSER} IN SCHEMA public GRANT SELECT ON TABLES TO {SOURCE_USER}"
        )
    return SOURCE_USER


def warehouse_block(server: PgServer, database: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A ``warehouse:`` block for project.yaml (password as a secret) and the env that resolves it."""
    user = warehouse_user(server, database)
    block = {"type": "postgres", **server.config(database, user=user), "password": "${secret:warehouse_password}"}
    return block, {"HEADRACE_SECRET_WAREHOUSE_PASSWORD": server.password}
