"""``headrace validate`` never prints a traceback: malformed variants of the example project's files.

Each variant is validated in-process (fast) and must end in ``ProjectInvalid`` (what the CLI
prints with exit code 2) or, for variants that may be valid (an empty optional file), load;
any other exception is a defect. A few go through the real CLI too. A file of mode 000 is
not tried: the tests run as root, which reads it anyway.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from headrace.errors import ProjectInvalid
from headrace.project.loader import load_project

from tests.helpers import TEMPLATE
from tests.security.hostile import example, validate

pytestmark = pytest.mark.unit

FILES = sorted(
    p.relative_to(TEMPLATE).as_posix()
    for p in [*TEMPLATE.glob("*.yaml"), *TEMPLATE.glob("extractors/*.yaml"), *TEMPLATE.glob("transformations/*/*.yaml")]
)
Loc = tuple[str | int, ...]


def outcome(root: Path) -> str:
    """ "invalid" or "valid"; any other exception fails the test with its traceback."""
    try:
        load_project(root)
    except ProjectInvalid as exc:
        assert exc.errors, "an invalid project names at least one error"
        return "invalid"
    return "valid"


def locations(data: Any, loc: Loc = ()) -> Iterator[Loc]:
    """Every key path of a parsed file, parents before children."""
    yield loc
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        yield from locations(value, (*loc, key))


def replaced(data: Any, loc: Loc, value: Any) -> Any:
    if not loc:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[loc[0]] = replaced(copy[loc[0]], loc[1:], value)  # type: ignore[index]
    return copy


WRONG_VALUES: dict[str, Any] = {
    "mapping": {"zz_unexpected": 1},
    "nested-list": [[["x"]]],
    "huge-number": 10**30,
}


@pytest.mark.parametrize("kind", sorted(WRONG_VALUES))
@pytest.mark.parametrize("file", FILES)
def test_a_wrong_type_at_every_level_is_a_project_error(tmp_path: Path, file: str, kind: str) -> None:
    data = yaml.safe_load((TEMPLATE / file).read_text())
    root = example(tmp_path)
    tried = 0
    for loc in locations(data):
        (root / file).write_text(yaml.safe_dump(replaced(data, loc, WRONG_VALUES[kind]), sort_keys=False))
        assert outcome(root) == "invalid", f"{file}: {loc} = {WRONG_VALUES[kind]!r} validated"
        tried += 1
    assert tried > 3


Mutation = Callable[[bytes], bytes | None]  # the file's new bytes; None: replace the file by a folder


def _truncate(fraction: float) -> Mutation:
    return lambda text: text[: int(len(text) * fraction)]


MUST_FAIL: dict[str, Mutation] = {
    "binary-garbage": lambda _t: b"\xff\xfe\x00" + random.Random(7).randbytes(300),
    "random-bytes-after-text": lambda t: t + random.Random(8).randbytes(64) + b"\xff",
    "unclosed-flow": lambda t: t + b"\nzz: [1, {a: 2\n",
    "tab-indentation": lambda t: t.replace(b"\n  ", b"\n\t", 1) + b"\nzz:\n\t- 1\n",
    "huge-integer": lambda t: t + b"\nzz: " + b"7" * 5000 + b"\n",
    "huge-float": lambda t: t + b"\nzz: 1.0e400\n",
    "top-level-list": lambda t: b"- " + t.replace(b"\n", b"\n  "),
    "top-level-scalar": lambda _t: b"just some words\n",
    "deep-nesting": lambda t: t + b"\nzz: " + b"[" * 200 + b"]" * 200 + b"\n",
    "alias-bomb": lambda t: (
        t
        + b"\nzz: &a [x, x, x, x, x, x, x, x]\n"
        + b"".join(f"z{i}: &a{i} [{', '.join(['*a' if i == 0 else f'*a{i - 1}'] * 8)}]\n".encode() for i in range(9))
    ),
    "custom-tag": lambda t: t + b"\nzz: !!python/object/apply:os.system [echo hi]\n",
    "merge-key": lambda t: t + b"\nbase: &b {x: 1}\nzz: {<<: *b}\n",
    "duplicate-key": lambda t: t + t.split(b"\n", 3)[-1][:0] + b"\nzz: 1\nzz: 2\n",
    "zero-width-key": lambda t: t + "\nna\u200bme: x\n".encode(),
    "rtl-override-and-emoji-key": lambda t: t + "\n\u202egnp.exe\U0001f600: x\n".encode(),
    "utf16": lambda t: t.decode().encode("utf-16"),
    "latin1": lambda t: t + "\nzz: caf\xe9\n".encode("latin-1"),
    "nul-byte": lambda t: t[:10] + b"\x00" + t[10:],
    "control-character": lambda t: t + b"\nzz: \x1b[31m\n",
    "lone-surrogate-escape": lambda t: t + b'\nzz: "\\ud800"\n',
    "oversized": lambda t: t + b"#" * (1024 * 1024),
    "a-folder": lambda _t: None,
}
MAY_PASS: dict[str, Mutation] = {
    "empty": lambda _t: b"",
    "only-a-comment": lambda _t: b"# nothing here\n",
    "bom": lambda t: b"\xef\xbb\xbf" + t,
    "crlf": lambda t: t.replace(b"\n", b"\r\n"),
    "truncated-third": _truncate(1 / 3),
    "truncated-half": _truncate(1 / 2),
    "truncated-two-thirds": _truncate(2 / 3),
    "line-separators": lambda t: t + "\n# \u2028\u2029\x85\n".encode(),
}


def _apply(root: Path, file: str, mutation: Mutation) -> None:
    path = root / file
    new = mutation(path.read_bytes())
    if new is None:
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes(new)


@pytest.mark.parametrize("name", sorted(MUST_FAIL))
def test_malformed_file_is_a_project_error(tmp_path: Path, name: str) -> None:
    for index, file in enumerate(FILES):
        root = example(tmp_path / str(index))
        _apply(root, file, MUST_FAIL[name])
        assert outcome(root) == "invalid", f"{file} with {name} validated"


@pytest.mark.parametrize("name", sorted(MAY_PASS))
def test_odd_but_possibly_valid_file_never_crashes(tmp_path: Path, name: str) -> None:
    for index, file in enumerate(FILES):
        root = example(tmp_path / str(index))
        _apply(root, file, MAY_PASS[name])
        outcome(root)  # valid or a project error: never another exception


@pytest.mark.parametrize("name", ["binary-garbage", "a-folder", "truncated-half"])
def test_malformed_project_yaml_through_the_real_cli(tmp_path: Path, name: str) -> None:
    root = example(tmp_path)
    _apply(root, "project.yaml", {**MUST_FAIL, **MAY_PASS}[name])
    result = validate(root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "project.yaml" in result.stderr
