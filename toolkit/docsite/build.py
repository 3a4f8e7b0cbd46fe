"""Write the site: index.html (the lineage picture inline), site.js, site.css, data.js, data.json."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from headrace.docsite.data import site_data
from headrace.docsite.layout import svg
from headrace.docsite.stats import Stats, read_stats
from headrace.docsite.stored import stored_columns
from headrace.lineage import build_lineage
from headrace.project.manifest import read_manifest

ASSETS = ("site.js", "site.css")


def build_site(manifest_path: Path, project_dir: Path, out_dir: Path, with_warehouse: bool = True) -> Path:
    """Build the static docs site of a compiled project into ``out_dir``; return ``out_dir/index.html``.

    - ``manifest_path``: the compiled manifest (``headrace compile``; read with ``read_manifest``,
      a ``ConfigError`` when missing or of another version).
    - ``project_dir``: the project folder (secrets' settings, the state folder ``.headrace/``).
    - ``out_dir``: created if missing; the files written are replaced (``index.html``,
      ``site.js``, ``site.css``, ``data.js``, ``data.json``), nothing else in it is touched.
    - ``with_warehouse``: read columns, row counts and freshness from the warehouse (and extracted
      tables' columns from their newest ``schema.json`` in storage). A warehouse
      that cannot be read (a locked DuckDB file, a server that is down) gives a site without them
      and a visible note, never an exception.

    The site is self-contained (no CDN, no network): it works opened from ``file://`` and served
    over HTTP from any path prefix (links are relative). Secrets appear only as ``${secret:...}``
    references. Safe to call from a web server's process: it prints nothing.
    """
    manifest = read_manifest(manifest_path)
    graph = build_lineage(manifest)
    if with_warehouse:
        stats = read_stats(manifest, project_dir, [n.id for n in graph.nodes.values() if n.kind == "table"])
        stats.stored = stored_columns(manifest, project_dir)
        known = {t: [c for c, _ in cols] for t, cols in (stats.stored | stats.columns).items()}
        graph = build_lineage(manifest, known)  # SELECT * over inputs whose columns only these tell
    else:
        stats = Stats(note="built without the warehouse (--no-warehouse): no live row counts or freshness")
    data = site_data(manifest, graph, stats)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, ensure_ascii=False, default=str)
    _write(out_dir / "data.json", text + "\n")
    _write(out_dir / "data.js", "window.HEADRACE_DOCS = " + text.replace("</", "<\\/") + ";\n")
    assets = resources.files("headrace.docsite") / "assets"
    for name in ASSETS:
        _write(out_dir / name, (assets / name).read_text(encoding="utf-8"))
    page = (assets / "index.html").read_text(encoding="utf-8")
    from html import escape

    from headrace.secrets import redact

    page = page.replace("{{TITLE}}", escape(manifest.project.name)).replace("{{SVG}}", redact(svg(graph)))
    index = out_dir / "index.html"
    _write(index, page)
    return index


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
