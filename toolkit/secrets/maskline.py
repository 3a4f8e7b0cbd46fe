"""The mask channel: a task process tells its parent which fetched values to redact, sealed.

A parent (``headrace run``'s executor, the Airflow operator) redacts the output of the task
process it started. For backends whose look-ups are paid network calls it must not fetch
every secret a second time, so the task process reports each value it fetched, at once
and before the value is used, as one output line ``HEADRACE_MASK <token>``. The token is
the value sealed with a key the parent made for this task process alone and passed in
``HEADRACE_MASK_KEY`` (never printed): HMAC-SHA256 in counter mode as the key stream and
an HMAC-SHA256 tag over nonce and ciphertext (encrypt-then-MAC, stdlib only). The parent
takes such lines out of the stream (``MaskChannel.take``), never shows them, and
remembers the value for redaction. A task started by hand (no key) sends nothing.

The task process removes the key from its environment when it reads it, so processes it
starts (an extractor container, dbt) cannot send lines that pass as its own.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from collections.abc import Callable

MASK_PREFIX = "HEADRACE_MASK "
MASK_KEY_ENV = "HEADRACE_MASK_KEY"
_NONCE = 16
_TAG = 16


def new_key() -> str:
    return secrets.token_hex(32)


def _keys(key_hex: str) -> tuple[bytes, bytes]:
    key = bytes.fromhex(key_hex)
    return hmac.digest(key, b"headrace-mask-enc", "sha256"), hmac.digest(key, b"headrace-mask-mac", "sha256")


def _stream(key: bytes, nonce: bytes, size: int) -> bytes:
    blocks = (hmac.digest(key, nonce + i.to_bytes(8, "big"), "sha256") for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def seal(key_hex: str, value: str) -> str:
    enc, mac = _keys(key_hex)
    nonce = secrets.token_bytes(_NONCE)
    plain = value.encode("utf-8")
    cipher = bytes(a ^ b for a, b in zip(plain, _stream(enc, nonce, len(plain)), strict=True))
    tag = hmac.digest(mac, nonce + cipher, "sha256")[:_TAG]
    return base64.b64encode(nonce + cipher + tag).decode("ascii")


def unseal(key_hex: str, token: str) -> str | None:
    """The sealed value, or None when the token was not sealed with this key (forged, cut, other task)."""
    enc, mac = _keys(key_hex)
    try:
        raw = base64.b64decode(token.strip(), validate=True)
    except ValueError:
        return None
    if len(raw) < _NONCE + _TAG:
        return None
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, hmac.digest(mac, nonce + cipher, "sha256")[:_TAG]):
        return None
    plain = bytes(a ^ b for a, b in zip(cipher, _stream(enc, nonce, len(cipher)), strict=True))
    return plain.decode("utf-8", errors="replace")


_task_key: list[str | None] = []


def task_key() -> str | None:
    """This task process's key (read once and removed from the environment), or None."""
    if not _task_key:
        _task_key.append(os.environ.pop(MASK_KEY_ENV, None) or None)
    return _task_key[0]


def report(value: str) -> None:
    """Tell the parent to redact ``value`` (a no-op in a process no parent gave a key)."""
    key = task_key()
    if key is not None:
        from headrace.redaction import write_whole_line

        write_whole_line(f"{MASK_PREFIX}{seal(key, value)}\n")


class MaskChannel:
    """The parent's end: a key for one task process and the filter for its output lines.

    ``on_value`` is also called with each value taken (the operator hands it to Airflow's
    secrets masker)."""

    def __init__(self, on_value: Callable[[str], None] | None = None) -> None:
        self.key = new_key()
        self.on_value = on_value

    def env(self) -> dict[str, str]:
        return {MASK_KEY_ENV: self.key}

    def take(self, line: str) -> bool:
        """True if ``line`` was this task's mask line (remembered for redaction, not to be shown).

        A line that only looks like one (not sealed with this key) is shown like any other
        line: output cannot hide itself behind the prefix."""
        if not line.startswith(MASK_PREFIX):
            return False
        value = unseal(self.key, line[len(MASK_PREFIX) :])
        if value is None:
            return False
        from headrace.redaction import remember

        remember(value)
        if self.on_value is not None:
            self.on_value(value)
        return True
