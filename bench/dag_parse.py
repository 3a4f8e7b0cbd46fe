"""Benchmark: Airflow parse time of Headrace's DAG file against the same DAGs written for dag-factory,
and ``headrace validate`` / ``compile`` on a project of 1,000 components.

    .venv/bin/python bench/dag_parse.py [--extractors 300] [--tables 5] [--transformations 500]
                                        [--datamarts 100] [--orchestrations 100] [--repeat 3] [--keep DIR]

The project is generated (file extractors, SQL transformations reading extractor tables and
earlier transformations, datamarts, orchestrations whose steps follow the dependencies).
Each measurement runs in a fresh interpreter, the way Airflow's DAG processor parses a
file: modules are imported first, then the clock measures only the parse (a DagBag
filled from the one DAG file). dag-factory (PyPI) is installed into this venv if missing.
The last line is machine-readable:

    RESULT parse_s=<s> dagfactory_vs_headrace=<ratio> validate_s=<s>

Targets (issue 4, kept at 5,000 components by issue 13): parse_s < 1, dagfactory_vs_headrace >= 5,
validate_s < 2. The 5,000-component project is the default one five times over:

    .venv/bin/python bench/dag_parse.py --extractors 1500 --transformations 2500 --datamarts 500 \
                                        --orchestrations 500 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from headrace import plugins
from headrace.project.manifest import Manifest, read_manifest

ROOT = Path(__file__).resolve().parents[1]
DAG_FILE = ROOT / "orchestrator" / "dags" / "headrace_dags.py"
COLUMNS = {"id": "integer", "customer": "string", "amount": "decimal(12,2)", "updated_at": "timestamp"}


def generate_project(
    root: Path, extractors: int, tables: int, transformations: int, datamarts: int, orchs: int
) -> None:
    """Write a valid project with the given numbers of components."""
    rng = random.Random(7)
    (root / "extractors").mkdir(parents=True)
    (root / "data").mkdir()
    header = ",".join(COLUMNS) + "\n"
    (root / "project.yaml").write_text("name: bench\nwarehouse: {type: duckdb}\ndefaults: {timeout: 20m, retries: 1}\n")
    ext_tables = []
    for e in range(extractors):
        names = [f"t{t}" for t in range(tables)]
        for n in names:  # validation checks that a local data file exists
            (root / "data" / f"e{e:04d}_{n}.csv").write_text(header)
        config = {
            "type": "file",
            "description": f"Source system {e}",
            "tables": [{"name": n, "path": f"data/e{e:04d}_{n}.csv", "columns": COLUMNS} for n in names],
        }
        (root / "extractors" / f"e{e:04d}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        ext_tables += [(f"in_e{e:04d}.{n}", f"extractor:e{e:04d}") for n in names]
    deps: dict[str, list[str]] = {producer: [] for _, producer in ext_tables}
    outputs: list[tuple[str, str]] = []
    for t in range(transformations):
        tid = f"tr{t:04d}"
        inputs = rng.sample(ext_tables, 2) + (rng.sample(outputs[-50:], 1) if outputs and t % 3 else [])
        folder = root / "transformations" / tid
        folder.mkdir(parents=True)
        entries = [{"table": table, "as": f"in{i}"} for i, (table, _) in enumerate(inputs)]
        config = {"type": "sql", "description": f"Model {t}", "inputs": entries, "outputs": ["result"]}
        (folder / "transformation.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        (folder / "10_result.sql").write_text("CREATE TABLE result AS SELECT * FROM in0 JOIN in1 USING (id);\n")
        deps[f"transformation:{tid}"] = sorted({producer for _, producer in inputs})
        outputs.append((f"out_{tid}.result", f"transformation:{tid}"))
    marts = []
    for d in range(datamarts):
        chosen = rng.sample(outputs, 2)
        marts.append({"id": f"dm{d:04d}", "tables": [{"table": t, "as": f"r{i}"} for i, (t, _) in enumerate(chosen)]})
        deps[f"datamart:dm{d:04d}"] = sorted({producer for _, producer in chosen})
    (root / "datamarts.yaml").write_text(yaml.safe_dump({"datamarts": marts}, sort_keys=False))
    from headrace.project.graph import layers

    tasks = sorted(deps)
    orchestrations = []
    for o in range(orchs):
        chosen = rng.sample(tasks, 10)
        steps = layers(deps, chosen)
        schedule = None if o % 5 == 0 else f"{o % 60} {o % 24} * * *"
        orchestrations.append({"id": f"o{o:03d}", "schedule": schedule, "tasks": steps})
    (root / "orchestrations.yaml").write_text(yaml.safe_dump({"orchestrations": orchestrations}, sort_keys=False))


def dagfactory_config(manifest: Manifest, project_dir: Path) -> dict:
    """The DAGs our DAG file builds, described for dag-factory (same ids, tasks, edges, settings)."""
    from headrace.orchestrator.naming import PROJECT_UPDATE, dag_name, orchestration_dag_name, task_name
    from headrace.plan import orchestration_plan

    operator = "headrace.orchestrator.operators.HeadraceTaskOperator"
    params = {"full_refresh": {"__type__": "airflow.sdk.Param", "__args__": [False], "type": "boolean"}}

    def task(tid: str, upstream: list[str], rule: str = "all_success") -> dict:
        spec = manifest.tasks[tid]
        return {
            "task_id": task_name(tid),
            "operator": operator,
            "headrace_task": tid,
            "project_dir": str(project_dir),
            "worker_type": spec.runs_on,
            "worker_timeout_s": spec.timeout,
            "retries": spec.retries,
            "execution_timeout": {"__type__": "datetime.timedelta", "seconds": spec.timeout + 40},
            "trigger_rule": rule,
            "dependencies": [task_name(u) for u in upstream],
        }

    common = {"catchup": False, "max_active_runs": 1, "is_paused_upon_creation": False, "params": params}
    update_task = {
        "task_id": "update",
        "operator": "headrace.orchestrator.operators.ProjectUpdateOperator",
        "retries": 0,
        "execution_timeout": {"__type__": "datetime.timedelta", "minutes": 20},
    }
    config: dict = {
        PROJECT_UPDATE: {
            **{k: v for k, v in common.items() if k != "params"},
            "schedule": "*/5 * * * *",
            "description": "Deploy the newest valid project version from git",
            "tags": ["headrace", "platform"],
            "tasks": [update_task],
        }
    }
    if plugins.get("warehouse", manifest.project.warehouse["type"]).capabilities.sandboxes:
        sandbox_dags = (("headrace_sandbox", None, None), ("headrace_sandbox_sweeper", "@hourly", "sweep"))
        for dag_id, schedule, action in sandbox_dags:
            sandbox_task = {
                "task_id": action or "sandbox",
                "operator": "headrace.orchestrator.operators.SandboxOperator",
                "project_dir": str(project_dir),
                "action": action,
                "retries": 0,
            }
            config[dag_id] = {
                **{k: v for k, v in common.items() if k != "params"},
                "schedule": schedule,
                "description": "the analysts' sandboxes",
                "tags": ["headrace", "platform"],
                "tasks": [sandbox_task],
            }
    for tid, spec in manifest.tasks.items():
        config[dag_name(tid)] = {
            **common,
            "schedule": None,
            "description": spec.description or tid,
            "tags": ["headrace", spec.kind],
            "tasks": [task(tid, [])],
        }
    for orch_id, orch in manifest.orchestrations.items():
        plan = orchestration_plan(manifest, orch_id)
        upstream: dict[str, list[str]] = {t: [] for t in plan.tasks()}
        for a, b in plan.edges():
            upstream[b].append(a)
        config[orchestration_dag_name(orch_id)] = {
            **common,
            "schedule": orch.schedule,
            "description": orch.description or orch_id,
            "tags": ["headrace", "orchestration"],
            "tasks": [task(t, upstream[t]) for t in plan.tasks()],
        }
    return config


PARSE_CHILD = """
import json, sys, time
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
import croniter
{preimport}
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - start
tasks = sum(len(d.tasks) for d in bag.dags.values())
print(json.dumps({{"seconds": elapsed, "dags": len(bag.dags), "tasks": tasks, "errors": list(bag.import_errors)}}))
"""


def time_parse(dag_file: Path, preimport: str, env: dict[str, str], repeat: int) -> dict:
    """Median parse time of ``dag_file`` over ``repeat`` fresh interpreters (imports not counted)."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", PARSE_CHILD.format(preimport=preimport), str(dag_file)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"parsing {dag_file} failed:\n{done.stderr[-3000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if runs[0]["errors"]:
        raise SystemExit(f"{dag_file}: import errors {runs[0]['errors']}")
    return {**runs[0], "seconds": statistics.median(r["seconds"] for r in runs)}


