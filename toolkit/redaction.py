"""The one place secret values are blanked out of text that leaves a Headrace process.

Every value a process resolves (``${secret:...}``, ``${env:...}``, every value of the
secrets file as soon as it is read, a repository URL's password) is ``remember``-ed;
``install`` then wraps ``sys.stdout`` and ``sys.stderr`` so that everything the process
prints, logs or reports as an error (tracebacks included) passes ``redact`` first. Text
that leaves by another way (run history rows, Airflow task logs, the result line) calls
``redact`` where it is written.

What counts as the value: the value itself, its percent-encoded forms (a password in a
connection URL), its JSON- and repr-escaped forms (a value inside a JSON line or an
exception's repr), and, for a value of several lines (a PEM key), each of its lines on
its own, so output cut into lines never shows a piece of it.

Values shorter than ``MIN_REDACT`` characters are not redacted: blanking out every ``5432``
or ``true`` would garble the output while hiding nothing (such a value is no secret).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

MIN_REDACT = 6
MASK = "***"

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def forms(value: str) -> set[str]:
    """The ways ``value`` can appear in text (see the module docstring)."""
    found = {value, quote(value, safe=""), quote(value), quote_plus(value), json.dumps(value)[1:-1], repr(value)[1:-1]}
    if "\n" in value or "\r" in value:
        found |= {line.strip() for line in value.splitlines()}
    return {f for f in found if len(f) >= MIN_REDACT}


def remember(value: str) -> None:
    """From now on ``redact`` blanks ``value`` (in every form) out of text."""
    global _pattern
    new = forms(value) - _values
    if new:
        with _lock:
            _values.update(new)
            _pattern = None


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    with _lock:
        if _pattern is None and _values:
            _pattern = re.compile("|".join(re.escape(v) for v in sorted(_values, key=len, reverse=True)))
        return _pattern


def redact(text: str) -> str:
    """``text`` with every remembered value replaced by ``***``."""
    pattern = _compiled()
    return pattern.sub(MASK, text) if pattern is not None and text else text


class RedactingStream:
    """A text stream that redacts whole lines before they reach the stream it wraps.

    Writes are held until a line ends (or ``flush``), so a value written in pieces is
    still found; everything else (``fileno``, ``isatty``, ``encoding``) is the wrapped stream's.
    """

    def __init__(self, raw: TextIO):
        self.raw = raw
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" in self._pending:
                done, _, self._pending = self._pending.rpartition("\n")
                self.raw.write(redact(done + "\n"))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.raw.write(redact(self._pending))
                self._pending = ""
        self.raw.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def install() -> None:
    """Route this process's ``sys.stdout`` and ``sys.stderr`` through ``redact`` (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))


def known() -> list[str]:
    """Every remembered form (for handing to another redactor, such as Airflow's secrets masker)."""
    with _lock:
        return sorted(_values)


def write_whole_line(line: str) -> None:
    """Write ``line`` (ending in a newline, holding no secret) to stdout at once, ahead of any
    partial line other threads have pending: the mask channel's lines must start a line."""
    stream = sys.stdout
    if isinstance(stream, RedactingStream):
        with stream._lock:
            stream.raw.write(line)
            stream.raw.flush()
    else:
        stream.write(line)
        stream.flush()


def reveal(text: str) -> None:
    """Print ``text`` to stdout unredacted: only for a secret the user asked to see (``datamart credentials``)."""
    stream = sys.stdout
    stream.flush()
    raw = stream.raw if isinstance(stream, RedactingStream) else stream
    raw.write(text)
    raw.flush()
