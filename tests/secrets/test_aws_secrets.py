"""``secrets: {type: aws}`` against a real moto server (Secrets Manager), through a recording proxy.

The proxy (tests/secrets/recorder.py) forwards to moto and keeps every request, so the
tests count ``GetSecretValue`` calls: one per name per task process, none in the parent.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
from headrace.errors import ConfigError
from headrace.redaction import redact
from headrace.secrets import SecretResolver
from headrace.secrets.maskline import MASK_PREFIX, MaskChannel
from headrace.secretstore import open_secret_store
from headrace.workers.base import WorkSpec
from headrace.workers.local import LocalWorker

from tests.secrets.conftest import sm_calls
from tests.secrets.recorder import Recorder

pytestmark = pytest.mark.integration


def sm(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=endpoint)


def config(proxy: Recorder, prefix: str) -> dict[str, str]:
    return {"type": "aws", "region": "eu-west-1", "prefix": prefix, "endpoint_url": proxy.url}


def test_references_resolve_from_secrets_manager_once_per_name(
    tmp_path: Path, sm_proxy: Recorder, moto_endpoint: str, aws_env: dict[str, str]
) -> None:
    sm(moto_endpoint).create_secret(Name="t1/db_password", SecretString="Db-Pa55-from-SM")
    sm(moto_endpoint).create_secret(Name="t1/api_token", SecretString="Api-T0ken-from-SM")
    sm_proxy.clear()
    resolver = SecretResolver(tmp_path, config(sm_proxy, "t1/"))
    assert sm_calls(sm_proxy, "GetSecretValue") == [], "making a resolver must fetch nothing"
    resolved = resolver.resolve({"password": "${secret:db_password}", "dsn": "x:${secret:db_password}@h"})
    assert resolved == {"password": "Db-Pa55-from-SM", "dsn": "x:Db-Pa55-from-SM@h"}
    assert resolver.resolve(["${secret:api_token}", "${secret:db_password}"]) == [
        "Api-T0ken-from-SM",
        "Db-Pa55-from-SM",
    ]
    # a second resolver of the same process (the runner makes several) shares the cache
    assert SecretResolver(tmp_path, config(sm_proxy, "t1/")).secret("api_token") == "Api-T0ken-from-SM"
    asked = [r.body for r in sm_calls(sm_proxy, "GetSecretValue")]
    assert len(asked) == 2, asked
    assert any(b"t1/db_password" in body for body in asked) and any(b"t1/api_token" in body for body in asked)
    assert redact("pw=Db-Pa55-from-SM") == "pw=***"


def test_a_missing_secret_names_the_backend_the_secret_id_and_the_fix(
    tmp_path: Path, sm_proxy: Recorder, aws_env: dict[str, str]
) -> None:
    resolver = SecretResolver(tmp_path, config(sm_proxy, "t2/"))
    with pytest.raises(ConfigError) as caught:
        resolver.secret("nope")
    message = str(caught.value)
    assert "AWS Secrets Manager (region eu-west-1)" in message
    assert "'t2/nope'" in message
    assert "aws secretsmanager create-secret --name t2/nope" in message


def test_a_refused_look_up_names_the_permission(tmp_path: Path, sm_proxy: Recorder, aws_env: dict[str, str]) -> None:
    """moto grants everything, so the refusal is answered at the HTTP boundary: a proxy that says 403."""
    denied = Recorder(
        lambda r: (
            400,
            b'{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/worker/i-1 '
            b'is not authorized to perform: secretsmanager:GetSecretValue"}',
            {"Content-Type": "application/x-amz-json-1.1"},
        )
    )
    try:
        resolver = SecretResolver(tmp_path, {**config(sm_proxy, "t3/"), "endpoint_url": denied.url})
        with pytest.raises(ConfigError) as caught:
            resolver.secret("db_password")
    finally:
        denied.close()
    message = str(caught.value)
    assert "assumed-role/worker/i-1" in message and "secretsmanager:GetSecretValue" in message
    assert "'t3/db_password'" in message and "grant" in message


def test_reader_passwords_are_written_read_and_deleted_in_secrets_manager(
    tmp_path: Path, sm_proxy: Recorder, moto_endpoint: str, aws_env: dict[str, str]
) -> None:
    SecretResolver(tmp_path, config(sm_proxy, "t4/"))  # the task's project says: secrets in AWS
    store = open_secret_store(tmp_path / "state")
    name = "postgres-reader/db.internal:5432/bi_reader"
    assert store.read(name) is None
    store.write(name, "Reader-Pa55-1")
    store.write(name, "Reader-Pa55-2")  # a second write replaces the value
    assert store.read(name) == "Reader-Pa55-2"
    [secret] = sm(moto_endpoint).list_secrets(Filters=[{"Key": "name", "Values": ["t4/"]}])["SecretList"]
    assert re.fullmatch(r"t4/postgres-reader/db\.internal-5432/bi_reader-[0-9a-f]{10}", secret["Name"]), secret["Name"]
    assert {"Key": "headrace", "Value": "created"} in secret["Tags"]
    assert not (tmp_path / "state").exists(), "nothing may be written to the local credentials file"
    store.delete(name)
    store.delete(name)  # deleting what is gone is no error
    assert store.read(name) is None
    assert redact("Reader-Pa55-2") == "***"


CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from headrace.redaction import install
    from headrace.secrets import SecretResolver
    install()
    resolver = SecretResolver(Path(sys.argv[1]), {"type": "aws", "region": "eu-west-1", "prefix": "t5/",
                                                  "endpoint_url": sys.argv[2]})
    value = resolver.secret("token")
    resolver.secret("token")
    print("redacted by the task itself:", value, flush=True)
    os.write(1, ("written past the task's redaction: " + value + "\\n").encode())
    """
)


def test_the_parent_redacts_what_its_task_fetched_without_fetching_it(
    tmp_path: Path, sm_proxy: Recorder, moto_endpoint: str, aws_env: dict[str, str]
) -> None:
    """The mask channel: the task reports the value sealed; the parent (like ``headrace run``) redacts it."""
    sm(moto_endpoint).create_secret(Name="t5/token", SecretString="Task-T0ken-7731")
    sm_proxy.clear()
    parent = SecretResolver(tmp_path, config(sm_proxy, "t5/"))
    parent.remember_referenced('{"url": "${secret:token}"}')  # a remote backend: looks nothing up
    channel = MaskChannel()
    shown: list[str] = []
    outcome = LocalWorker().run(
        WorkSpec([sys.executable, "-c", CHILD, str(tmp_path), sm_proxy.url], env=channel.env(), timeout_s=60),
        lambda line: channel.take(line) or shown.append(redact(line)),
    )
    assert outcome.returncode == 0, outcome.last_lines
    text = "\n".join(shown)
    assert "redacted by the task itself: ***" in text
    assert "written past the task's redaction: ***" in text
    assert "Task-T0ken-7731" not in text and MASK_PREFIX not in text
    assert len(sm_calls(sm_proxy, "GetSecretValue")) == 1, "one fetch in the task, none in the parent"


def test_a_task_started_by_hand_sends_no_mask_lines(
    tmp_path: Path, sm_proxy: Recorder, moto_endpoint: str, aws_env: dict[str, str]
) -> None:
    sm(moto_endpoint).create_secret(Name="t6/token", SecretString="Hand-T0ken-5521")
    child = CHILD.replace('"t5/"', '"t6/"')
    done = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path), sm_proxy.url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert MASK_PREFIX not in done.stdout
    assert "redacted by the task itself: ***" in done.stdout
