"""Figure style and the figure functions shared by the notebooks.

Colours follow the paper's Figure 1: Infinite Descent lime, steepest descent cyan, Newton-CG
magenta, the initial point a red cross. They are defined here once.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure

from .aion import AIONParams
from .landscape import loss_surface
from .problems import Problem
from .report import SolverReport

METHOD_COLORS = {
    "Infinite Descent": "lime",
    "Steepest Descent": "cyan",
    "Newton-CG": "magenta",
}
METHOD_LABELS = {"Infinite Descent": "ID", "Steepest Descent": "SD", "Newton-CG": "NCG"}
START_STYLE = {"marker": "x", "color": "red", "markersize": 10, "markeredgewidth": 2.5, "linestyle": "none"}
OPTIMUM_STYLE = {"marker": "*", "color": "white", "markeredgecolor": "black", "markersize": 13, "linestyle": "none"}
DISPLAY_NAMES = {"A": "$A_1$", "alpha": r"$\alpha_1$", "omega": r"$\omega_1$", "phi": r"$\varphi_1$"}


def method_color(method: str) -> str:
    return METHOD_COLORS.get(method, "black")


def new_figure(width: float, height: float) -> Figure:
    """Create a figure detached from pyplot, so no backend or global state is involved."""
    figure = Figure(figsize=(width, height), layout="constrained")
    matplotlib.rcParams["svg.hashsalt"] = "idlib"
    return figure


def _display_name(label: str) -> str:
    return DISPLAY_NAMES.get(label.rstrip("0123456789"), label)


def _plane_window(values: list[float], margin: float = 0.15) -> tuple[float, float]:
    low, high = min(values), max(values)
    span = max(high - low, 1e-3)
    return low - margin * span, high + margin * span


def plot_level_sets(
    axes,
    problem: Problem,
    optimum: AIONParams,
    reports: dict[str, SolverReport],
    first: str,
    second: str,
    points: int = 201,
    levels: int = 30,
) -> None:
    """Draw loss level sets over (``first``, ``second``) and the paths of each method.

    The other parameters are held at ``optimum``; paths are projected onto the plane. Levels are
    spaced evenly in log10(L).
    """
    names = optimum.names()
    i, j = names.index(first), names.index(second)
    along_first = [float(point[i]) for report in reports.values() for point in report.path] + [float(optimum.to_vector()[0, i])]
    along_second = [float(point[j]) for report in reports.values() for point in report.path] + [float(optimum.to_vector()[0, j])]
    first_window, second_window = _plane_window(along_first), _plane_window(along_second)
    dtype, device = optimum.dtype, optimum.device
    first_values = torch.linspace(*first_window, points, dtype=dtype, device=device)
    second_values = torch.linspace(*second_window, points, dtype=dtype, device=device)
    surface = loss_surface(optimum, problem.x, problem.y, first, second, first_values, second_values)
    log_surface = torch.log10(surface.clamp_min(1e-16)).cpu().numpy()
    axes.contourf(first_values.cpu().numpy(), second_values.cpu().numpy(), log_surface, levels=levels, cmap="Greys_r")
    axes.contour(first_values.cpu().numpy(), second_values.cpu().numpy(), log_surface, levels=levels, colors="k", linewidths=0.3)
    for method, report in reports.items():
        path = torch.stack(report.path).cpu().numpy()
        label = f"{METHOD_LABELS.get(method, method)} ({report.outer_iterations} it.)"
        axes.plot(path[:, i], path[:, j], "-o", color=method_color(method), markersize=2.5, linewidth=1.6, label=label)
    start = next(iter(reports.values())).path[0].cpu().numpy()
    axes.plot(start[i], start[j], **START_STYLE, label="start")
    axes.plot(float(optimum.to_vector()[0, i]), float(optimum.to_vector()[0, j]), **OPTIMUM_STYLE, label="minimum")
    axes.set_xlim(*first_window)
    axes.set_ylim(*second_window)
    axes.set_xlabel(_display_name(first))
    axes.set_ylabel(_display_name(second))


def level_set_figure(problem: Problem, optimum: AIONParams, reports: dict[str, SolverReport]) -> Figure:
    """Two panels of loss level sets, over (α1, φ1) and over (A1, ω1), with every method's path."""
    figure = new_figure(10.0, 4.4)
    left, right = figure.subplots(1, 2)
    plot_level_sets(left, problem, optimum, reports, "alpha1", "phi1")
    plot_level_sets(right, problem, optimum, reports, "A1", "omega1")
    left.set_title(r"level sets of $\log_{10} L$ over $(\alpha_1, \varphi_1)$")
    right.set_title(r"level sets of $\log_{10} L$ over $(A_1, \omega_1)$")
    right.legend(loc="best", fontsize=8, framealpha=0.9)
    return figure


def convergence_figure(reports: dict[str, SolverReport]) -> Figure:
    """Loss against outer iteration for every method, log scale; ID's single step is marked."""
    figure = new_figure(6.4, 4.2)
    axes = figure.subplots()
    floor = 1e-32
    for method, report in reports.items():
        losses = np.maximum(np.asarray(report.losses), floor)
        iterations = np.arange(len(losses))
        style = "-o" if len(losses) <= 50 else "-"
        axes.semilogy(iterations, losses, style, color=method_color(method), markersize=4, linewidth=1.6,
                      label=f"{method} ({report.outer_iterations} it.)")
    axes.set_xscale("symlog", linthresh=10)
    axes.set_xlabel("outer iteration (linear up to 10, logarithmic beyond)")
    axes.set_ylabel(f"loss L (clipped at {floor:g})")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    return figure
