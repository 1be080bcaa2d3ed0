"""Figures of the derivation notebook: tower convergence (Figure 3) and order-K descent (Figure 4).

Colours and the figure factory come from ``idlib.plotting``, so Infinite Descent keeps its lime.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from .plotting import method_color, new_figure

_FLOOR = 1e-17  # errors are clipped here on log axes; float64 rounding sits near 1e-16


def _plot_truncation_curves(axes, errors: torch.Tensor, labels: list[str], colors) -> None:
    orders = np.arange(errors.shape[1])
    for row, label, color in zip(errors.cpu().numpy(), labels, colors):
        axes.semilogy(orders, np.maximum(row, _FLOOR), "-o", color=color, markersize=2.5, linewidth=1.4, label=label)
    axes.set_xlabel("truncation order K")
    axes.grid(True, which="both", alpha=0.3)


def tower_convergence_figure(
    aion_errors: torch.Tensor,
    aion_step_sizes,
    tanh_errors: torch.Tensor,
    tanh_step_ratios,
) -> Figure:
    """Relative truncation error of the tower against K, AION beside a tanh unit.

    Parameters
    ----------
    aion_errors : ``(S, K + 1)`` relative errors of the AION tower at step lengths
        ``aion_step_sizes`` (see ``aion_tower.aion_truncation_errors``).
    aion_step_sizes : the S step lengths ``|δ|``.
    tanh_errors : ``(S', K' + 1)`` relative errors of the tanh-unit tower (see
        ``tanh_models.tanh_truncation_errors``).
    tanh_step_ratios : the S' step lengths divided by the radius of convergence ρ.
    """
    if aion_errors.shape[0] != len(aion_step_sizes) or tanh_errors.shape[0] != len(tanh_step_ratios):
        raise ValueError("need one row of errors per step size in each panel")
    figure = new_figure(10.0, 4.2)
    left, right = figure.subplots(1, 2)
    colormap = colormaps["viridis"]
    aion_colors = [colormap(value) for value in np.linspace(0.15, 0.85, len(aion_step_sizes))]
    _plot_truncation_curves(left, aion_errors, [f"|δ| = {h:.3g}" for h in aion_step_sizes], aion_colors)
    left.set_title("AION test problem: the tower is entire in δ")
    left.set_ylabel(r"$\|\sum_{k\leq K} T_k(\delta) - \nabla L(\theta+\delta)\| \,/\, \|\nabla L(\theta)\|$")
    left.legend(fontsize=8, loc="lower left")

    tanh_colors = ["tab:blue" if ratio < 1 else "tab:red" for ratio in tanh_step_ratios]
    shades = np.linspace(1.0, 0.55, len(tanh_step_ratios))
    tanh_colors = [tuple(shade * channel for channel in to_rgb(color)) for color, shade in zip(tanh_colors, shades)]
    labels = [f"|δ| = {ratio:.3g} ρ" + (" (diverges)" if ratio > 1 else "") for ratio in tanh_step_ratios]
    _plot_truncation_curves(right, tanh_errors, labels, tanh_colors)
    right.set_title("tanh unit: radius of convergence ρ")
    right.legend(fontsize=8, loc="upper left")
    return figure


def _order_label(order) -> str:
    return "∞" if order == "inf" or (isinstance(order, float) and math.isinf(order)) else str(order)


def order_k_figure(rows: list[dict], problem_labels: dict[str, str] | None = None) -> Figure:
    """Outer iterations and wall time against the order K (1, 2, …, ∞), grouped by problem.

    ``rows`` come from ``order_k.order_k_study`` (one list per problem, concatenated). Bars of
    runs that did not converge are hatched and marked with their status.
    """
    if not rows:
        raise ValueError("rows is empty; run order_k.order_k_study first")
    problems = list(dict.fromkeys(row["problem"] for row in rows))
    orders = list(dict.fromkeys(row["order"] for row in rows))
    labels = problem_labels or {}
    figure = new_figure(10.0, 4.0)
    iteration_axes, time_axes = figure.subplots(1, 2)
    width = 0.8 / len(problems)
    positions = np.arange(len(orders))
    greys = ["0.35", "0.7", "0.5", "0.85"]
    for index, problem in enumerate(problems):
        by_order = {row["order"]: row for row in rows if row["problem"] == problem}
        offset = (index - (len(problems) - 1) / 2) * width
        for position, order in zip(positions, orders):
            row = by_order.get(order)
            if row is None:
                continue
            color = method_color("Infinite Descent") if order == "inf" else greys[index % len(greys)]
            hatch = None if row["status"] == "converged" else "//"
            edge = "black"
            iteration_axes.bar(position + offset, row["outer_iterations"], width, color=color, edgecolor=edge, hatch=hatch)
            time_axes.bar(position + offset, 1e3 * row["wall_time_s"], width, color=color, edgecolor=edge, hatch=hatch)
            iteration_axes.annotate(str(row["outer_iterations"]), (position + offset, row["outer_iterations"]),
                                    ha="center", va="bottom", fontsize=7)
        iteration_axes.bar(np.nan, 0, width, color=greys[index % len(greys)], edgecolor="black",
                           label=labels.get(problem, problem))
    iteration_axes.bar(np.nan, 0, width, color=method_color("Infinite Descent"), edgecolor="black",
                       label="K = ∞: Infinite Descent")
    for axes in (iteration_axes, time_axes):
        axes.set_xticks(positions, [_order_label(order) for order in orders])
        axes.set_xlabel("truncation order K of the first-order condition")
        axes.grid(True, axis="y", alpha=0.3)
    iteration_axes.set_ylabel("outer iterations to ‖∇L‖ ≤ 1e-10 ‖∇L(θ₀)‖")
    iteration_axes.legend(fontsize=8, loc="upper right")
    time_axes.set_yscale("log")
    time_axes.set_ylabel("wall time (ms, this machine)")
    iteration_axes.set_title("outer iterations (bar groups: problems)")
    time_axes.set_title("wall time, all inner work included")
    return figure
