"""S3 storage over boto3: multipart uploads streamed from the part files, streamed downloads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig
from boto3.session import Session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from headrace.errors import ConfigError, TransientError
from headrace.storage.objects import ChunkReader, ObjectStorage, StoredObject, clean_prefix
from headrace.storage.s3 import CAPABILITIES, S3StorageConfig

# multipart above this size, in parts of this size: at most CONCURRENCY parts are in memory at once
PART_SIZE = 8 * 1024 * 1024
CONCURRENCY = 4
READ_CHUNK = 1024 * 1024
RESUMES = 3  # a download cut off mid-object continues where it stopped (same ETag), this many times
BROKEN_OFF = (ResponseStreamingError, IncompleteReadError, ReadTimeoutError, ConnectionClosedError)
PERMISSIONS = "s3:ListBucket on the bucket; s3:GetObject, s3:PutObject, s3:DeleteObject on its objects"
MISSING_KEY = ("NoSuchKey", "404", "NotFound")


class S3Storage(ObjectStorage):
    capabilities = CAPABILITIES

    def __init__(self, config: S3StorageConfig, state_dir: Path):
        self.bucket = config.bucket
        self.prefix = clean_prefix(config.prefix)
        self.url = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self.where = f"S3 bucket {self.bucket}"
        self.identity = (
            "the access key of storage.access_key_id"
            if config.access_key_id
            else "the machine's identity (AWS credential chain: environment, AWS_PROFILE, instance profile, task role)"
        )
        session = Session(
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key,
            aws_session_token=config.session_token,
            region_name=config.region,
        )
        self.client: Any = session.client(
            "s3", endpoint_url=config.endpoint_url, config=Config(retries={"mode": "standard", "max_attempts": 5})
        )
        self.transfer = TransferConfig(
            multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=CONCURRENCY
        )

    @contextmanager
    def _errors(self, action: str, key: str = "", missing: str | None = None) -> Iterator[None]:
        """SDK errors as messages naming the bucket, the object and the fix."""
        what = f"s3://{self.bucket}/{key}" if key else self.url
        try:
            yield
        except NoCredentialsError:
            raise ConfigError(
                f"cannot {action} {what}: no AWS credentials found; run on a machine with an instance profile or "
                "task role, set AWS_PROFILE or the AWS_* environment variables, or give storage.access_key_id "
                "and storage.secret_access_key as ${secret:NAME}"
            ) from None
        except EndpointConnectionError as exc:
            raise TransientError(f"cannot {action} {what}: {exc}") from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if missing is not None and code in MISSING_KEY:
                raise FileNotFoundError(f"nothing stored under {missing} in {self.url} (bucket {self.bucket})") from exc
            if code == "NoSuchBucket":
                raise ConfigError(
                    f"cannot {action} {what}: the S3 bucket {self.bucket} does not exist; create it or correct "
                    "storage.bucket (and storage.region) in project.yaml"
                ) from None
            if code in ("AccessDenied", "403", "AllAccessDisabled", "AccountProblem"):
                raise ConfigError(
                    f"cannot {action} {what}: access denied for {self.identity}; grant it {PERMISSIONS} "
                    f"(prefix {self.prefix or '(none)'}/*)"
                ) from None
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"):
                raise ConfigError(
                    f"cannot {action} {what}: AWS rejected the credentials of {self.identity} ({code}); "
                    "check or renew them"
                ) from None
            if code in ("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "PreconditionFailed"):
                raise TransientError(f"cannot {action} {what}: S3 answered {code}") from None
            raise ConfigError(f"cannot {action} {what}: {code}: {error.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise TransientError(f"cannot {action} {what}: {exc}") from None

    def _put(self, name: str, path: Path) -> None:
        with self._errors("upload to", name):
            self.client.upload_file(str(path), self.bucket, name, Config=self.transfer)

    def _list(self, name_prefix: str) -> Iterator[StoredObject]:
        with self._errors("list", name_prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=name_prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    yield StoredObject(obj["Key"], obj["LastModified"].timestamp())

    def _open(self, name: str, key: str) -> BinaryIO:
        with self._errors("read", name, missing=key):
            first = self.client.get_object(Bucket=self.bucket, Key=name)
        chunks = self._chunks(name, first)
        return io.BufferedReader(ChunkReader(chunks, chunks.close), READ_CHUNK)  # type: ignore[return-value]

    def _chunks(self, name: str, response: Any) -> Iterator[bytes]:
        """The object's bytes from one streamed GET; if the stream breaks off, a ranged GET of the
        same version (``IfMatch`` its ETag) continues from the last byte received."""
        done, resumed = 0, 0
        while True:
            body = response["Body"]
            try:
                for chunk in body.iter_chunks(READ_CHUNK):
                    done += len(chunk)
                    yield chunk
                return
            except BROKEN_OFF as exc:
                resumed += 1
                if resumed > RESUMES:
                    raise TransientError(
                        f"cannot read s3://{self.bucket}/{name}: the download broke off {resumed} times ({exc})"
                    ) from None
            finally:
                body.close()
            with self._errors("read", name):
                response = self.client.get_object(
                    Bucket=self.bucket, Key=name, Range=f"bytes={done}-", IfMatch=response["ETag"]
                )

    def _delete(self, names: list[str]) -> None:
        with self._errors("delete from", names[0]):
            for start in range(0, len(names), 1000):
                batch = [{"Key": n} for n in names[start : start + 1000]]
                answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                failed = answer.get("Errors", [])
                if failed:
                    first = failed[0]
                    raise ConfigError(
                        f"cannot delete s3://{self.bucket}/{first.get('Key')}: {first.get('Code')}: "
                        f"{first.get('Message')} ({len(failed)} objects not deleted; {self.identity} "
                        f"needs {PERMISSIONS})"
                    )

    def _uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{name}"
