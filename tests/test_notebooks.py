"""Notebook pairing and structure; the notebooks themselves are executed by nbval."""

from pathlib import Path

import jupytext
import nbformat
import pytest

from idlib.outputs import REPOSITORY_ROOT

SOURCES = sorted((REPOSITORY_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def cell_contents(notebook):
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_notebooks_exist():
    assert SOURCES, "no notebooks found under notebooks/"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_pair_in_sync(source: Path):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} is missing; run `make sync` or `make reproduce`"
    from_script = jupytext.read(source)
    from_notebook = nbformat.read(paired, as_version=4)
    assert cell_contents(from_script) == cell_contents(from_notebook), (
        f"{source.name} and {paired.name} disagree; edit the .py and run `make reproduce` (or `make sync`)"
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_one_parameters_cell(source: Path):
    notebook = jupytext.read(source)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{source.name} needs exactly one cell tagged 'parameters', found {len(tagged)}"
    assert "output_dir" in tagged[0].source and "device" in tagged[0].source and "seed" in tagged[0].source


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_stored_notebook_has_outputs(source: Path):
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert any(cell.outputs for cell in code_cells), f"{source.stem}.ipynb has no stored outputs; run `make reproduce`"
