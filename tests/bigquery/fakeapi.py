"""A local recording HTTP server answering like the BigQuery REST API (v2), for what crucible
cannot show: the real google-cloud-bigquery SDK is pointed at it and the tests read the requests
it sent. It keeps datasets, tables and jobs in memory and answers every query with one row
(``answer``); it runs nothing."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PATH = re.compile(r"^/bigquery/v2/projects/([^/]+)/(.*)$")


@dataclass
class Recorded:
    method: str
    path: str
    body: Any


@dataclass
class FakeBigQuery:
    endpoint: str = ""
    requests: list[Recorded] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # "dataset.table" -> resource
    answer: str = "0"  # the one value every count(*) query returns; other queries return no rows

    def inserted_jobs(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.method == "POST" and r.path.endswith("/jobs") and r.body]

    def queries(self) -> list[str]:
        return [j["configuration"]["query"]["query"] for j in self.inserted_jobs() if "query" in j["configuration"]]

    def patches(self, dataset: str) -> list[dict[str, Any]]:
        return [
            r.body for r in self.requests if r.method in ("PATCH", "PUT") and r.path.endswith(f"/datasets/{dataset}")
        ]

    def seed_job(
        self, project: str, job_id: str, error: str | None = None, labels: dict[str, str] | None = None
    ) -> None:
        status: dict[str, Any] = {"state": "DONE"}
        if error:
            status["errorResult"] = {"reason": "invalid", "message": error}
        self.jobs[job_id] = {
            "jobReference": {"projectId": project, "jobId": job_id, "location": "US"},
            "configuration": {"query": {"query": "SELECT 1"}, "labels": labels or {}},
            "status": status,
            "statistics": {"creationTime": "1", "startTime": "1", "endTime": "2"},
        }


@contextmanager
def serve() -> Iterator[FakeBigQuery]:
    fake = FakeBigQuery()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            path = self.path.split("?")[0]
            fake.requests.append(Recorded(self.command, path, body))
            match = _PATH.match(path)
            if not match:
                return self._send(404, {"error": {"code": 404, "message": f"no route {path}"}})
            project, rest = match.groups()
            parts = rest.split("/")
            if parts[0] == "jobs":
                return self._jobs(project, parts, body)
            if parts[0] == "queries" and len(parts) == 2:
                job = fake.jobs.get(parts[1])
                if job is None:
                    return self._send(404, {"error": {"code": 404, "message": "job not found"}})
                counts = "count(*)" in job["configuration"].get("query", {}).get("query", "")
                return self._send(
                    200,
                    {
                        "kind": "bigquery#getQueryResultsResponse",
                        "jobReference": job["jobReference"],
                        "jobComplete": True,
                        "schema": {"fields": [{"name": "f0_", "type": "STRING", "mode": "NULLABLE"}]},
                        "totalRows": "1" if counts else "0",
                        "rows": [{"f": [{"v": fake.answer}]}] if counts else [],
                    },
                )
            if parts[0] == "datasets":
                return self._datasets(project, parts, body)
            return self._send(404, {"error": {"code": 404, "message": f"no route {path}"}})

        def _jobs(self, project: str, parts: list[str], body: Any) -> None:
            if self.command == "POST" and len(parts) == 1:
                job_id = body["jobReference"]["jobId"]
                if job_id in fake.jobs:
                    return self._send(
                        409,
                        {
                            "error": {
                                "code": 409,
                                "message": f"Already Exists: Job {project}:US.{job_id}",
                                "errors": [{"reason": "duplicate", "message": "Already Exists"}],
                            }
                        },
                    )
                job = {
                    **body,
                    "jobReference": {**body["jobReference"], "projectId": project, "location": "US"},
                    "status": {"state": "DONE"},
                    "statistics": {
                        "creationTime": "1",
                        "startTime": "1",
                        "endTime": "2",
                        "query": {"numDmlAffectedRows": "0"},
                        "load": {"outputRows": "0"},
                    },
                }
                fake.jobs[job_id] = job
                return self._send(200, job)
            job = fake.jobs.get(parts[1]) if len(parts) > 1 else None
            if job is None:
                return self._send(404, {"error": {"code": 404, "message": "Not found: Job"}})
            return self._send(200, job)

        def _datasets(self, project: str, parts: list[str], body: Any) -> None:
            if len(parts) == 1 and self.command == "POST":
                name = body["datasetReference"]["datasetId"]
                if name in fake.datasets:
                    return self._send(409, {"error": {"code": 409, "message": "Already Exists: Dataset"}})
                fake.datasets[name] = {**body, "access": body.get("access", []), "etag": "e1"}
                return self._send(200, fake.datasets[name])
            if len(parts) == 1:
                return self._send(
                    200,
                    {"datasets": [{"datasetReference": {"projectId": project, "datasetId": d}} for d in fake.datasets]},
                )
            name = parts[1]
            if len(parts) == 2:
                if self.command == "DELETE":
                    fake.datasets.pop(name, None)
                    return self._send(204)
                if name not in fake.datasets:
                    return self._send(404, {"error": {"code": 404, "message": f"Not found: Dataset {name}"}})
                if self.command in ("PATCH", "PUT"):
                    fake.datasets[name] = {**fake.datasets[name], **body}
                return self._send(200, fake.datasets[name])
            if parts[2] == "tables" and len(parts) == 3:
                if self.command == "POST":
                    table = body["tableReference"]["tableId"]
                    fake.tables[f"{name}.{table}"] = body
                    return self._send(200, body)
                found = [t for k, t in fake.tables.items() if k.startswith(name + ".")]
                return self._send(200, {"tables": [{**t, "type": t.get("type", "TABLE")} for t in found]})
            key = f"{name}.{parts[3]}"
            if self.command == "DELETE":
                fake.tables.pop(key, None)
                return self._send(204)
            if key not in fake.tables:
                return self._send(404, {"error": {"code": 404, "message": f"Not found: Table {key}"}})
            return self._send(200, fake.tables[key])

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
