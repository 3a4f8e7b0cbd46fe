"""BigQuery jobs with deterministic ids and labels.

A job's id comes from what it does (run id, table, step, part), never from the attempt, so a
retried task finds the jobs an earlier attempt started. Inserting a job whose id exists answers
409: the job is then looked at instead of started again. A job that still runs (its task was
killed, the job was not) is waited for; one that failed is superseded by the next id in a
deterministic sequence (``..._1``, ``..._2``); one that succeeded is taken as done. That is for
the step that commits a load (``reuse``), so a retry never loads twice; a staging step whose id
is taken simply runs under the next id (its tables are rebuilt by every attempt, and an upload
an earlier attempt never finished may hold its id).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

LABEL_MAX = 63
_LABEL_BAD = re.compile(r"[^a-z0-9_-]")
_ID_BAD = re.compile(r"[^A-Za-z0-9_-]")
MAX_ATTEMPTS = 50  # ids tried before giving up: more failed attempts than any retry policy makes


def label_value(value: str) -> str:
    """``value`` as a label value: lowercase letters, digits, ``_`` and ``-``, at most 63 characters
    (cut with a hash suffix, so different long values stay different)."""
    text = _LABEL_BAD.sub("_", value.lower())
    if len(text) <= LABEL_MAX:
        return text
    digest = hashlib.sha1(value.encode()).hexdigest()[:8]
    return text[: LABEL_MAX - 9] + "_" + digest


def labels(**values: str | None) -> dict[str, str]:
    """``headrace_<key>`` labels of a job (keys are already valid label keys)."""
    return {f"headrace_{k}": label_value(v) for k, v in values.items() if v}


def job_id(*parts: str) -> str:
    """A job id made of ``parts``: readable where it can be, unique by a hash of all of them."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
    readable = _ID_BAD.sub("_", "_".join(parts))[:120]
    return f"headrace_{readable}_{digest}"


def run(
    client: Any,
    base_id: str,
    start: Callable[[str], Any],
    location: str | None,
    timeout_s: float,
    reuse: bool = False,
) -> Any:
    """Run the job ``start(job_id)`` inserts, under the first free id of ``base_id``'s sequence;
    the finished job (its errors raised by ``result``). With ``reuse``, a job of the sequence that
    already succeeded is returned instead of starting another."""
    from google.api_core.exceptions import Conflict

    for n in range(MAX_ATTEMPTS):
        job_id = f"{base_id}_{n}"
        try:
            job = start(job_id)
        except Conflict:
            if not reuse:  # a staging step: an earlier attempt's job (maybe an upload it never finished) is left alone
                continue
            job = client.get_job(job_id, location=location)
            if job.state != "DONE":
                try:
                    job.result(timeout=timeout_s)
                except Exception:
                    continue
            if job.error_result:
                continue
            return job
        job.result(timeout=timeout_s)
        return job
    raise RuntimeError(f"BigQuery job {base_id}: {MAX_ATTEMPTS} ids of its sequence are taken by failed attempts")
