"""A long S3 download that breaks off mid-object continues where it stopped, from the same version.

moto never drops a connection, so this is asserted at the HTTP boundary: a local HTTP server
plays S3's GetObject, sends the first request's body only half and closes the connection, then
answers the ranged retry; the real boto3 client is pointed at it. What the server saw is asserted.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.storage.backends import open_config, s3_config

pytestmark = pytest.mark.integration

DATA = os.urandom(3 * 1024 * 1024 + 17)
ETAG = '"' + hashlib.md5(DATA).hexdigest() + '"'


@contextmanager
def flaky_s3(cuts: int) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The first ``cuts`` GETs send half of what they promise, then hang up; the others answer in full."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            start = int(self.headers.get("Range", "bytes=0-")[len("bytes=") :].rstrip("-"))
            body = DATA[start:]
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", ETAG)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(DATA) - 1}/{len(DATA)}")
            self.end_headers()
            if len(seen) <= cuts:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_broken_off_download_resumes_with_a_ranged_get_of_the_same_version(tmp_path: Path) -> None:
    with flaky_s3(cuts=2) as (url, seen):
        storage = open_config(s3_config(url, "p"), tmp_path)
        with storage.open("raw/a/t/r1/part-00000.csv.gz") as stream:
            assert stream.read() == DATA
    assert len(seen) == 3
    assert "range" not in seen[0]
    half = len(DATA) // 2
    assert seen[1]["range"] == f"bytes={half}-" and seen[1]["if-match"] == ETAG
    assert seen[2]["range"] == f"bytes={half + (len(DATA) - half) // 2}-" and seen[2]["if-match"] == ETAG


def test_a_download_that_keeps_breaking_off_fails_as_transient(tmp_path: Path) -> None:
    from headrace.errors import TransientError

    with flaky_s3(cuts=10) as (url, _):
        storage = open_config(s3_config(url, "p"), tmp_path)
        with pytest.raises(TransientError, match="broke off 4 times"), storage.open("raw/a/t/r1/x") as stream:
            stream.read()
