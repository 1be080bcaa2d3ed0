"""Atomic writing of figures and tables, and output-folder resolution."""

import os

import pytest
from matplotlib.figure import Figure

from idlib.outputs import REPOSITORY_ROOT, read_table, resolve_output_dir, save_figure, write_table


class BrokenArtist:
    """Stand-in for a figure whose rendering fails halfway."""

    def savefig(self, buffer, **options):
        buffer.write(b"partial")
        raise RuntimeError("rendering failed")


def test_failed_render_keeps_previous_figure(tmp_path):
    previous = tmp_path / "fig.png"
    previous.write_bytes(b"previous image")
    with pytest.raises(RuntimeError, match="rendering failed"):
        save_figure(BrokenArtist(), tmp_path / "fig")
    assert previous.read_bytes() == b"previous image"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fig.png"]


def test_figure_bytes_identical_across_saves(tmp_path):
    def render(stem):
        figure = Figure(figsize=(2, 2))
        figure.subplots().plot([0, 1], [1, 0])
        return save_figure(figure, tmp_path / stem)

    first, second = render("a"), render("b")
    for left, right in zip(first, second):
        assert left.read_bytes() == right.read_bytes(), f"{left.name} differs between two saves"


def test_table_round_trip(tmp_path):
    write_table([{"method": "x", "count": 3, "value": 0.125}], tmp_path / "t")
    assert read_table(tmp_path / "t.csv") == [{"method": "x", "count": "3", "value": "0.125"}]
    assert (tmp_path / "t.md").read_text().splitlines()[0] == "| method | count | value |"


def test_table_rejects_ragged_rows(tmp_path):
    with pytest.raises(ValueError, match="every row must have the columns"):
        write_table([{"a": 1}, {"b": 2}], tmp_path / "t")
    assert not list(tmp_path.iterdir())


def test_table_rejects_empty(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        write_table([], tmp_path / "t")


def test_output_dir_relative_to_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("IDLIB_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_output_dir(None) == REPOSITORY_ROOT
    assert resolve_output_dir("build") == REPOSITORY_ROOT / "build"
    monkeypatch.setenv("IDLIB_OUTPUT_DIR", os.fspath(tmp_path))
    assert resolve_output_dir(None) == tmp_path


def test_written_files_follow_umask(tmp_path):
    write_table([{"a": 1}], tmp_path / "t")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o666 & ~umask
