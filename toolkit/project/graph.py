"""Tasks of a project, what they read and write, and the dependencies that follow."""

from __future__ import annotations

from headrace.project.model import Project

WORK_SUFFIX_LENGTH = 9  # "_" + 8 characters of the run, in tr_<transformation>_<run>


def in_schema(extractor_id: str) -> str:
    return f"in_{extractor_id}"


def out_schema(transformation_id: str) -> str:
    return f"out_{transformation_id}"


def dm_schema(datamart_id: str) -> str:
    return f"dm_{datamart_id}"


def work_schema_prefix(transformation_id: str) -> str:
    """``tr_<id>``: a run's working schema is ``<prefix>_<8 characters of the run>``."""
    return f"tr_{transformation_id}"


def state_key(schema: str, table: str) -> str:
    """Key of an incremental table's cursor in ``headrace_meta.state``."""
    return f"cursor:{schema}.{table}"


def storage_prefix(extractor_id: str, table: str) -> str:
    """Where an extracted table's runs are stored: ``<prefix>/<run_id>/part-NNNNN.csv.gz``."""
    return f"raw/{extractor_id}/{table}"


def producers(project: Project) -> dict[str, str]:
    """``schema.table`` -> id of the task that writes it."""
    out: dict[str, str] = {}
    for ext_id, config in project.extractors.items():
        for table in config.table_configs():
            out[f"{in_schema(ext_id)}.{table.name}"] = f"extractor:{ext_id}"
    for tr_id, tr in project.transformations.items():
        for name in tr.config.outputs:
            out[f"{out_schema(tr_id)}.{name}"] = f"transformation:{tr_id}"
    return out


def task_reads(project: Project) -> dict[str, list[str]]:
    """task id -> the ``schema.table`` names it reads (empty for extractors)."""
    reads: dict[str, list[str]] = {f"extractor:{e}": [] for e in project.extractors}
    for tr_id, tr in project.transformations.items():
        reads[f"transformation:{tr_id}"] = [i.table for i in tr.config.inputs]
    for dm_id, dm in project.datamarts.items():
        reads[f"datamart:{dm_id}"] = [ref for ref, _ in dm.entries()]
    return reads


def dependencies(project: Project) -> dict[str, list[str]]:
    """task id -> sorted ids of the tasks producing what it reads."""
    made_by = producers(project)
    return {
        task: sorted({made_by[t] for t in tables if t in made_by and made_by[t] != task})
        for task, tables in task_reads(project).items()
    }


def order_in_groups(steps: list[list[str]], deps: dict[str, list[str]]) -> dict[str, list[str]]:
    """task -> the tasks of its own step (parallel group) it runs after, because they produce what it
    reads. Only direct producers: a task outside the group that sits between two does not run there,
    so the order of the two changes nothing it reads."""
    after: dict[str, list[str]] = {}
    for step in steps:
        members = set(step)
        for task in step:
            before = sorted(d for d in deps.get(task, []) if d in members)
            if before:
                after[task] = before
    return dict(sorted(after.items()))


def find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """One dependency cycle as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in deps.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(deps):
        if node not in state and (found := visit(node)):
            return found
    return None


def layers(deps: dict[str, list[str]], selected: list[str] | None = None) -> list[list[str]]:
    """Topological layers of ``selected`` (default: all) tasks; a layer's tasks may run in parallel.

    Dependencies on tasks outside the selection are ignored: running one transformation
    does not re-run its extractors.
    """
    todo = set(selected if selected is not None else deps)
    done: set[str] = set()
    out: list[list[str]] = []
    while todo:
        ready = sorted(t for t in todo if all(d in done or d not in todo for d in deps.get(t, [])))
        if not ready:
            raise ValueError(f"dependency cycle among: {', '.join(sorted(todo))}")
        out.append(ready)
        done.update(ready)
        todo.difference_update(ready)
    return out
