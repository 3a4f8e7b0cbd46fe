"""``project.yaml``: name, warehouse, storage, worker and task defaults."""

from __future__ import annotations

from typing import Annotated, Literal

from headrace.project.base import Duration, Identifier, Strict, Text
from pydantic import Field


class DuckDBWarehouse(Strict):
    """A DuckDB file; relative paths are under the state directory (``.headrace/``)."""

    type: Literal["duckdb"] = "duckdb"
    path: str = "warehouse.duckdb"
    memory_limit: str = Field("2GB", description="DuckDB's memory_limit; keeps big loads flat in memory")
    threads: int | None = Field(None, ge=1)


class PostgresWarehouse(Strict):
    type: Literal["postgres"]
    host: Text
    port: int = Field(5432, ge=1, le=65535)
    database: Text
    user: Text
    password: Text = ""
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"


Warehouse = Annotated[DuckDBWarehouse | PostgresWarehouse, Field(discriminator="type")]


class LocalStorage(Strict):
    """A folder; relative paths are under the state directory (``.headrace/``)."""

    type: Literal["local"] = "local"
    path: str = "storage"


Storage = Annotated[LocalStorage, Field(discriminator="type")]


class LocalWorker(Strict):
    """Tasks run as subprocesses on the machine that runs Headrace or Airflow."""

    type: Literal["local"] = "local"


Worker = Annotated[LocalWorker, Field(discriminator="type")]


class TaskDefaults(Strict):
    timeout: Duration = Field(3600, description="seconds (or '30m', '2h') before a task is stopped")
    retries: int = Field(0, ge=0, le=10, description="Airflow retries of a failed task")


class ProjectConfig(Strict):
    name: Identifier
    description: str = ""
    warehouse: Warehouse = Field(default_factory=DuckDBWarehouse)
    storage: Storage = Field(default_factory=LocalStorage)
    worker: Worker = Field(default_factory=LocalWorker)
    defaults: TaskDefaults = Field(default_factory=TaskDefaults)
