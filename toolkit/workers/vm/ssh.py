"""The VM's Docker engine over SSH, with the configured key file.

The Docker SDK's ``ssh://`` transport (paramiko) takes its key only from ``~/.ssh/config``
and rejects unknown host keys (``RejectPolicy`` over the system's known_hosts); its
other transport shells out to ``ssh`` with no way to pass a key. So the client is made
with ``use_ssh_client=True`` (which connects nothing yet) and its adapter is replaced by
the SDK's own paramiko adapter, set up here: the key file of ``worker.ssh_key_file``, no
agent and no other keys, and the VM's host key trusted on first use and remembered in
the VM's state folder (``known_hosts``): a changed host key is then refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError, TransientError

CONNECT_TIMEOUT_S = 10.0  # one SSH connection attempt
RETRY_S = 2.0


def docker_over_ssh(user: str, host: str, port: int, key_file: Path, known_hosts: Path, timeout_s: float) -> Any:
    """A ``docker.DockerClient`` on ``ssh://user@host:port`` (connects now; raises what paramiko raises)."""
    import docker
    import paramiko
    from docker.transport import sshconn

    adapter_class: Any = sshconn.SSHHTTPAdapter  # defined only when paramiko imports: unknown to the type checker

    class KeyedAdapter(adapter_class):
        def _create_paramiko_client(self, base_url: str) -> None:
            super()._create_paramiko_client(base_url)
            self.ssh_params.update(
                key_filename=str(key_file),
                look_for_keys=False,
                allow_agent=False,
                timeout=min(CONNECT_TIMEOUT_S, timeout_s),
                banner_timeout=min(CONNECT_TIMEOUT_S, timeout_s),
                auth_timeout=min(CONNECT_TIMEOUT_S, timeout_s),
            )
            known_hosts.parent.mkdir(parents=True, exist_ok=True)
            known_hosts.touch(mode=0o600, exist_ok=True)
            self.ssh_client.load_host_keys(str(known_hosts))  # AutoAddPolicy saves new keys to this file
            self.ssh_client.set_missing_host_key_policy(paramiko.AutoAddPolicy())

    url = f"ssh://{user}@{host}:{port}"
    client = docker.DockerClient(base_url=url, version="1.41", use_ssh_client=True, timeout=int(timeout_s))
    api: Any = client.api
    adapter = KeyedAdapter(url, timeout=int(timeout_s), max_pool_size=api._custom_adapter.max_pool_size)
    api.mount("http+docker://ssh", adapter)
    api._custom_adapter = adapter
    try:
        api._version = api.version(api_version=False)["ApiVersion"]  # the engine's own API version
    except Exception:
        client.close()
        raise
    return client


def wait_for_docker(
    connect: Callable[[float], Any], where: str, deadline: float, cancelled: Callable[[], bool]
) -> Any | None:
    """``connect(timeout)`` until the engine answers a ping; None when cancelled first.

    Refused connections, timeouts and a Docker engine that is not up yet are retried until
    ``deadline``; a key that is refused or a changed host key fail at once.
    """
    import paramiko

    last = ""
    while True:
        remaining = deadline - time.monotonic()
        try:
            client = connect(max(1.0, remaining))
            client.ping()
            return client
        except paramiko.BadHostKeyException as exc:
            raise ConfigError(
                f"the SSH host key of {where} changed ({exc.key.get_name()}); if the VM was recreated, remove "
                f"its line from the known_hosts file in the VM's state folder, else find out who answers there"
            ) from None
        except paramiko.AuthenticationException as exc:
            raise ConfigError(
                f"{where} refused the SSH key of worker.ssh_key_file ({exc}): put its public key in the "
                "authorized_keys of worker.ssh_user on the VM"
            ) from None
        except (OSError, EOFError) as exc:
            if isinstance(exc, FileNotFoundError) and exc.filename:
                raise ConfigError(f"worker.ssh_key_file: {exc.filename} does not exist") from None
            last = f"{type(exc).__name__}: {exc}".strip()
        except Exception as exc:  # paramiko.SSHException, docker.errors.APIError, requests errors: not up yet
            last = f"{type(exc).__name__}: {exc}".strip()
        if cancelled():
            return None
        if time.monotonic() >= deadline:
            raise TransientError(
                f"the Docker engine of the worker VM did not answer over SSH at {where} within "
                f"worker.start_timeout (last error: {last or 'none'}); check the VM's SSH server, "
                "worker.host/ssh_port, its security rules, and that worker.ssh_user may use Docker"
            )
        time.sleep(RETRY_S)
