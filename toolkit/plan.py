"""Which tasks run in which order: one function for ``headrace run`` and for Airflow.

A plan is a list of stages; the tasks of a stage run in parallel, and a stage starts
when the previous one has finished (successfully, unless ``continue_on_error``). Inside a
stage, a task listed in ``after`` waits for those tasks of its stage: they produce its inputs
(an orchestration's parallel group, ``Orchestration.after``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from headrace.errors import ConfigError
from headrace.project.graph import layers
from headrace.project.manifest import Manifest


@dataclass(frozen=True)
class Plan:
    name: str
    stages: list[list[str]]
    continue_on_error: bool = False
    after: dict[str, list[str]] = field(default_factory=dict)  # task -> tasks of its own stage it waits for

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs: every task of a stage waits for the whole previous stage,
        and for the tasks of its own stage that ``after`` names."""
        between = [
            (a, b) for before, after in zip(self.stages, self.stages[1:], strict=False) for a in before for b in after
        ]
        inside = [(a, b) for stage in self.stages for b in stage for a in self.after.get(b, [])]
        return between + inside

    def tasks(self) -> list[str]:
        return [t for stage in self.stages for t in stage]


def orchestration_plan(manifest: Manifest, orchestration_id: str) -> Plan:
    orch = manifest.orchestrations[orchestration_id]
    return Plan(
        f"orchestration:{orchestration_id}",
        [list(s) for s in orch.steps],
        orch.continue_on_error,
        {task: list(before) for task, before in orch.after.items()},
    )


def resolve_target(manifest: Manifest, target: str) -> str:
    """``extractor:crm``, ``orchestration:daily`` or a bare id when it names one thing."""
    tasks, orchs = manifest.tasks, manifest.orchestrations
    if ":" in target:
        kind, _, name = target.partition(":")
        if kind == "orchestration" and name in orchs:
            return target
        if target in tasks:
            return target
        raise ConfigError(f"no {kind} {name!r} in this project; known: {', '.join(_known(manifest)) or 'none'}")
    matches = [t for t in tasks if t.split(":", 1)[1] == target]
    matches += [f"orchestration:{target}"] if target in orchs else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"nothing named {target!r} in this project; known: {', '.join(_known(manifest)) or 'none'}")
    raise ConfigError(f"{target!r} is ambiguous: write one of {', '.join(sorted(matches))}")


def _known(manifest: Manifest) -> list[str]:
    return sorted([*manifest.tasks, *(f"orchestration:{o}" for o in manifest.orchestrations)])


def plan_for(manifest: Manifest, targets: list[str]) -> Plan:
    """No target: the whole project in dependency order. One orchestration: its steps.
    Components: those tasks, ordered by their dependencies on each other."""
    deps = {tid: task.depends_on for tid, task in manifest.tasks.items()}
    if not targets:
        return Plan("project", layers(deps))
    resolved = [resolve_target(manifest, t) for t in targets]
    orchestrations = [r for r in resolved if r.startswith("orchestration:")]
    if orchestrations:
        if len(resolved) > 1:
            raise ConfigError("run one orchestration at a time, or components without an orchestration")
        return orchestration_plan(manifest, orchestrations[0].split(":", 1)[1])
    return Plan(", ".join(resolved), layers(deps, list(dict.fromkeys(resolved))))
