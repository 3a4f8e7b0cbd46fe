"""The Headrace worker image, built offline-capably: Debian's packages, then this wheel and PyPI.

1. The base ``headrace-base:bookworm``: a root filesystem made with
   ``debootstrap --variant=minbase`` (python3, python3-venv, ca-certificates) from Debian's
   mirror, cached as a tar file under ``~/.cache/headrace`` and imported on the engine
   (no registry is ever pulled from).
2. ``FROM`` that base (``worker.Dockerfile``, shipped in the package): a virtualenv with
   the wheel's dependencies and extras from PyPI under the repository's constraints (one
   layer, reused while they do not change), then the wheel itself (``--no-deps``).
   ``headrace`` is the entrypoint; the image is tagged ``WORKER_IMAGE`` and labelled with
   the wheel's sha256.

The wheel is ``--wheel PATH``, else ``HEADRACE_WHEEL``, else built from the source tree this
package runs from (a checkout). A TLS-intercepting proxy's CA bundle (``PIP_CERT``, as pip
takes it) is handed to pip during the build only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from headrace import __version__
from headrace.errors import ConfigError, TaskFailed
from headrace.workers.docker import WORKER_IMAGE

if TYPE_CHECKING:
    import docker

OnLine = Callable[[str], None]
SUITE = "bookworm"
BASE_IMAGE = f"headrace-base:{SUITE}"
MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# what a worker runs: PostgreSQL sources and warehouse, cloud storage, warehouses and secret managers
WORKER_EXTRAS = ("postgres", "aws", "gcp", "azure", "snowflake")
# the image's Python, for the markers of the wheel's requirements (Debian bookworm)
IMAGE_MARKERS = {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux",
                 "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
                 "platform_python_implementation": "CPython", "platform_machine": os.uname().machine}  # fmt: skip
LABEL_WHEEL = "headrace.wheel.sha256"


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "headrace"


def _stream(command: list[str], on_line: OnLine, what: str) -> None:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    tail: list[str] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip()
        tail = [*tail[-14:], line]
        on_line(line)
    if proc.wait() != 0:
        raise TaskFailed(f"{what} failed (exit {proc.returncode}):\n" + "\n".join(tail))


def rootfs_tar(on_line: OnLine) -> Path:
    """The cached minbase root filesystem (made with debootstrap on first use: needs root, ~1 min)."""
    target = cache_dir() / f"rootfs-{SUITE}-minbase.tar"
    if target.is_file():
        return target
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        raise ConfigError("debootstrap is missing: install it (apt-get install debootstrap) to build the worker image")
    if os.geteuid() != 0:
        raise ConfigError("debootstrap needs root to make the worker image's base: run the build as root (sudo)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="headrace-rootfs-") as tmp:
        root = Path(tmp) / "root"
        include = ",".join(BASE_PACKAGES)
        on_line(f"debootstrap --variant=minbase {SUITE} ({include}) from {MIRROR}")
        command = [debootstrap, "--variant=minbase", f"--include={include}", SUITE, str(root), MIRROR]
        _stream(command, on_line, "debootstrap")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = target.with_suffix(".partial")
        _stream(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], on_line, "tar of the rootfs")
        partial.replace(target)
    return target


def ensure_base(client: docker.DockerClient, on_line: OnLine) -> None:
    """``BASE_IMAGE`` on the engine: imported from the cached root filesystem when missing."""
    from headrace.workers.docker.image import has_image

    if has_image(client, BASE_IMAGE):
        return
    tar = rootfs_tar(on_line)
    on_line(f"importing {tar.name} as {BASE_IMAGE}")
    repository, tag = BASE_IMAGE.split(":")
    changes = ["ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]']
    client.api.import_image_from_file(str(tar), repository=repository, tag=tag, changes=changes)


def source_tree() -> Path | None:
    """The checkout this package runs from (an editable install), if it is one."""
    import headrace

    root = Path(headrace.__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "toolkit" / "__init__.py").is_file() else None


def build_wheel(out_dir: Path, on_line: OnLine) -> Path:
    """This version's wheel, built from the source tree (``uv build`` if there, else ``pip wheel``)."""
    root = source_tree()
    if root is None:
        raise ConfigError(
            "this Headrace is installed from a wheel, not a checkout: give the wheel "
            "(headrace worker build-image --wheel PATH, or HEADRACE_WHEEL=PATH)"
        )
    uv = shutil.which("uv")
    if uv:
        command = [uv, "build", "--wheel", "--out-dir", str(out_dir), str(root)]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out_dir), str(root)]
    on_line(f"building the wheel of {root}")
    _stream(command, on_line, "building the wheel")
    wheels = sorted(out_dir.glob("headrace-*.whl"))
    if not wheels:
        raise TaskFailed(f"building the wheel of {root} left no headrace-*.whl in {out_dir}")
    return wheels[-1]


