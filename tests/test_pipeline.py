"""The reproduction driver run as a user runs it: a subprocess, real papermill, real kernels."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from idlib.outputs import REPOSITORY_ROOT, read_table

GOOD = '''\
# %% tags=["parameters"]
seed = 0
output_dir = None
device = "cpu"

# %%
from idlib.outputs import resolve_output_dir, write_table
write_table([{"name": "good", "value": 1}], resolve_output_dir(output_dir) / "paper" / "tables" / "good")
'''

BAD = '''\
# %% tags=["parameters"]
seed = 0
output_dir = None
device = "cpu"

# %%
from idlib.outputs import resolve_output_dir, write_table
raise RuntimeError("deliberate failure before writing")
write_table([{"name": "bad", "value": 2}], resolve_output_dir(output_dir) / "paper" / "tables" / "bad")
'''


def run_driver(*arguments, cwd, extra_environment=None):
    environment = dict(os.environ)
    environment.pop("IDLIB_OUTPUT_DIR", None)
    environment.update(extra_environment or {})
    return subprocess.run(
        [sys.executable, "-m", "idlib.pipeline", *arguments], cwd=cwd, capture_output=True, text=True, env=environment, timeout=600
    )


def test_failing_notebook_reported_and_others_run(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "01_good.py").write_text(GOOD)
    (notebooks / "02_bad.py").write_text(BAD)
    output = tmp_path / "out"
    stale = output / "paper" / "tables" / "bad.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("name,value\nbad,previous\n")

    result = run_driver("--notebook-dir", str(notebooks), "--output-dir", str(output), "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path)

    assert result.returncode == 1
    assert "02_bad.py" in result.stderr
    assert "cell" in result.stderr
    assert "deliberate failure" in result.stderr
    assert read_table(output / "paper" / "tables" / "good.csv") == [{"name": "good", "value": "1"}]
    assert stale.read_text() == "name,value\nbad,previous\n"
    assert (tmp_path / "runs" / "executed" / "02_bad.ipynb").exists()
    provenance = json.loads((output / "paper" / "provenance.json").read_text())
    assert [record["status"] for record in provenance["notebooks"]] == ["ok", "failed"]


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_device_without_cuda_rejected(tmp_path):
    result = run_driver("--only", "01", "--device", "cuda", "--output-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "sees no CUDA device" in result.stderr


def test_unknown_notebook_prefix_rejected(tmp_path):
    result = run_driver("--only", "99", "--output-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "no notebook matches ['99']" in result.stderr


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """Notebook 01 run once by the driver from a folder outside the repository."""
    folder = tmp_path_factory.mktemp("first")
    result = run_driver("--only", "01", "--output-dir", str(folder / "out"), "--runs-dir", str(folder / "runs"), cwd=folder)
    return folder / "out", result


def test_driver_from_another_folder_writes_outputs(first_run):
    output, result = first_run
    assert result.returncode == 0, result.stderr
    rows = read_table(output / "paper" / "tables" / "table1_iterations.csv")
    by_method = {row["method"]: row for row in rows}
    assert by_method["Infinite Descent"]["outer_iterations"] == "1"
    assert float(by_method["Infinite Descent"]["final_grad_norm_rel"]) <= 1e-10
    for stem in ("fig1_level_sets", "fig2_convergence"):
        for extension in ("png", "pdf"):
            assert (output / "figures" / f"{stem}.{extension}").stat().st_size > 0
    provenance = json.loads((output / "paper" / "provenance.json").read_text())
    assert provenance["notebooks"][0]["status"] == "ok"
    assert "torch" in provenance["packages"]


def without_timing(path):
    """Table rows with the measured wall-time columns removed; every other value must repeat."""
    return [{key: value for key, value in row.items() if not key.startswith("wall_time")} for row in read_table(path)]


def test_two_runs_give_identical_outputs(first_run, tmp_path):
    first, _ = first_run
    environment_backend = {"MPLBACKEND": "pdf"}
    result = run_driver("--only", "01", "--output-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs"),
                        cwd=tmp_path, extra_environment=environment_backend)
    assert result.returncode == 0, result.stderr
    second = tmp_path / "out"
    tables = sorted(path.relative_to(first) for path in (first / "paper" / "tables").glob("*.csv"))
    assert tables
    for table in tables:
        assert without_timing(first / table) == without_timing(second / table), f"{table} differs between two runs"
    figures = sorted(path.relative_to(first) for path in (first / "figures").iterdir())
    assert len(figures) == 4
    for figure in figures:
        assert (first / figure).read_bytes() == (second / figure).read_bytes(), f"{figure} differs between two runs"


def test_notebook_with_unknown_kernel_runs(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    header = textwrap.dedent("""\
        # ---
        # jupyter:
        #   kernelspec:
        #     display_name: Somebody's kernel
        #     language: python
        #     name: no-such-kernel-here
        # ---

        """)
    (notebooks / "01_good.py").write_text(header + GOOD)
    result = run_driver("--notebook-dir", str(notebooks), "--output-dir", str(tmp_path / "out"), "--runs-dir",
                        str(tmp_path / "runs"), cwd=tmp_path, extra_environment={"MPLBACKEND": "TkAgg"})
    assert result.returncode == 0, result.stderr
    assert read_table(tmp_path / "out" / "paper" / "tables" / "good.csv") == [{"name": "good", "value": "1"}]


def test_committed_table_matches_committed_claims():
    rows = read_table(REPOSITORY_ROOT / "paper" / "tables" / "table1_iterations.csv")
    by_method = {row["method"]: row for row in rows}
    assert set(by_method) == {"Infinite Descent", "Steepest Descent", "Newton-CG"}
    assert by_method["Infinite Descent"]["outer_iterations"] == "1"
    assert float(by_method["Infinite Descent"]["final_grad_norm_rel"]) <= 1e-10
    assert float(by_method["Infinite Descent"]["param_error_rel"]) <= 1e-8
    assert [by_method[m]["paper_iterations"] for m in ("Infinite Descent", "Steepest Descent", "Newton-CG")] == ["1", "1000", "28"]
    for row in rows:
        assert float(row["wall_time_s"]) > 0


def test_readme_counts_match_table():
    readme = (REPOSITORY_ROOT / "README.md").read_text()
    block = readme.split("<!-- table1-start -->")[1].split("<!-- table1-end -->")[0]
    quoted = [line.strip("| ").split(" | ") for line in block.strip().splitlines()[2:]]
    rows = read_table(REPOSITORY_ROOT / "paper" / "tables" / "table1_iterations.csv")
    expected = [[row["method"], row["outer_iterations"], row["paper_iterations"], row["status"]] for row in rows]
    assert quoted == expected, "README's iteration table is stale; copy the counts from paper/tables/table1_iterations.csv"
