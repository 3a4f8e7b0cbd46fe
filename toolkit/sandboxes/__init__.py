"""Analysts' personal sandboxes (docs/sandboxes.md): ``headrace sandbox create|run|drop|list|sweep``.

``actions`` names a sandbox once (``sb_<user>__<transformation>``), keeps the registry in
``headrace_meta.sandboxes`` (``registry``) and calls the warehouse's own sandbox methods, which
decide how a sandbox is confined (``Warehouse.create_sandbox`` and friends).
"""
