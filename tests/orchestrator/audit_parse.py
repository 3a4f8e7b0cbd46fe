"""Execute the DAG file under an audit hook; print what it did that parsing must not do.

``python audit_parse.py DAG_FILE``: Airflow is imported first (the DAG processor has it
loaded already); then every process start, socket use and file open during the file's
execution is recorded. Module imports (.py/.pyc/.so and the folders searched) are allowed, and
so is reading installed packages' metadata (the plugin registry's entry points: the warehouse's
and workers' capabilities decide pools and the sweeper DAG).
"""

from __future__ import annotations

import json
import os
import runpy
import sys

import airflow.sdk  # noqa: F401  (loaded before the hook, like in the DAG processor)
import croniter  # noqa: F401  (Airflow's cron timetables import it lazily; its import runs `file -b python`)

FORBIDDEN = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.spawn", "socket.connect")
MODULE_SUFFIXES = (".py", ".pyc", ".so", ".pth")
METADATA = (".dist-info", ".egg-info")
forbidden: list[str] = []
data_files: list[str] = []


def hook(event: str, args: tuple) -> None:
    if event.startswith(FORBIDDEN) or event == "socket.getaddrinfo":
        forbidden.append(f"{event} {args[:2]!r}")
    elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if not _package_file(path) and not os.path.isdir(path) and path not in data_files:
            data_files.append(path)


def _package_file(path: str) -> bool:
    """Modules, and the metadata of installed packages (the plugin registry reads their entry points)."""
    return path.endswith(MODULE_SUFFIXES) or any(m in path for m in METADATA) or path in sys.path


def main(dag_file: str) -> None:
    sys.addaudithook(hook)
    namespace = runpy.run_path(dag_file)
    from airflow.sdk import DAG

    dags = [v for v in namespace.values() if isinstance(v, DAG)]
    print(json.dumps({"dag_count": len(dags), "forbidden": forbidden, "data_files": data_files}))


if __name__ == "__main__":
    main(sys.argv[1])
