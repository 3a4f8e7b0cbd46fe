"""``aws_vm``: the worker VM is an EC2 instance (boto3; ``endpoint_url`` for an emulator such as moto)."""

from __future__ import annotations

from typing import Any

from headrace.errors import ConfigError, TransientError
from headrace.workers.vm.aws import AwsVmWorkerConfig
from headrace.workers.vm.machine import Machine, State
from headrace.workers.vm.worker import VmWorker

# EC2's instance states; shutting-down and terminated instances cannot be started again
STATES: dict[str, State] = {
    "pending": "starting",
    "running": "running",
    "stopping": "stopping",
    "stopped": "stopped",
    "shutting-down": "gone",
    "terminated": "gone",
}


class Ec2Instance(Machine):
    def __init__(self, config: AwsVmWorkerConfig):
        import boto3
        from botocore.config import Config
        from botocore.exceptions import NoRegionError

        self.instance_id = config.instance_id
        # calls are made under the VM's lease lock: fail in seconds rather than minutes
        quick = Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})
        try:
            self.ec2: Any = boto3.client(
                "ec2", region_name=config.region, endpoint_url=config.endpoint_url, config=quick
            )
        except NoRegionError:
            raise ConfigError("project.yaml worker.region: no AWS region given and none configured") from None
        region = self.ec2.meta.region_name
        self.key = f"aws_vm-{region}-{config.instance_id}"
        self.name = f"EC2 instance {config.instance_id} ({region})"

    def _call(self, action: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return getattr(self.ec2, action)(InstanceIds=[self.instance_id], **kwargs)
        except NoCredentialsError:
            raise ConfigError(f"{action} {self.name}: no AWS credentials (the Airflow VM's instance role)") from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = f"{action} {self.name}: {code}: {error.get('Message', '')}"
            if code.startswith("InvalidInstanceID") or code in ("UnauthorizedOperation", "AuthFailure"):
                raise ConfigError(f"{message} (project.yaml worker.instance_id, the role's ec2 permissions)") from None
            raise TransientError(message) from None
        except BotoCoreError as exc:
            raise TransientError(f"{action} {self.name}: {exc}") from None

    def _instance(self) -> dict[str, Any]:
        reservations = self._call("describe_instances")["Reservations"]
        return reservations[0]["Instances"][0]

    def status(self) -> State:
        return STATES.get(self._instance()["State"]["Name"], "starting")

    def start(self) -> None:
        self._call("start_instances")

    def stop(self) -> None:
        self._call("stop_instances")

    def private_address(self) -> str | None:
        return self._instance().get("PrivateIpAddress")


class AwsVmWorker(VmWorker):
    def __init__(self, config: AwsVmWorkerConfig):
        super().__init__(config)
        self.config = config

    def machine(self) -> Machine:
        return Ec2Instance(self.config)
