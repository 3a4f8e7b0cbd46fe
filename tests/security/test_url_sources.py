"""URL sources refuse link-local and cloud metadata addresses, also behind a redirect or a DNS name.

The refusal is decided on the address the connection uses (resolved once, then connected
to), so it holds for names that resolve there and for redirects; loopback stays allowed
(tests/httpserver.py serves on 127.0.0.1). ``security.allow_urls_to`` allows a network.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from pathlib import Path

import pytest
from headrace.urlguard import AddressRefused, UrlPolicy, open_url

from tests.helpers import headrace, run_ok, write_files
from tests.httpserver import serve

pytestmark = pytest.mark.integration

CSV = b"id,city\n1,Praha\n"


def url_project(root: Path, url: str, security: str = "") -> Path:
    return write_files(
        root,
        {
            "project.yaml": f"name: s\n{security}",
            "extractors/api.yaml": f"""
                type: file
                tables:
                  - name: cities
                    url: "{url}"
                    format: csv
                    columns: {{id: integer, city: string}}
                """,
        },
    )


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254"),
        ("http://metadata.google.internal/computeMetadata/v1/?recursive=true", "169.254.169.254"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254"),
        ("http://100.100.100.200/latest/meta-data/", "100.100.100.200"),
        ("http://[::ffff:169.254.169.254]/latest/", "169.254.169.254"),
        ("http://[64:ff9b::a9fe:a9fe]/latest/", "169.254.169.254"),
        ("http://[2002:a9fe:a9fe::1]/latest/", "169.254.169.254"),
        ("http://169.254.10.1:8080/x.csv", "169.254.10.1"),
        ("http://[fe80::1]/x.csv", "fe80::1"),
    ],
    ids=[
        "aws-metadata",
        "gcp-metadata-name",
        "aws-metadata-ipv6",
        "alibaba-metadata",
        "ipv4-mapped",
        "nat64",
        "6to4",
        "link-local",
        "ipv6-link-local",
    ],
)
def test_url_source_to_metadata_or_link_local_address_is_refused(
    tmp_path: Path, state_env: Path, url: str, address: str
) -> None:
    result = headrace("run", "--project", str(url_project(tmp_path / "p", url)))
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert f"{address} is a link-local or cloud metadata address; Headrace does not fetch URLs from it" in out
    assert "security.allow_urls_to in project.yaml" in out
    assert "Traceback" not in out


def test_validate_names_file_and_key_of_a_metadata_url(tmp_path: Path) -> None:
    result = headrace("validate", str(url_project(tmp_path / "p", "http://169.254.169.254/latest/meta-data/")))
    assert result.returncode == 2
    assert (
        "extractors/api.yaml:4: tables[0].url: 169.254.169.254: 169.254.169.254 is a link-local or cloud metadata "
        "address" in result.stderr
    )


def test_metadata_url_from_the_environment_is_refused_when_the_task_runs(tmp_path: Path, state_env: Path) -> None:
    """A reference validates without its value: the run refuses the address it resolves to."""
    project = url_project(tmp_path / "p", "${env:DATA_URL}")
    run_ok("validate", str(project))
    result = headrace("run", "--project", str(project), env={"DATA_URL": "http://169.254.169.254/latest/meta-data/"})
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "169.254.169.254 is a link-local or cloud metadata address" in out


def test_redirect_to_the_metadata_address_is_refused(tmp_path: Path, state_env: Path) -> None:
    redirect = {"Location": "http://169.254.169.254/latest/meta-data/"}
    with serve({"/cities.csv": lambda _h: (302, b"", redirect)}) as base:
        result = headrace("run", "--project", str(url_project(tmp_path / "p", f"{base}/cities.csv")))
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "169.254.169.254 is a link-local or cloud metadata address" in out


def test_redirect_to_a_file_url_is_not_followed(tmp_path: Path, state_env: Path) -> None:
    with serve({"/cities.csv": lambda _h: (302, b"", {"Location": "file:///etc/passwd"})}) as base:
        result = headrace("run", "--project", str(url_project(tmp_path / "p", f"{base}/cities.csv")))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "HTTP 302" in out
    assert "root:x:0:0" not in out


def test_loopback_source_and_redirects_within_it_still_load(tmp_path: Path, state_env: Path) -> None:
    routes = {"/old.csv": lambda _h: (301, b"", {"Location": "/cities.csv"}), "/cities.csv": lambda _h: (200, CSV)}
    with serve(routes) as base:
        result = run_ok("run", "--project", str(url_project(tmp_path / "p", f"{base}/old.csv")))
    assert "in_api.cities: 1 rows loaded" in result.stdout + result.stderr


def test_name_resolving_to_the_metadata_address_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS that answers a metadata address (rebinding): refused on the address, no connection made."""
    connected: list[object] = []

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
        assert host == "files.example.test"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connected.append(addr))
    with pytest.raises(AddressRefused, match=r"169\.254\.169\.254 is a link-local or cloud metadata address"):
        open_url(urllib.request.Request("http://files.example.test/data.csv"), 5)
    assert connected == []


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolved once: a second lookup that would answer 169.254.169.254 is never made."""
    answers = iter(["127.0.0.1", "169.254.169.254"])
    connected: list[object] = []

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    def fake_connect(self: socket.socket, address: object) -> None:
        connected.append(address)
        raise ConnectionRefusedError("test")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", fake_connect)
    with pytest.raises(OSError):
        UrlPolicy().connect(("rebind.example.test", 80), 5)
    assert connected == [("127.0.0.1", 80)]


def test_allow_list_lets_a_network_through() -> None:
    metadata = ipaddress.ip_address("169.254.169.254")
    assert UrlPolicy().refused(metadata)
    assert not UrlPolicy(["169.254.169.254/32"]).refused(metadata)
    assert UrlPolicy(["169.254.170.0/24"]).refused(metadata)
    assert not UrlPolicy().refused(ipaddress.ip_address("127.0.0.1"))
    assert not UrlPolicy().refused(ipaddress.ip_address("10.1.2.3"))


def test_allow_list_reaches_the_run_from_project_yaml(tmp_path: Path, state_env: Path) -> None:
    """With 127.0.0.0/8 refused nowhere, the list's effect shows in the manifest the task reads."""
    project = url_project(
        tmp_path / "p", "http://127.0.0.1:9/x.csv", "security:\n  allow_urls_to: [169.254.169.254/32]\n"
    )
    run_ok("compile", str(project))
    manifest = (project / ".headrace" / "manifest.json").read_text()
    assert '"allow_urls_to": [\n        "169.254.169.254/32"\n      ]' in manifest


def test_allow_list_entry_that_is_not_a_network_fails_validation(tmp_path: Path) -> None:
    project = url_project(tmp_path / "p", "http://127.0.0.1:9/x.csv", "security:\n  allow_urls_to: [metadata]\n")
    result = headrace("validate", str(project))
    assert result.returncode == 2
    assert "project.yaml:3: security.allow_urls_to[0]:" in result.stderr
