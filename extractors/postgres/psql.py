"""One range of a table read by ``psql``: libpq's C COPY loop in a process of its own.

Python never touches a row here: ``psql`` receives the COPY stream and writes it to its stdout:
the part file itself when it is not compressed; otherwise a pipe that a thread copies in 1 MiB
blocks into the part file through the compressor (zlib and zstd release the GIL, so the ranges
of a table compress in parallel). The range joins the snapshot the extractor exported
(``SET TRANSACTION SNAPSHOT``), so all ranges and the incremental cursor are one point in time.

The password travels in ``PGPASSWORD`` (never on a command line); ``-X`` ignores any psqlrc. The
COPY's rows go to stdout with ``\\g``; the statements' status (``COPY <rows>``) goes to a file
of its own (``\\o``) and errors to another, both read afterwards. SQL that psql would read
differently from the server (a backslash, which starts a psql command, or a ``:name`` it could
substitute) is never sent this way: ``usable`` says so and the caller reads with psycopg.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headrace.connectors.postgres import SESSION
from headrace.errors import TaskFailed
from headrace.secrets import redact
from headrace.tablefiles import open_compressed

BLOCK = 1024 * 1024
_PSQL_SPECIAL = re.compile(r"\\|(?<!:):[A-Za-z_'\"]")
_ROWS = re.compile(r"^COPY (\d+)$", re.MULTILINE)
_ERROR = re.compile(r"(?:ERROR|FATAL):\s+(?:([0-9A-Z]{5}): )?(.*)")


class ValueProblem(TaskFailed):
    """The server could not turn a value into what was asked (SQLSTATE class 22, e.g. a cast)."""


def find() -> str | None:
    """The ``psql`` program, or None (the extractor then reads with psycopg, one stream)."""
    return shutil.which("psql")


def usable(sql: str) -> bool:
    """Whether ``sql`` means the same to psql as to the server."""
    return _PSQL_SPECIAL.search(sql) is None


@dataclass(frozen=True)
class RangeRead:
    select: str  # the SELECT whose rows this range writes
    copy_options: str  # e.g. "FORMAT csv" or "FORMAT binary"
    snapshot: str  # from pg_export_snapshot() of the extractor's transaction
    path: Path  # the part file to write
    compression: str  # gzip, zstd or none
    header: bytes  # written before the rows (a CSV header; nothing for binary COPY)


def _conninfo(settings: dict[str, Any], application: str) -> str:
    """The connection string for psql (no password: that travels in ``PGPASSWORD``)."""
    from psycopg.conninfo import make_conninfo  # quotes each value as libpq reads it

    return make_conninfo(
        host=settings["host"],
        port=settings.get("port") or 5432,
        dbname=settings["database"],
        user=settings["user"],
        sslmode=settings.get("sslmode") or "prefer",
        connect_timeout=settings.get("connect_timeout") or 15,
        application_name=application,
    )


def _script(read: RangeRead, status: Path) -> str:
    return "\n".join(
        [
            "\\set ON_ERROR_STOP 1",
            "\\set VERBOSITY verbose",
            f"\\o '{status}'",
            *(f"{statement};" for statement in SESSION),
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
            f"SET TRANSACTION SNAPSHOT '{read.snapshot}';",
            f"COPY ({read.select}\n) TO STDOUT WITH ({read.copy_options}) \\g /dev/stdout",
            "COMMIT;",
            "",
        ]
    )


def run(psql: str, settings: dict[str, Any], application: str, read: RangeRead, what: str) -> int:
    """Write the range's rows to ``read.path``; the number of rows. Raises ``TaskFailed``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "PGPASSWORD": str(settings.get("password") or ""),
        "PGCLIENTENCODING": "UTF8",
        "LC_ALL": "C.UTF-8",
    }
    plain = read.compression == "none"
    with (
        tempfile.TemporaryDirectory(prefix="headrace-psql-") as tmp,
        tempfile.TemporaryFile() as messages,
        read.path.open("wb") if plain else contextlib.nullcontext() as direct,
    ):
        status = Path(tmp) / "status"  # what \\o receives: BEGIN, SET, COPY <rows>, COMMIT
        if direct is not None:  # uncompressed: psql writes the part itself, after the header
            direct.write(read.header)
            direct.flush()
        proc = subprocess.Popen(
            [psql, "-X", "-f", "-", _conninfo(settings, application)],
            stdin=subprocess.PIPE,
            stdout=direct if direct is not None else subprocess.PIPE,
            stderr=messages,
            env=env,
        )
        assert proc.stdin is not None
        try:
            proc.stdin.write(_script(read, status).encode())
            proc.stdin.close()
            if proc.stdout is not None:
                with open_compressed(read.path, read.compression) as out:
                    out.write(read.header)
                    shutil.copyfileobj(proc.stdout, out, BLOCK)
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        messages.seek(0)
        said = messages.read().decode("utf-8", "replace")
        if status.is_file():
            said = status.read_text("utf-8", "replace") + said
    counted = _ROWS.findall(said)
    if code != 0 or not counted:
        error = _ERROR.search(said)
        why = error.group(2).strip() if error else (said.strip().splitlines() or [f"psql exited with {code}"])[-1]
        kind = ValueProblem if error and (error.group(1) or "").startswith("22") else TaskFailed
        raise kind(f"{what}: {redact(why)}")
    return int(counted[-1])
