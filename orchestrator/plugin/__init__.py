"""The Airflow plugin: a "Headrace" entry in the Airflow UI's navigation that shows the docs site
(tables, lineage, freshness) of the deployed version, behind Airflow's login.

Registered with the ``airflow.plugins`` entry point (pyproject.toml), so every Airflow that has
Headrace installed finds it; nothing is copied into Airflow's plugins folder. The page is a
FastAPI app mounted by the API server under ``/headrace`` (``app.py``); the navigation entry is an
external view that the UI opens in a frame at ``/plugin/headrace``.

Every Airflow component imports this module when it loads plugins (task processes too), so it
stays light: the FastAPI app, and the API server's security code it uses, are built only when
the API server asks for ``fastapi_apps``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/headrace"
NAV_ROUTE = "headrace"  # the UI shows the page at /plugin/headrace


class HeadracePlugin(AirflowPlugin):
    name = "headrace"
    external_views = [
        {
            "name": "Headrace",
            "href": URL_PREFIX + "/",
            "url_route": NAV_ROUTE,
            "destination": "nav",
            "nav_top_level": True,
            "icon": URL_PREFIX + "/icon.svg",
        }
    ]

    @cached_property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from headrace.orchestrator.plugin.app import create_app

        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Headrace docs"}]
