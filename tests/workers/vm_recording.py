"""A recording HTTP server on 127.0.0.1: the boundary of a cloud SDK the tests point at it.

``answer(request)`` returns (status, JSON body, extra headers); every request is kept in
``requests`` (method, path with query, headers, body) for the test to assert on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Recorder:
    url: str
    requests: list[Request] = field(default_factory=list)

    def calls(self, prefix: str = "") -> list[str]:
        """``METHOD route`` of each request whose route starts with ``prefix``."""
        return [f"{r.method} {r.route}" for r in self.requests if r.route.startswith(prefix)]


@contextmanager
def recording(answer: Callable[[Request], Answer]) -> Iterator[Recorder]:
    recorder = Recorder("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request(self.command, self.path, headers, self.rfile.read(length))
            with lock:
                recorder.requests.append(request)
                status, body, headers = answer(request)
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
