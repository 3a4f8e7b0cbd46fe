"""A real HTTP server on 127.0.0.1 for URL sources, with per-path handlers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (status, body) or (status, body, extra headers), e.g. (302, b"", {"Location": "http://..."})
Handler = Callable[[BaseHTTPRequestHandler], tuple[int, bytes] | tuple[int, bytes, dict[str, str]]]


@contextmanager
def serve(routes: dict[str, Handler]) -> Iterator[str]:
    """Yield the base URL; each route returns (status, body) or (status, body, headers) for a GET."""

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            answer = routes[path](self) if path in routes else (404, b"not found")
            status, body, headers = (*answer, {})[:3]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
