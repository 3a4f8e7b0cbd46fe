"""BigQuery as a warehouse: a dataset per schema, load jobs with an explicit schema, MERGE,
transformations in a working dataset, datamart datasets readable by IAM members.
google-cloud-bigquery is imported only when a client is made (``client.py``)."""

from __future__ import annotations

from typing import Annotated, Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, SecretOnly, Strict, Text
from headrace.warehouses.capabilities import Capabilities
from pydantic import AfterValidator, Field

_MEMBER_KINDS = ("user:", "group:", "serviceAccount:", "domain:")


def _member(value: str) -> str:
    if not value.startswith(_MEMBER_KINDS) or value.endswith(":"):
        raise ValueError(
            f"{value!r} is not an IAM member: write user:NAME@DOMAIN, group:NAME@DOMAIN, "
            "serviceAccount:NAME@PROJECT.iam.gserviceaccount.com or domain:DOMAIN"
        )
    return value


Member = Annotated[str, AfterValidator(_member)]


class BigQueryConfig(Strict):
    """A BigQuery project; every Headrace schema is the dataset ``dataset_prefix + schema``."""

    type: Literal["bigquery"]
    project: Text = Field(description="the Google Cloud project that holds the datasets and runs the jobs")
    location: Deferred[str] = Field("US", description="where datasets are created and jobs run (US, EU, europe-west1)")
    dataset_prefix: Deferred[str] = Field(
        "", pattern=r"^[A-Za-z0-9_]*$", description="prepended to every dataset name, e.g. 'prod_'"
    )
    api_endpoint: Deferred[str | None] = Field(None, description="another BigQuery REST endpoint (an emulator)")
    job_timeout: Deferred[int] = Field(3600, ge=1, le=6 * 3600, description="seconds a job may run before it fails")
    credentials_json: SecretOnly | None = Field(
        None, description="a service account key as ${secret:NAME}; default: the machine's service account"
    )
    transformation_service_account: Deferred[str | None] = Field(
        None,
        description="service account e-mail that transformation SQL runs as (impersonated), granted only on "
        "its working dataset; without it the SQL runs as the install's account (see docs/bigquery.md)",
    )
    readers: dict[str, Member] = Field(
        default_factory=dict,
        description="datamart reader names of datamarts.yaml -> IAM members, e.g. analysts: group:analysts@example.com",
    )
    default_reader: Member | None = Field(
        None,
        description="IAM member for datamart readers not named in readers (a cloud install sets its datamart "
        "reader service account); without it an unnamed reader is an error",
    )
    emulator: Deferred[bool] = Field(
        False,
        description="api_endpoint is crucible-emulator (tests): anonymous credentials, only the job settings "
        "it accepts, no transactions, clones or IAM calls (docs/bigquery.md); never for BigQuery itself",
    )


CAPABILITIES = Capabilities(
    name="bigquery",
    dbt_adapter="dbt-bigquery",
    dialect="bigquery",
    max_identifier_length=300,  # table names 1024, dataset ids 1024 bytes; columns 300 characters
    merge=True,
    null_safe_keys=False,
    roles=False,
    single_writer=False,
    native_load_schemes=("gs",),
    clones=True,
    exports_tables=False,  # not yet: container transformations are refused at validation
)

plugin = Plugin(
    "warehouse",
    "bigquery",
    BigQueryConfig,
    "headrace.warehouses.bigquery.warehouse:open",
    CAPABILITIES,
    description="Google BigQuery (datasets, load jobs, IAM)",
    extra="bigquery",
    requires=("google.cloud.bigquery",),
)
