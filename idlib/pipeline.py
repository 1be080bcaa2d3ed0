"""The reproduction driver: execute every notebook with papermill and record provenance.

Usage (from any folder)::

    python -m idlib.pipeline                   # every notebook, default parameters
    python -m idlib.pipeline --only 01 --quick # one notebook, quick mode where it has one

Each notebook ``notebooks/NN_topic.py`` (the jupytext source) is converted to a notebook and
executed with papermill into ``runs/executed/NN_topic.ipynb``. The notebooks write their figures
and tables atomically under the output folder. A failed notebook is reported by name and cell,
its executed copy is kept, the other notebooks still run, and the driver exits with status 1.
With default parameters the executed notebook, stripped of volatile metadata, replaces
``notebooks/NN_topic.ipynb`` so that the stored outputs match the latest run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .companion import write_companion
from .ledger import fill_ledger, load_ledger, write_ledger
from .outputs import OUTPUT_DIR_VARIABLE, REPOSITORY_ROOT, resolve_output_dir, write_text_atomic

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = REPOSITORY_ROOT / "notebooks"
RUNS_DIR = REPOSITORY_ROOT / "runs"
KERNEL_NAME = "python3"  # the kernel of the running interpreter, whatever the notebook names
PROVENANCE_PACKAGES = ("idlib", "torch", "numpy", "scipy", "matplotlib", "papermill", "jupytext", "nbformat", "ipykernel")


def discover_notebooks(only: list[str] | None = None, notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """Return the jupytext sources ``NN_*.py`` of ``notebook_dir`` in order, filtered by prefix or name."""
    if not notebook_dir.is_dir():
        raise ValueError(f"notebook folder {notebook_dir} does not exist; pass an existing folder")
    sources = sorted(notebook_dir.glob("[0-9][0-9]_*.py"))
    if only:
        chosen = [path for path in sources if any(path.stem == key or path.stem.startswith(key) for key in only)]
        missing = [key for key in only if not any(path.stem == key or path.stem.startswith(key) for path in sources)]
        if missing:
            names = ", ".join(path.stem for path in sources)
            raise ValueError(f"no notebook matches {missing}; available notebooks: {names}")
        return chosen
    return sources


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """Return the commit of the repository, with ``+dirty`` when the work tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+dirty" if dirty else "")


