"""The one redaction point: every form of a remembered value, however the text is cut."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from headrace.redaction import MIN_REDACT, RedactingStream, redact, remember

pytestmark = pytest.mark.unit


def test_password_in_a_connection_url_is_redacted_in_its_percent_encoded_form() -> None:
    remember("p@ss/w0rd+Url")
    url = f"postgresql://bob:{quote('p@ss/w0rd+Url', safe='')}@db:5432/x"
    assert redact(url) == "postgresql://bob:***@db:5432/x"


def test_value_inside_a_json_line_or_a_repr_is_redacted() -> None:
    remember('quo"te\\Secret')
    assert "Secret" not in redact(json.dumps({"error": 'failed with quo"te\\Secret'}))
    assert "Secret" not in redact(repr(ValueError('quo"te\\Secret')))


def test_secret_written_in_pieces_is_redacted_before_the_line_leaves() -> None:
    remember("Piecewise-S3cret")
    raw = io.StringIO()
    stream = RedactingStream(raw)
    for piece in ("token=Piece", "wise-S3", "cret done\nnext "):
        stream.write(piece)
    assert raw.getvalue() == "token=*** done\n"
    stream.flush()
    assert raw.getvalue() == "token=*** done\nnext "


def test_multiline_secret_is_redacted_line_by_line() -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END KEY-----"
    remember(key)
    printed = "\n".join(f"[task] {line}" for line in f"loaded key {key} ok".splitlines())
    assert "MIIEvQ" not in redact(printed) and "AQEFAA" not in redact(printed)
    assert redact(f"key={key}") == "key=***"


def test_values_shorter_than_the_minimum_are_not_redacted() -> None:
    """A port or a flag as ``${env:...}`` would garble every number in the output and hide nothing."""
    remember("5432")
    remember("x" * MIN_REDACT)
    assert redact("port 5432") == "port 5432"
    assert redact("x" * MIN_REDACT) == "***"