def wheel_requirements(wheel: Path, extras: tuple[str, ...]) -> list[str]:
    """The wheel's requirements with ``extras`` (self-references followed), for the image's Python."""
    import zipfile

    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode("utf-8")
    declared = [
        Requirement(line.split(":", 1)[1].strip())
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    wanted, todo, out = set(), ["", *extras], []
    while todo:
        extra = todo.pop()
        if extra in wanted:
            continue
        wanted.add(extra)
        for req in declared:
            if req.marker is not None and not req.marker.evaluate({**IMAGE_MARKERS, "extra": extra}):
                continue
            if req.marker is None and extra:
                continue  # a base requirement, taken with extra ""
            if req.name == "headrace":
                todo += sorted(req.extras)
                continue
            line = f"{req.name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}{req.specifier}"
            if line not in out:
                out.append(line)
    return sorted(out)


def _ca_bundle() -> Path | None:
    for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    return None


def worker_context(folder: Path, wheel: Path) -> dict[str, str]:
    """Fill ``folder`` with the worker image's build context; returns the image's labels."""
    from importlib.resources import files

    (folder / "Dockerfile").write_bytes(files("headrace.workers.docker").joinpath("worker.Dockerfile").read_bytes())
    (folder / "wheel").mkdir()
    shutil.copy2(wheel, folder / "wheel" / wheel.name)
    (folder / "requirements.txt").write_text("\n".join(wheel_requirements(wheel, WORKER_EXTRAS)) + "\n")
    root = source_tree()
    constraints = root / "constraints.txt" if root else None
    (folder / "constraints.txt").write_text(constraints.read_text() if constraints and constraints.is_file() else "")
    ca = _ca_bundle()
    (folder / "pip-ca.crt").write_bytes(ca.read_bytes() if ca else b"")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return {LABEL_WHEEL: digest, "org.opencontainers.image.version": __version__, "headrace.wheel": wheel.name}


def build_worker_image(
    client: docker.DockerClient, on_line: OnLine, wheel: Path | None = None, tag: str = WORKER_IMAGE
) -> str:
    """Build the worker image on the engine (the base first if it is missing); returns its id."""
    from headrace.workers.docker.image import build_image

    ensure_base(client, on_line)
    given = wheel or (Path(os.environ["HEADRACE_WHEEL"]) if os.environ.get("HEADRACE_WHEEL") else None)
    if given is not None and not given.is_file():
        raise ConfigError(f"{given}: no such wheel (headrace worker build-image --wheel PATH)")
    with tempfile.TemporaryDirectory(prefix="headrace-image-") as tmp:
        folder = Path(tmp)
        if given is None:
            (folder / "dist").mkdir()
            given = build_wheel(folder / "dist", on_line)
        context = folder / "context"
        context.mkdir()
        labels = worker_context(context, given)
        on_line(f"building {tag} from {given.name} (sha256 {labels[LABEL_WHEEL][:12]}) on {BASE_IMAGE}")
        return build_image(client, context, tag, on_line, labels=labels, buildargs={"BASE": BASE_IMAGE})