def output_digests(output_root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``figures/`` and ``paper/tables/``, keyed by relative path."""
    digests = {}
    for folder in (output_root / "figures", output_root / "paper" / "tables"):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.is_file() and not path.name.startswith("."):
                digests[path.relative_to(output_root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def display_path(path: Path) -> str:
    """Return the path relative to the repository when inside it, else absolute."""
    try:
        return path.resolve().relative_to(REPOSITORY_ROOT).as_posix() or "."
    except ValueError:
        return str(path)


def strip_volatile_metadata(notebook) -> None:
    """Remove papermill's timing and status metadata, which change on every run."""
    notebook.metadata.pop("papermill", None)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def _failure_summary(error: Exception) -> str:
    cell = getattr(error, "cell_index", None)
    count = getattr(error, "exec_count", None)
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    where = f"cell {cell}" if cell is not None else "setup"
    if count is not None:
        where += f" (execution count {count})"
    return f"{where}: {ename}: {evalue}"


def run_notebook(source: Path, parameters: dict, update_stored: bool, runs_dir: Path = RUNS_DIR) -> dict:
    """Execute one notebook; return its provenance record (status, parameters, time, failure)."""
    import jupytext
    import nbformat
    import papermill

    executed_dir = runs_dir / "executed"
    input_dir = runs_dir / "input"
    executed_dir.mkdir(parents=True, exist_ok=True)
    input_dir.mkdir(parents=True, exist_ok=True)
    notebook = jupytext.read(source)
    # jupytext draws random cell ids; numbered ids keep the stored notebook stable across runs.
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3 (ipykernel)", "language": "python"}
    input_path = input_dir / f"{source.stem}.ipynb"
    nbformat.write(notebook, input_path)
    declared = papermill.inspect_notebook(str(input_path))
    accepted = {key: value for key, value in parameters.items() if key in declared}
    executed_path = executed_dir / f"{source.stem}.ipynb"
    record = {"notebook": source.name, "parameters": accepted, "executed_copy": display_path(executed_path)}
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(input_path),
            str(executed_path),
            parameters=accepted,
            kernel_name=KERNEL_NAME,
            cwd=str(source.parent),
            progress_bar=False,
        )
    except Exception as error:  # papermill wraps kernel errors; any failure is reported, not raised
        record.update(status="failed", failure=_failure_summary(error))
    else:
        record["status"] = "ok"
        if update_stored:
            executed = nbformat.read(executed_path, as_version=4)
            strip_volatile_metadata(executed)
            executed.metadata["jupytext"] = notebook.metadata.get("jupytext", {})
            write_text_atomic(source.with_suffix(".ipynb"), nbformat.writes(executed) + "\n")
    record["elapsed_s"] = round(time.perf_counter() - started, 2)
    return record


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m idlib.pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NN", help="run only the notebooks whose name starts with these prefixes")
    parser.add_argument("--output-dir", help="folder that receives figures/ and paper/tables/ (default: the repository root)")
    parser.add_argument("--device", default=None, help="torch device passed to the notebooks, for example cpu or cuda")
    parser.add_argument("--quick", action="store_true", help="run notebooks that have a quick mode in it")
    parser.add_argument("--seed", type=int, default=None, help="seed passed to the notebooks")
    parser.add_argument("--notebook-dir", default=str(NOTEBOOK_DIR), help="folder of the NN_*.py notebooks (default: notebooks/)")
    parser.add_argument("--runs-dir", default=str(RUNS_DIR), help="folder for the executed copies (default: runs/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline; return 0 when every notebook succeeded and 1 otherwise."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arguments = build_parser().parse_args(argv)
    try:
        sources = discover_notebooks(arguments.only, Path(arguments.notebook_dir).expanduser().resolve())
    except ValueError as error:
        logger.error("%s", error)
        return 2
    # Paths given on the command line are taken from the working folder, as a shell user expects.
    if arguments.output_dir is not None:
        arguments.output_dir = str(Path(arguments.output_dir).expanduser().resolve())
    output_root = resolve_output_dir(arguments.output_dir)
    parameters = {}
    if arguments.output_dir is not None:
        parameters["output_dir"] = str(output_root)
    if arguments.device is not None:
        import torch

        try:
            device = torch.device(arguments.device)
        except RuntimeError as error:
            logger.error("invalid --device %r: %s", arguments.device, error)
            return 2
        if device.type == "cuda" and not torch.cuda.is_available():
            logger.error("--device %s requested but this torch build sees no CUDA device; use --device cpu", arguments.device)
            return 2
        parameters["device"] = arguments.device
    if arguments.quick:
        parameters["quick"] = True
    if arguments.seed is not None:
        parameters["seed"] = arguments.seed
    # Stored notebooks are refreshed only by a default run writing to the repository.
    update_stored = not parameters
    os.environ[OUTPUT_DIR_VARIABLE] = str(output_root)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

    started = time.perf_counter()
    records = []
    for source in sources:
        logger.info("running %s", source.name)
        record = run_notebook(source, parameters, update_stored, Path(arguments.runs_dir).expanduser().resolve())
        records.append(record)
        if record["status"] == "ok":
            logger.info("  done in %.1f s", record["elapsed_s"])
        else:
            logger.error("  FAILED %s in %s; executed copy kept at %s", source.name, record["failure"], record["executed_copy"])

    if update_stored and all(record["status"] == "ok" for record in records):
        # Our values in the claims ledger come from the tables just written; a changed claim
        # shows up in the diff of paper/claims.json for review.
        write_ledger(fill_ledger(load_ledger(), output_root))
        write_companion(output_root)
    provenance_path = output_root / "paper" / "provenance.json"
    try:
        previous = json.loads(provenance_path.read_text()).get("outputs", {})
    except (OSError, ValueError):
        previous = {}
    digests = output_digests(output_root)
    changed = sorted(name for name in set(digests) | set(previous) if digests.get(name) != previous.get(name))
    provenance = {
        "generated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "output_dir": display_path(output_root),
        "notebooks": records,
        "elapsed_s": round(time.perf_counter() - started, 2),
        # Outputs whose bytes differ from the previous run's record (wall-time columns make
        # tables with timings differ on every run).
        "changed_since_previous_run": changed,
        "outputs": digests,
    }
    write_text_atomic(provenance_path, json.dumps(provenance, indent=2) + "\n")
    failed = [record["notebook"] for record in records if record["status"] != "ok"]
    if failed:
        logger.error("%d of %d notebooks failed: %s", len(failed), len(records), ", ".join(failed))
        return 1
    logger.info("all %d notebooks ran in %.1f s; provenance in %s", len(records), provenance["elapsed_s"], provenance_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