VALIDATE_CHILD = """
import json, sys, time
from pathlib import Path
from headrace.project.loader import load_project
from headrace.project.compile import build_manifest, write_manifest
start = time.perf_counter()
project = load_project(Path(sys.argv[1]))
validated = time.perf_counter()
write_manifest(build_manifest(project, None), Path(sys.argv[1]) / ".headrace" / "manifest.json")
print(json.dumps({"validate": validated - start, "compile": time.perf_counter() - start}))
"""


def time_validate(project: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", VALIDATE_CHILD, str(project)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"validating the generated project failed:\n{done.stderr[-3000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def cli_seconds(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "headrace", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"headrace {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def ensure_dagfactory() -> None:
    try:
        import dagfactory  # noqa: F401
    except ImportError:
        uv = Path(sys.executable).parent / "uv"
        installer = (
            [str(uv), "pip", "install", "--python", sys.executable]
            if uv.exists()
            else [sys.executable, "-m", "pip", "install"]
        )
        print("installing dag-factory into this venv (PyPI) ...", flush=True)
        subprocess.run([*installer, "--quiet", "dag-factory"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extractors", type=int, default=300)
    parser.add_argument("--tables", type=int, default=5)
    parser.add_argument("--transformations", type=int, default=500)
    parser.add_argument("--datamarts", type=int, default=100)
    parser.add_argument("--orchestrations", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="fresh interpreters per measurement (median)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    ensure_dagfactory()
    work = args.keep or Path(tempfile.mkdtemp(prefix="headrace-bench-"))
    if work.exists():
        shutil.rmtree(work)
    project = work / "project"
    generate_project(project, args.extractors, args.tables, args.transformations, args.datamarts, args.orchestrations)
    components = args.extractors + args.transformations + args.datamarts + args.orchestrations
    print(
        f"project: {components:,} components: {args.extractors} extractors x {args.tables} tables, "
        f"{args.transformations} transformations, {args.datamarts} datamarts, {args.orchestrations} orchestrations"
    )

    validate = time_validate(project, args.repeat)
    validate_cli = cli_seconds("validate", str(project))
    compile_cli = cli_seconds("compile", str(project))
    print(f"validate: {validate['validate']:.3f} s in-process ({validate_cli:.2f} s for `headrace validate`)")
    print(f"compile:  {validate['compile']:.3f} s in-process ({compile_cli:.2f} s for `headrace compile`)")

    manifest_path = project / ".headrace" / "manifest.json"
    manifest = read_manifest(manifest_path)
    ours = work / "dags-headrace"
    ours.mkdir()
    shutil.copy(DAG_FILE, ours / DAG_FILE.name)
    theirs = work / "dags-dagfactory"
    theirs.mkdir()
    (theirs / "dags.yaml").write_text(yaml.safe_dump(dagfactory_config(manifest, project), sort_keys=False))
    (theirs / "dagfactory_dags.py").write_text(
        "# airflow DAGs from dags.yaml\nfrom pathlib import Path\n\nfrom dagfactory import load_yaml_dags\n\n"
        "load_yaml_dags(globals_dict=globals(), config_filepath=str(Path(__file__).with_name('dags.yaml')))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(work / "airflow"), "HEADRACE_MANIFEST": str(manifest_path)}
    # dag-factory needs more than Airflow's default 30 s per file from about 2,000 components on
    env.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "1800")
    env.pop("HEADRACE_HOME", None)
    headrace = time_parse(ours / DAG_FILE.name, "import headrace.orchestrator.dagbuild", env, args.repeat)
    factory = time_parse(theirs / "dagfactory_dags.py", "import dagfactory, yaml", env, args.repeat)
    for name, result in (("headrace", headrace), ("dag-factory", factory)):
        print(f"parse {name:12s} {result['seconds']:.3f} s  ({result['dags']} DAGs, {result['tasks']} tasks)")
    if (headrace["dags"], headrace["tasks"]) != (factory["dags"], factory["tasks"]):
        raise SystemExit("the two DAG files do not build the same DAGs: the comparison would be meaningless")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    ratio = factory["seconds"] / headrace["seconds"]
    parse_s, validate_s = headrace["seconds"], validate["validate"]
    print(f"RESULT parse_s={parse_s:.3f} dagfactory_vs_headrace={ratio:.1f} validate_s={validate_s:.3f}")


if __name__ == "__main__":
    main()
