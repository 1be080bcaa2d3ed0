"""The derivation figures render from small inputs and reject mismatched ones."""

import pytest
import torch

from idlib.outputs import save_figure
from idlib.plotting_derivation import order_k_figure, tower_convergence_figure


def study_row(problem, order, iterations, status="converged"):
    return {"problem": problem, "order": order, "status": status, "outer_iterations": iterations, "wall_time_s": 0.01}


def test_tower_convergence_figure_saves_both_formats(tmp_path):
    aion_errors = torch.logspace(0, -16, 11, dtype=torch.float64).repeat(2, 1)
    tanh_errors = torch.stack([torch.logspace(0, -5, 11, dtype=torch.float64), torch.logspace(0, 5, 11, dtype=torch.float64)])
    figure = tower_convergence_figure(aion_errors, [0.1, 1.0], tanh_errors, [0.5, 1.5])
    paths = save_figure(figure, tmp_path / "fig3")
    assert [path.suffix for path in paths] == [".png", ".pdf"]
    assert all(path.stat().st_size > 1000 for path in paths)
    labels = [text.get_text() for text in figure.axes[1].get_legend().get_texts()]
    assert labels == ["|δ| = 0.5 ρ", "|δ| = 1.5 ρ (diverges)"]


def test_tower_convergence_figure_rejects_mismatched_steps():
    errors = torch.ones(2, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match="one row of errors per step size"):
        tower_convergence_figure(errors, [0.1], errors, [0.5, 1.5])


def test_order_k_figure_marks_every_order(tmp_path):
    rows = [study_row("a", 1, 8), study_row("a", 2, 7), study_row("a", "inf", 1),
            study_row("b", 1, 12), study_row("b", 2, 30, status="max_iterations"), study_row("b", "inf", 1)]
    figure = order_k_figure(rows, {"a": "test problem"})
    iteration_axes = figure.axes[0]
    assert [label.get_text() for label in iteration_axes.get_xticklabels()] == ["1", "2", "∞"]
    hatched = [patch for patch in iteration_axes.patches if patch.get_hatch()]
    assert len(hatched) == 1  # the run that hit the iteration cap
    assert save_figure(figure, tmp_path / "fig4")


def test_order_k_figure_rejects_empty_rows():
    with pytest.raises(ValueError, match="rows is empty"):
        order_k_figure([])
