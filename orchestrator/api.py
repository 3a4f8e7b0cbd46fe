"""A small client for Airflow 3's REST API (``/auth/token``, ``/api/v2``), standard library only.

Used by ``headrace airflow up`` to wait until Airflow serves the project's DAGs, by
``headrace airflow trigger``, and by the tests.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

FINISHED = {"success", "failed"}


class ApiError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class AirflowApi:
    def __init__(self, base_url: str, username: str = "admin", password: str | None = None, timeout_s: float = 30):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout_s = timeout_s
        self._token: str | None = None

    def _send(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode(errors="replace")[:500]) from None
        text = raw.decode(errors="replace")
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text

    def health(self) -> dict[str, Any]:
        return self._send("GET", "/api/v2/monitor/health")

    def is_healthy(self) -> bool:
        try:
            health = self.health()
        except (OSError, ApiError):
            return False
        parts = ("metadatabase", "scheduler", "dag_processor")
        return all((health.get(p) or {}).get("status") == "healthy" for p in parts if p in health)

    def token(self) -> str:
        token = self._token
        if token is None:
            answer = self._send("POST", "/auth/token", {"username": self.username, "password": self.password})
            token = self._token = str(answer["access_token"])
        return token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self._send(method, path, body, self.token())
        except ApiError as exc:
            if exc.status != 401:
                raise
            self._token = None  # expired: log in again once
            return self._send(method, path, body, self.token())

    def dag_ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            page = self.call("GET", f"/api/v2/dags?limit=100&offset={offset}")
            found |= {d["dag_id"] for d in page["dags"]}
            offset += 100
            if offset >= page["total_entries"]:
                return found

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.call(
            "POST", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        return run["dag_run_id"]

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns/{urllib.parse.quote(run_id)}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float, poll_s: float = 2.0) -> str:
        """The run's final state (``success``/``failed``); raises TimeoutError if it does not finish."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.dag_run(dag_id, run_id)["state"]
            if state in FINISHED:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {run_id} is still {state} after {timeout_s:.0f} s")
            time.sleep(poll_s)

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, str]:
        path = f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances"
        return {ti["task_id"]: ti["state"] for ti in self.call("GET", path)["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task's log as text, as the UI shows it.

        Airflow 3 returns structured events: their messages are joined, and the exception that
        ended a try (kept apart, in ``error_detail``) is added as ``Type: message``.
        """
        path = (
            f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns/{urllib.parse.quote(run_id)}"
            f"/taskInstances/{urllib.parse.quote(task_id)}/logs/{try_number}?full_content=true"
        )
        answer = self.call("GET", path)
        content = answer.get("content") if isinstance(answer, dict) else answer
        if isinstance(content, list):
            return "\n".join(_log_line(item) for item in content)
        return str(content)


def _log_line(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    lines = [str(item.get("event", ""))]
    for error in item.get("error_detail") or []:
        if isinstance(error, dict):
            lines.append(f"{error.get('exc_type')}: {error.get('exc_value')}")
    return "\n".join(lines)
