"""The page behind the "Headrace" navigation entry: the docs site of the current deployment.

Every response but the icon needs a user signed in to Airflow: the API server's own
``get_user`` reads the JWT of the ``_token`` cookie the UI sets (or a bearer token), and the auth
manager must allow the custom view ``Headrace`` (the simple auth manager allows every role from
viewer up). Without a user, a browser asking for a page is sent to Airflow's login page and
comes back after it; anything else gets 401.

Only regular files inside the site folder are served (``files.py``); dot files (the build
status, locks, scratch folders) never are. The site itself holds no secret: ``build_site``
keeps ``${secret:...}`` references and redacts every string it writes.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from headrace.orchestrator import settings
from headrace.orchestrator.plugin import current
from headrace.orchestrator.plugin.files import site_file

RESOURCE = "Headrace"
FRESH = ("", "index.html", "data.json")  # what a person or a script opens first: read live facts if stale
FORBIDDEN = "this Airflow user may not see the Headrace page"
HEADERS = {
    "Cache-Control": "no-cache",  # live facts change: the browser asks again, the server may answer 304
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "frame-ancestors 'self'",  # framed by the Airflow UI only
    "Referrer-Policy": "same-origin",
}
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#0d9488" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"><circle cx="5" cy="6" r="2.5"/><circle cx="5" cy="18" r="2.5"/>'
    '<circle cx="19" cy="12" r="2.5"/><path d="M7.5 6h4l5 5.5M7.5 18h4l5-5.5"/></svg>'
)


def require_viewer() -> Any:
    """A FastAPI dependency: Airflow's signed-in user, allowed to see the ``Headrace`` view."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user

    def check(user: Any = Depends(get_user)) -> None:
        if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name=RESOURCE, user=user):
            raise HTTPException(status_code=403, detail=FORBIDDEN)

    return check


async def _login_or_refuse(request: Request, exc: Exception) -> Response:
    """A browser loading a page without a valid sign-in goes to Airflow's login page, which sends it back."""
    assert isinstance(exc, HTTPException)
    not_signed_in = exc.status_code == 401 or (exc.status_code == 403 and exc.detail != FORBIDDEN)  # expired, forged
    if not_signed_in and request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        from airflow.api_fastapi.app import get_auth_manager

        return RedirectResponse(get_auth_manager().get_url_login(next_url=_back_here(request)), status_code=303)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=HEADERS)


def _back_here(request: Request) -> str:
    """Where the login page sends the user back: a path on this server, never a host taken from the request."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def create_app() -> FastAPI:
    app = FastAPI(title="Headrace", docs_url=None, redoc_url=None, openapi_url=None)
    if state := settings.state_dir():  # where tasks write the warehouse; set once, not per build thread
        os.environ.setdefault("HEADRACE_STATE_DIR", state)
    app.add_exception_handler(HTTPException, _login_or_refuse)
    signed_in = [Depends(require_viewer())]
    refreshing = threading.Lock()

    @app.get("/icon.svg", include_in_schema=False)
    def icon() -> Response:
        """The navigation entry's icon: public, like Airflow's own static files."""
        return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    @app.get("/", dependencies=signed_in, include_in_schema=False)
    def index() -> Response:
        return page("index.html")

    @app.get("/{path:path}", dependencies=signed_in, include_in_schema=False)
    def page(path: str) -> Response:
        deployment = current.deployment()
        if deployment is None:
            return HTMLResponse(current.NOTHING_DEPLOYED, headers=HEADERS)
        site = current.ensure_site(deployment)
        if path in FRESH:
            current.refresh(deployment, refreshing)
        if path in ("", "index.html"):
            return HTMLResponse(current.index_with_status(site, deployment), headers=HEADERS)
        found = site_file(site, path)
        if found is None:
            raise HTTPException(status_code=404, detail="no such page")
        return FileResponse(found, headers=HEADERS)

    return app
