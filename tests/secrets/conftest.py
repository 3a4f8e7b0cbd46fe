"""Fixtures for the secrets backends: a recording proxy in front of the session's moto server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.moto import AWS_ENV
from tests.secrets.recorder import Recorder, Request


@pytest.fixture(scope="module")
def sm_proxy(moto_endpoint: str) -> Iterator[Recorder]:
    """A recording proxy in front of moto: every Secrets Manager request Headrace sends passes here."""
    recorder = Recorder(upstream=moto_endpoint)
    yield recorder
    recorder.close()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What boto3 needs to talk to moto and to nothing else, in this process's environment."""
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    return dict(AWS_ENV)


def sm_calls(recorder: Recorder, action: str) -> list[Request]:
    """The Secrets Manager requests of one action (``GetSecretValue``) the proxy saw."""
    return recorder.matching(lambda r: r.headers.get("x-amz-target") == f"secretsmanager.{action}")
