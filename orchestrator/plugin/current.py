"""The site the page shows: that of the deployment ``current`` points at, kept fresh on request.

Live facts are read when someone looks, at most once per ``sitebuild.refresh_s()``: opening the
page when they are older rebuilds them in a thread and waits up to ``REFRESH_WAIT_S`` for it
(then serves what is at hand and lets the build finish). One build per API-server worker at a
time, and a file lock makes it one per deployment. A warehouse that cannot be read keeps the
last build that could, and the page says when that was.
"""

from __future__ import annotations

import threading
import time
from html import escape
from pathlib import Path

from headrace.orchestrator import settings, sitebuild

NOTHING_DEPLOYED = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Headrace</title></head>"
    "<body style='font-family:sans-serif;margin:2rem'><h2>Nothing is deployed yet</h2>"
    "<p>Run the <code>project_update</code> DAG (or <code>headrace airflow up</code>): the page shows the "
    "tables and lineage of the version it deploys.</p></body></html>"
)
REFRESH_WAIT_S = 5.0  # a DuckDB read takes well under a second; a slow server must not hold the page
STATUS_STYLE = (
    "font:12px/1.6 sans-serif;color:#475569;background:#f1f5f9;padding:2px 12px;border-bottom:1px solid #e2e8f0"
)


def deployment() -> Path | None:
    """The deployment that runs: ``$HEADRACE_HOME/current`` (or the project of ``HEADRACE_MANIFEST``)."""
    try:
        where = settings.locate_manifest()
    except LookupError:
        return None
    return where.project_dir if where.manifest.is_file() else None


def ensure_site(deployment: Path) -> Path:
    """The site folder, built now if the deployment has none yet (deployed before the plugin existed)."""
    site = sitebuild.site_dir(deployment)
    if not (site / "index.html").is_file():
        sitebuild.build(deployment)
    return site


def refresh(deployment: Path, running: threading.Lock, wait_s: float = REFRESH_WAIT_S) -> None:
    """Rebuild stale live facts; wait up to ``wait_s`` for them, else let the build finish in the background."""
    if sitebuild.status(deployment).age_s < sitebuild.refresh_s() or not running.acquire(blocking=False):
        return

    def work() -> None:
        try:
            sitebuild.build(deployment, wait=False)
        except Exception:  # the page keeps the last build; the next request tries again
            pass
        finally:
            running.release()

    worker = threading.Thread(target=work, name="headrace-docs-refresh", daemon=True)
    worker.start()
    worker.join(wait_s)


def _clock(at: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at)) if at else "never"


def status_line(deployment: Path) -> str:
    state = sitebuild.status(deployment)
    text = f"Deployed version {escape(deployment.name[:12])} · "
    if state.live:
        text += f"row counts and freshness read at {_clock(state.built_at)}"
    else:
        text += f"built at {_clock(state.built_at)} without live row counts"
    if state.tried_note:
        text += f" · the warehouse could not be read at {_clock(state.tried_at)} ({escape(state.tried_note)})"
    text += f" · refreshed when the page is opened, at most every {sitebuild.refresh_s():.0f} s"
    return f'<div id="headrace-airflow-status" style="{STATUS_STYLE}">{text}</div>'


def index_with_status(site: Path, deployment: Path) -> str:
    page = (site / "index.html").read_text(encoding="utf-8")
    return page.replace("<body>", "<body>\n" + status_line(deployment), 1)
