"""Figures of the benchmark notebook; colours for ID, SD and Newton-CG come from ``idlib.plotting``."""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .plotting import DISPLAY_NAMES, METHOD_COLORS, new_figure

# Benchmark method names mapped to one colour each; ID, SD and Newton-CG keep the paper's colours.
BENCHMARK_COLORS = {
    "ID": METHOD_COLORS["Infinite Descent"],
    "ID-fast": "darkgreen",
    "SD": METHOD_COLORS["Steepest Descent"],
    "NewtonCG": METHOD_COLORS["Newton-CG"],
    "LM": "tab:blue",
    "VarPro": "tab:orange",
    "MatrixPencil": "tab:brown",
    "LBFGS": "tab:purple",
    "Adam": "tab:gray",
}
MARKERS = {"ID": "o", "ID-fast": "h", "SD": "v", "NewtonCG": "s", "LM": "D", "VarPro": "^", "MatrixPencil": "P", "LBFGS": "X", "Adam": "*"}


def _label(name: str) -> str:
    return DISPLAY_NAMES.get(name.rstrip("0123456789"), name)


def basin_figure(maps: dict[str, dict[str, torch.Tensor]], planes: dict[str, tuple], truth: dict[str, tuple]) -> Figure:
    """Grids of success (filled) and failure (empty) per method, one row per parameter plane.

    ``maps[plane][method]`` is a boolean ``(n2, n1)`` map; ``planes[plane]`` is
    ``(first, second, first_values, second_values)``; ``truth[plane]`` is the truth's point.
    """
    methods = list(next(iter(maps.values())))
    figure = new_figure(3.2 * len(methods), 3.0 * len(maps))
    axes = np.atleast_2d(figure.subplots(len(maps), len(methods), squeeze=False))
    for row, (plane, plane_maps) in enumerate(maps.items()):
        first, second, first_values, second_values = planes[plane]
        for column, method in enumerate(methods):
            ax = axes[row, column]
            success = plane_maps[method].float().cpu().numpy()
            colour = BENCHMARK_COLORS.get(method, "black")
            ax.pcolormesh(first_values.cpu().numpy(), second_values.cpu().numpy(), success,
                          cmap=ListedColormap(["white", colour]), vmin=0, vmax=1, shading="nearest", edgecolors="0.85", linewidth=0.2)
            ax.plot(*truth[plane], marker="*", color="black", markersize=11, linestyle="none")
            ax.set_title(f"{method}: {100 * success.mean():.0f}% of starts", fontsize=9)
            ax.set_xlabel(_label(first))
            ax.set_ylabel(_label(second))
    return figure


def success_against_distance_figure(summary: list[dict], families: dict[float, str]) -> Figure:
    """Success rate per method against the start distance; ``families`` maps distance to family label."""
    figure = new_figure(6.4, 4.0)
    ax = figure.subplots()
    methods = sorted({row["method"] for row in summary}, key=list(BENCHMARK_COLORS).index)
    for method in methods:
        points = []
        for distance, family in sorted(families.items()):
            row = next((r for r in summary if r["family"] == family and r["method"] == method), None)
            if row is not None and row["problems"]:
                points.append((distance, row["success_rate"]))
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker=MARKERS.get(method, "o"), color=BENCHMARK_COLORS.get(method, "black"), label=method)
    ax.set_xscale("log")
    ax.set_xlabel("scaled distance of the start from the truth")
    ax.set_ylabel("success rate")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return figure


def cost_figure(rows: list[dict]) -> Figure:
    """Median wall time against the number of points, log-log, one line per method."""
    figure = new_figure(6.4, 4.0)
    ax = figure.subplots()
    for method in dict.fromkeys(row["method"] for row in rows):
        points = sorted((row["points"], row["median_wall_time_s"]) for row in rows if row["method"] == method)
        xs, ys = zip(*points)
        ax.loglog(xs, ys, marker=MARKERS.get(method, "o"), color=BENCHMARK_COLORS.get(method, "black"), label=method)
    ax.set_xlabel("data points N")
    ax.set_ylabel("median wall time per fit (s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def noise_figure(rows: list[dict], parameters: list[str]) -> Figure:
    """Empirical variance of each estimator against the Cramér–Rao bound, per parameter."""
    figure = new_figure(3.2 * len(parameters), 3.4)
    axes = figure.subplots(1, len(parameters), squeeze=False)[0]
    for ax, parameter in zip(axes, parameters):
        selected = [row for row in rows if row["parameter"] == parameter]
        levels = sorted({row["noise"] for row in selected})
        bound = [next(row["crb"] for row in selected if row["noise"] == level) for level in levels]
        ax.loglog(levels, bound, "k--", label="Cramér–Rao bound")
        for method in dict.fromkeys(row["method"] for row in selected):
            values = [next((row["variance"] for row in selected if row["noise"] == level and row["method"] == method), math.nan)
                      for level in levels]
            ax.loglog(levels, values, marker=MARKERS.get(method, "o"), linestyle="none",
                      color=BENCHMARK_COLORS.get(method, "black"), label=method)
        ax.set_title(f"variance of {_label(parameter)}", fontsize=9)
        ax.set_xlabel("relative noise level")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    return figure


def throughput_figure(rows: list[dict]) -> Figure:
    """Problems solved per second against batch size, one line per method (rows from the throughput JSON)."""
    figure = new_figure(6.4, 4.0)
    ax = figure.subplots()
    for method in dict.fromkeys(row["method"] for row in rows):
        points = sorted((row["batch"], row["problems_per_s"]) for row in rows if row["method"] == method)
        xs, ys = zip(*points)
        ax.loglog(xs, ys, marker="o", label=method)
    ax.set_xlabel("batch size B")
    ax.set_ylabel("problems per second")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def sunspot_figure(curves: dict[str, torch.Tensor], terms: int) -> Figure:
    """Plot the mean-removed sunspot series with each method's fitted AION of ``terms`` terms."""
    figure = new_figure(9.0, 3.8)
    ax = figure.subplots()
    years = curves["years"].cpu().numpy()
    ax.plot(years, curves["data"].cpu().numpy(), color="black", linewidth=1.0, label="sunspot number − mean")
    for method, curve in curves.items():
        if method in ("years", "data"):
            continue
        ax.plot(years, curve.cpu().numpy(), color=BENCHMARK_COLORS.get(method, "black"), linewidth=1.3, label=method)
    ax.set_xlabel("year")
    ax.set_ylabel("yearly mean sunspot number (centred)")
    ax.set_title(f"AION fits with {terms} terms (one input, rank 1)")
    ax.legend(fontsize=8, ncol=3)
    return figure
