"""Secrets backends without servers: the mask channel, names in each manager, the secrets: block."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from headrace.errors import ConfigError
from headrace.orchestrator.secretbackend import split_name
from headrace.redaction import redact
from headrace.secrets import SecretResolver
from headrace.secrets.azure import vault_name
from headrace.secrets.maskline import MASK_KEY_ENV, MASK_PREFIX, MaskChannel, new_key, seal, unseal
from headrace.secrets.naming import store_name
from headrace.secretstore import LocalSecretStore, open_secret_store

from tests.helpers import headrace, write_files

pytestmark = pytest.mark.unit


def test_a_sealed_value_opens_only_with_its_key_and_unchanged() -> None:
    key = new_key()
    token = seal(key, "Pa55-wörd\nline two")
    assert "Pa55" not in token
    assert unseal(key, token) == "Pa55-wörd\nline two"
    assert unseal(new_key(), token) is None
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert unseal(key, flipped) is None
    assert unseal(key, "not base64 !") is None
    assert seal(key, "same") != seal(key, "same"), "a fresh nonce each time"


def test_the_parent_remembers_its_tasks_mask_lines_and_shows_forged_ones() -> None:
    seen: list[str] = []
    channel = MaskChannel(on_value=seen.append)
    assert channel.take(MASK_PREFIX + seal(channel.key, "Chan-Secret-991"))
    assert seen == ["Chan-Secret-991"] and redact("x Chan-Secret-991") == "x ***"
    assert not channel.take(MASK_PREFIX + seal(new_key(), "Forged-Value-12")), "another key: shown, not hidden"
    assert redact("Forged-Value-12") == "Forged-Value-12"
    assert not channel.take("an ordinary line")


def test_the_task_key_is_not_inherited_by_what_the_task_starts(tmp_path: Path) -> None:
    code = (
        "import os, subprocess, sys\n"
        "from headrace.secrets import maskline\n"
        "print(maskline.task_key() is not None)\n"
        "print(subprocess.run([sys.executable, '-c', 'import os; print(os.environ.get(\"HEADRACE_MASK_KEY\"))'],"
        " capture_output=True, text=True).stdout.strip())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, MASK_KEY_ENV: new_key()}, capture_output=True, text=True
    )
    assert done.stdout.split() == ["True", "None"], done.stderr


def test_names_in_each_manager() -> None:
    assert vault_name("headrace-", "crm_Password") == "headrace-crm-password"
    assert store_name("bi_reader", "A-Za-z0-9_-") == "bi_reader"
    a = store_name("postgres-reader/db:5432/bi", "A-Za-z0-9-")
    b = store_name("postgres-reader/db-5432/bi", "A-Za-z0-9-")
    assert a.startswith("postgres-reader-db-5432-bi-") and a != b
    assert split_name("conn__crm_db__password") == ("crm_db", "password")
    assert split_name("conn__a__b__login") == ("a__b", "login")
    assert split_name("crm_password") is None


def test_a_remote_backend_is_not_opened_by_a_parent(tmp_path: Path) -> None:
    resolver = SecretResolver(
        tmp_path, {"type": "aws", "endpoint_url": "http://127.0.0.1:9"}, environ={"E": "Env-Val-123"}
    )
    resolver.remember_referenced('{"a": "${secret:x}", "b": "${env:E}"}')
    assert resolver._backend is None
    assert redact("Env-Val-123") == "***", "environment references are still resolved for redaction"


def test_the_default_backend_is_the_environment_then_the_file(tmp_path: Path) -> None:
    (tmp_path / ".secrets.yaml").write_text("from_file: File-Val-77\n")
    resolver = SecretResolver(tmp_path, None, environ={"HEADRACE_SECRET_FROM_ENV": "Env-Val-88"})
    assert resolver.resolve("${secret:from_env}/${secret:from_file}") == "Env-Val-88/File-Val-77"
    with pytest.raises(ConfigError, match="export HEADRACE_SECRET_NOPE"):
        resolver.secret("nope")


def test_the_secrets_block_cannot_use_a_secret_and_says_which_env_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"secrets.endpoint_url: \$\{secret:ep\} cannot configure"):
        SecretResolver(tmp_path, {"type": "aws", "endpoint_url": "${secret:ep}"}, environ={}).secret("x")
    with pytest.raises(ConfigError, match=r"secrets\.vault_url: environment variable VAULT is not set"):
        SecretResolver(tmp_path, {"type": "azure", "vault_url": "${env:VAULT}"}, environ={}).secret("x")


def test_headrace_secret_store_local_keeps_created_credentials_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SecretResolver(tmp_path, {"type": "aws", "endpoint_url": "http://127.0.0.1:9"})
    monkeypatch.setenv("HEADRACE_SECRET_STORE", "local")
    assert isinstance(open_secret_store(tmp_path), LocalSecretStore)
    monkeypatch.setenv("HEADRACE_SECRET_STORE", "vault")
    with pytest.raises(ConfigError, match="use one of project, local"):
        open_secret_store(tmp_path)
    monkeypatch.delenv("HEADRACE_SECRET_STORE")
    SecretResolver(tmp_path, None)
    assert isinstance(open_secret_store(tmp_path), LocalSecretStore), "env and airflow keep the local file"


def test_validate_reports_a_bad_secrets_block(tmp_path: Path) -> None:
    project = write_files(tmp_path / "p", {"project.yaml": "name: s\nsecrets: {type: aws, regoin: eu-west-1}\n"})
    result = headrace("validate", str(project))
    assert result.returncode == 2
    assert "secrets" in result.stdout + result.stderr and "regoin" in result.stdout + result.stderr
    project = write_files(tmp_path / "q", {"project.yaml": "name: s\nsecrets: {type: vault}\n"})
    result = headrace("validate", str(project))
    assert result.returncode == 2 and "vault" in result.stdout + result.stderr


def test_validate_refuses_a_secret_in_the_secrets_block(tmp_path: Path) -> None:
    text = 'name: s\nsecrets: {type: aws, endpoint_url: "${secret:ep}"}\n'
    result = headrace("validate", str(write_files(tmp_path / "p", {"project.yaml": text})))
    out = result.stdout + result.stderr
    assert result.returncode == 2 and "cannot configure the secrets backend" in out, out
