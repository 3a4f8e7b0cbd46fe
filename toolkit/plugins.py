"""The plugin registry: every warehouse, storage, worker, extractor, transformation and secrets type.

A plugin is a module (or folder) that owns its config model, its capabilities record and
its implementation, and announces itself with a Python entry point in one of the groups
below, pointing at a ``Plugin`` record::

    [project.entry-points."headrace.storages"]
    local = "headrace.storage.local:plugin"

The record names its implementation by import path (``factory``), so listing plugins,
validating a project or building JSON Schemas never imports a driver or an SDK. Headrace's
own backends register exactly as a third-party package does.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from headrace.errors import ConfigError
from pydantic import BaseModel

if TYPE_CHECKING:
    from importlib.metadata import Distribution, EntryPoints

Kind = Literal["warehouse", "storage", "worker", "extractor", "transformation", "secrets"]
GROUPS: dict[Kind, str] = {
    "warehouse": "headrace.warehouses",
    "storage": "headrace.storages",
    "worker": "headrace.workers",
    "extractor": "headrace.extractors",
    "transformation": "headrace.transformations",
    "secrets": "headrace.secrets",
}


@dataclass(frozen=True)
class Plugin:
    """What a plugin declares: its config model, its capabilities and where its code is."""

    kind: Kind
    name: str  # the ``type:`` users write
    config: type[BaseModel]  # validates the user's mapping (its ``type`` field is ``Literal[name]``)
    factory: str  # "package.module:callable": imported only when the plugin is used
    capabilities: Any = None  # a frozen dataclass of what the backend can do, read by the runtime
    description: str = ""
    # optional "module:function" that turns a component's own files into what the manifest carries
    # for it, and says what is wrong with them (`headrace validate` reports it, e.g. SQL that cannot
    # be split or transpiled): ``compile_files(component, config, files, dialect) -> (sql_files, errors)``
    # with ``files`` [(name, text)], ``dialect`` the warehouse's, ``sql_files`` manifest ``SqlFile``s
    compile_files: str = ""
    # optional "module:function" that prepares a component's run when the project is validated and
    # compiled, and returns fields of its manifest task (the ``dbt`` type installs dbt, parses the dbt
    # project and returns ``{"dbt": DbtRun}``): ``compile_task(component, config, root, warehouse) ->
    # (fields, errors)`` with ``root`` the project's folder and ``warehouse`` the warehouse's plugin
    compile_task: str = ""
    # the pip extra that installs what the implementation imports (``pip install "headrace[<extra>]"``)
    # and the top-level modules it needs, checked without importing them (``headrace plugins``)
    extra: str = ""
    requires: tuple[str, ...] = ()
    # filled in by the registry from the distribution that provides the entry point
    distribution: str = field(default="", compare=False)
    version: str = field(default="", compare=False)

    def install_hint(self) -> str:
        """What to run so that this plugin's dependencies are there."""
        if self.distribution in ("", "headrace"):
            return f'pip install "headrace[{self.extra or self.name}]"'
        return f'pip install "{self.distribution}"'

    def missing(self) -> list[str]:
        """The modules of ``requires`` that are not installed (found without importing them)."""
        import importlib.util

        absent = []
        for module in self.requires:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):  # a parent package is missing
                found = False
            if not found:
                absent.append(module)
        return absent

    def load(self) -> Callable[..., Any]:
        """Import and return the implementation (a class or function). Its SDK is imported only where it
        connects, so what ``requires`` names is checked here: a missing extra is a clear error up front."""
        absent = self.missing()
        if absent:
            raise ConfigError(
                f"{self.kind} type {self.name!r} needs a package that is not installed ({', '.join(absent)}): "
                f"run {self.install_hint()}"
            )
        return self._import(self.factory)

    def load_compile_files(self) -> Callable[..., Any] | None:
        """The plugin's hook that validates and compiles its files, if it has one."""
        return self._import(self.compile_files) if self.compile_files else None

    def load_compile_task(self) -> Callable[..., Any] | None:
        """The plugin's hook that prepares its task at compile time, if it has one."""
        return self._import(self.compile_task) if self.compile_task else None

    def _import(self, path: str) -> Callable[..., Any]:
        module, _, attr = path.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            own = module.split(".")[0]
            if exc.name and (exc.name == own or exc.name.startswith(own + ".")):
                raise  # a defect in the plugin's own package, not a missing dependency
            raise ConfigError(
                f"{self.kind} type {self.name!r} needs a package that is not installed ({exc.name or exc}): "
                f"run {self.install_hint()}"
            ) from None


class _EntryPointsByGroup(Protocol):
    """What ``importlib.metadata.entry_points()`` returns (grouped on Python 3.11, flat from 3.12)."""

    def select(self, *, group: str) -> EntryPoints: ...


@functools.cache
def _entry_points() -> _EntryPointsByGroup:
    """Every entry point installed, read once per process: each read scans the metadata of every
    installed distribution (hundreds with the cloud SDKs and Airflow), whatever the group."""
    from importlib.metadata import entry_points

    return entry_points()


@functools.cache
def _provider(dist: Distribution | None) -> tuple[str, str]:
    """(name, version) of the distribution that provides an entry point: its metadata file is
    parsed once, not once per plugin it provides."""
    if dist is None:
        return "", ""
    metadata = dist.metadata
    return metadata["Name"], metadata["Version"]


@functools.cache
def _registry(kind: Kind) -> tuple[dict[str, Plugin], dict[str, str]]:
    """(plugins that loaded, name -> why a plugin could not be loaded)."""
    found: dict[str, Plugin] = {}
    broken: dict[str, str] = {}
    for entry in _entry_points().select(group=GROUPS[kind]):
        where = f"{GROUPS[kind]}: {entry.name} = {entry.value}"
        try:
            record = entry.load()
        except Exception as exc:  # a broken third-party plugin must not break the others
            broken[entry.name] = f"plugin {where} cannot be loaded: {type(exc).__name__}: {exc}"
            continue
        if not isinstance(record, Plugin) or record.kind != kind or record.name != entry.name:
            broken[entry.name] = (
                f"plugin {where} is not a headrace.plugins.Plugin of kind {kind!r} named {entry.name!r}"
            )
            continue
        distribution, version = _provider(entry.dist)
        found[entry.name] = Plugin(
            record.kind,
            record.name,
            record.config,
            record.factory,
            record.capabilities,
            record.description,
            record.compile_files,
            record.compile_task,
            record.extra,
            record.requires,
            distribution=distribution,
            version=version,
        )
    return dict(sorted(found.items())), dict(sorted(broken.items()))


def plugins(kind: Kind) -> dict[str, Plugin]:
    """Installed plugins of ``kind`` that load, by name, sorted."""
    return _registry(kind)[0]


def broken(kind: Kind) -> dict[str, str]:
    """Installed plugins of ``kind`` that cannot be loaded: name -> what is wrong (``headrace plugins`` shows it)."""
    return _registry(kind)[1]


def get(kind: Kind, name: str) -> Plugin:
    """The plugin ``name`` of ``kind``; a ``ConfigError`` listing what is installed otherwise."""
    known, failed = _registry(kind)
    if name in failed:
        raise ConfigError(failed[name])
    if name not in known:
        raise ConfigError(
            f"{kind} type {name!r} is not installed; installed: {', '.join(known) or 'none'} (see `headrace plugins`)"
        )
    return known[name]


def config_models(kind: Kind) -> tuple[type[BaseModel], ...]:
    """Config models of every installed plugin of ``kind``: the members of the project's unions."""
    return tuple(p.config for p in plugins(kind).values())
