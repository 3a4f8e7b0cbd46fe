"""``headrace docs``: a static site of the project's tables, components and lineage.

``build_site`` is the contract with the Airflow plugin (``headrace.orchestrator``), which
serves the folder it writes behind Airflow's login.
"""

from __future__ import annotations

from headrace.docsite.build import build_site

__all__ = ["build_site"]
