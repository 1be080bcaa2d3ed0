"""Benchmark runs: every method on families of problems, judged by one success rule.

A run applies each method of ``METHODS`` to each problem from its start θ_0 and records the
outcome as a flat dict (JSON-ready): status, outer iterations, every work count, wall time,
final loss and relative gradient norm.

Success
-------
Let ``L_best`` be the lowest loss found on the problem by any method of the run and by
Levenberg–Marquardt from ``restarts`` extra starts (random perturbations of the truth), and
``s² = mean(y²)``. A run succeeds when its final loss satisfies

    L ≤ L_best (1 + 1e-6) + 1e-12 s²,

that is, it reached the global minimum as well as anybody could find it. With noise-free,
well-specified data ``L_best`` is zero up to rounding, so success means fitting the data to
about 1e-6 relative error in f.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from typing import Callable

import torch
from tqdm import tqdm

from .aion import AIONParams
from .baselines import newton_cg, steepest_descent
from .direct_solve import infinite_descent
from .families import FamilySpec, make_problem
from .objective import AIONObjective
from .problems import Problem
from .report import SolverReport, WorkCounts
from .strong_baselines import adam, lbfgs, levenberg_marquardt, matrix_pencil, variable_projection

SUCCESS_RELATIVE = 1e-6
SUCCESS_FLOOR = 1e-12


def is_uniform_one_dimensional(problem: Problem) -> bool:
    """True when the problem has one input on an equally spaced grid (needed by ID and the pencil)."""
    if problem.x.shape[-1] != 1 or problem.x.shape[0] < 2:
        return False
    steps = problem.x[:, 0].diff()
    return bool((steps - steps.mean()).abs().max() <= 1e-9 * steps.mean().abs())


def _objective(problem: Problem) -> AIONObjective:
    rank, dim, terms = problem.shape
    return AIONObjective(problem.x, problem.y, rank, dim, terms)


def _run_id(problem: Problem) -> SolverReport:
    return infinite_descent(problem.initial_params, problem.x, problem.y)


def _run_pencil(problem: Problem) -> SolverReport:
    rank, _, terms = problem.shape
    return matrix_pencil(problem.x, problem.y.unsqueeze(0), terms, rank=rank, theta0=problem.initial_params)[0]


def _with_objective(solver: Callable, **options) -> Callable[[Problem], SolverReport]:
    def run(problem: Problem) -> SolverReport:
        return solver(_objective(problem), problem.initial_params.to_vector()[0], **options)

    return run


# Each entry: (solver on a Problem, whether it needs a uniform one-dimensional grid).
METHODS: dict[str, tuple[Callable[[Problem], SolverReport], bool]] = {
    "ID": (_run_id, True),
    "LM": (_with_objective(levenberg_marquardt), False),
    "VarPro": (_with_objective(variable_projection), False),
    "MatrixPencil": (_run_pencil, True),
    "NewtonCG": (_with_objective(newton_cg), False),
    "LBFGS": (_with_objective(lbfgs), False),
    "SD": (_with_objective(steepest_descent, max_iterations=1000), False),
    "Adam": (_with_objective(adam, max_iterations=2000), False),
}
ONE_DIMENSIONAL_ONLY = {"VarPro"}


def applicable(method: str, problem: Problem) -> bool:
    """Return whether ``method`` can run on ``problem`` (grid and dimension requirements)."""
    _, needs_uniform = METHODS[method]
    if needs_uniform and not is_uniform_one_dimensional(problem):
        return False
    if method in ONE_DIMENSIONAL_ONLY and problem.x.shape[-1] != 1:
        return False
    return True


def run_method(method: str, problem: Problem) -> dict:
    """Run one method on one problem and return a JSON-ready record.

    A ValueError, RuntimeError or LinAlgError raised by the solver becomes a record with status
    ``"error"`` and the message, so one bad problem does not end a long benchmark.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {sorted(METHODS)}")
    if not applicable(method, problem):
        return {"method": method, "status": "not_applicable", "final_loss": math.nan}
    solver, _ = METHODS[method]
    started = time.perf_counter()
    try:
        report = solver(problem)
    except (ValueError, RuntimeError, torch.linalg.LinAlgError) as error:
        return {
            "method": method,
            "status": "error",
            "message": f"{type(error).__name__}: {error}",
            "final_loss": math.nan,
            "wall_time_s": time.perf_counter() - started,
        }
    record = {
        "method": method,
        "status": report.status,
        "outer_iterations": report.outer_iterations,
        "wall_time_s": report.wall_time_s,
        "final_loss": report.final_loss if math.isfinite(report.final_loss) else math.nan,
        "grad_norm_rel": report.grad_norm_rel if report.grad_norms and report.grad_norms[0] > 0 else math.nan,
    }
    record.update(asdict(report.work) if isinstance(report.work, WorkCounts) else {})
    return record


def best_loss_by_restarts(problem: Problem, restarts: int, seed: int) -> float:
    """The lowest loss Levenberg–Marquardt reaches from ``restarts`` perturbations of the truth.

    Each start is the truth plus a Gaussian perturbation of relative size 0.05 on every
    parameter (and absolute 0.3 on phases); without a truth, returns infinity.
    """
    if problem.true_params is None or restarts <= 0:
        return math.inf
    generator = torch.Generator().manual_seed(seed)
    truth = problem.true_params.to_vector()[0]
    best = math.inf
    rank, dim, terms = problem.shape
    if truth.numel() != 4 * rank * dim * terms:  # misspecified model: the truth has another size
        return math.inf
    phases = torch.zeros_like(truth, dtype=torch.bool)
    phases[3 * rank * dim * terms:] = True
    for _ in range(restarts):
        noise = torch.randn(truth.shape, generator=generator, dtype=truth.dtype)
        start = torch.where(phases, truth + 0.3 * noise, truth * (1 + 0.05 * noise))
        try:
            report = levenberg_marquardt(_objective(problem), start)
        except (ValueError, RuntimeError):
            continue
        if math.isfinite(report.final_loss):
            best = min(best, report.final_loss)
    return best


def judge(records: list[dict], problem: Problem, restart_best: float) -> float:
    """Mark each record's ``success`` in place and return ``L_best``."""
    losses = [record["final_loss"] for record in records if math.isfinite(record.get("final_loss", math.nan))]
    best = min(losses + [restart_best]) if losses or math.isfinite(restart_best) else math.nan
    scale = float(problem.y.pow(2).mean())
    for record in records:
        loss = record.get("final_loss", math.nan)
        record["success"] = bool(
            math.isfinite(loss) and math.isfinite(best) and loss <= best * (1 + SUCCESS_RELATIVE) + SUCCESS_FLOOR * scale
        )
    return best


def run_problem(problem: Problem, methods: list[str], restarts: int = 3, seed: int = 0) -> dict:
    """Run ``methods`` on one problem and judge them; return ``{"best_loss", "runs"}``."""
    records = [run_method(method, problem) for method in methods]
    restart_best = best_loss_by_restarts(problem, restarts, seed)
    best = judge(records, problem, restart_best)
    return {"best_loss": best, "runs": records}


def summarise(results: list[dict], reference: str = "ID") -> list[dict]:
    """Aggregate per family and method: success rate, median steps, work and time ratio to ``reference``.

    ``results`` contains dicts with ``family`` and ``runs`` (as from ``run_problem``). The time ratio
    is the median over problems of ``t_method / t_reference`` on the same problem, so both times
    come from the same run; it is missing where the reference does not apply.
    """
    by_key: dict[tuple[str, str], list[tuple[dict, dict | None]]] = {}
    for result in results:
        reference_run = next((run for run in result["runs"] if run["method"] == reference), None)
        for run in result["runs"]:
            by_key.setdefault((result["family"], run["method"]), []).append((run, reference_run))
    rows = []
    for (family, method), pairs in by_key.items():
        runs = [run for run, _ in pairs if run["status"] != "not_applicable"]
        if not runs:
            rows.append({"family": family, "method": method, "problems": 0, "success_rate": math.nan,
                         "median_outer_iterations": math.nan, "median_inner_iterations": math.nan,
                         "median_evaluations": math.nan, "median_wall_time_s": math.nan, "time_ratio_to_id": math.nan})
            continue
        ratios = [
            run["wall_time_s"] / ref["wall_time_s"]
            for run, ref in pairs
            if ref is not None and ref["status"] != "not_applicable" and run.get("wall_time_s") and ref.get("wall_time_s")
        ]
        evaluations = [
            sum(run.get(key, 0) for key in ("loss_evals", "grad_evals", "hvp_evals", "jacobian_evals")) for run in runs
        ]
        rows.append({
            "family": family,
            "method": method,
            "problems": len(runs),
            "success_rate": sum(run.get("success", False) for run in runs) / len(runs),
            "median_outer_iterations": _median([run.get("outer_iterations", math.nan) for run in runs]),
            "median_inner_iterations": _median([run.get("inner_iterations", math.nan) for run in runs]),
            "median_evaluations": _median(evaluations),
            "median_wall_time_s": _median([run.get("wall_time_s", math.nan) for run in runs]),
            "time_ratio_to_id": _median(ratios) if ratios else math.nan,
        })
    return rows


def _median(values: list[float]) -> float:
    finite = sorted(value for value in values if value is not None and math.isfinite(value))
    if not finite:
        return math.nan
    middle = len(finite) // 2
    return float(finite[middle]) if len(finite) % 2 else 0.5 * (finite[middle - 1] + finite[middle])


def start_grid(problem: Problem, first: str, second: str, first_values: torch.Tensor, second_values: torch.Tensor) -> AIONParams:
    """Starts that vary two parameters of the truth over a grid, the others at the truth; batch n2·n1.

    Row-major over ``second`` then ``first``, matching ``landscape.loss_surface``'s layout.
    """
    truth = problem.true_params
    names = truth.names()
    grid_first, grid_second = torch.meshgrid(first_values, second_values, indexing="xy")
    theta = truth.to_vector().expand(grid_first.numel(), -1).clone()
    theta[:, names.index(first)] = grid_first.reshape(-1)
    theta[:, names.index(second)] = grid_second.reshape(-1)
    return AIONParams.from_vector(theta, truth.rank, truth.dim, truth.terms)


# Steepest descent and Adam take about a second per problem, so they see fewer seeds.
EXPENSIVE_METHODS = ("SD", "Adam")


def benchmark_families() -> list[FamilySpec]:
    """The families of the benchmark: the paper's shape, then one change at a time, then hard cases."""
    return [
        FamilySpec(),
        FamilySpec(terms=2),
        FamilySpec(terms=3),
        FamilySpec(rank=2),
        FamilySpec(rank=3),
        FamilySpec(dim=2),
        FamilySpec(dim=2, rank=2),
        FamilySpec(noise=1e-3),
        FamilySpec(noise=1e-2),
        FamilySpec(noise=1e-1),
        FamilySpec(grid="jittered"),
        FamilySpec(grid="random"),
        FamilySpec(start_distance=0.03),
        FamilySpec(start_distance=0.3),
        FamilySpec(start_distance=1.0),
        FamilySpec(terms=2, hard_case="close_frequencies"),
        FamilySpec(terms=2, hard_case="amplitude_ratio"),
        FamilySpec(hard_case="strong_damping"),
        FamilySpec(terms=2, hard_case="too_few_terms"),
        FamilySpec(hard_case="too_many_terms"),
    ]


def run_families(
    families: list[FamilySpec], seeds: int, expensive_seeds: int, restarts: int = 3, progress: bool = False
) -> list[dict]:
    """Run every method on seeds ``0 … seeds-1`` of each family; expensive methods on the first few.

    Returns one dict per problem: ``family``, ``seed``, ``best_loss`` and ``runs``.
    """
    if seeds < 1 or expensive_seeds < 0 or restarts < 0:
        raise ValueError(f"need seeds >= 1, expensive_seeds >= 0 and restarts >= 0; got {seeds}, {expensive_seeds}, {restarts}")
    results = []
    with tqdm(total=len(families) * seeds, desc="problems", unit="problem", disable=not progress) as bar:
        for spec in families:
            for seed in range(seeds):
                methods = [m for m in METHODS if m not in EXPENSIVE_METHODS or seed < expensive_seeds]
                outcome = run_problem(make_problem(spec, seed), methods, restarts=restarts, seed=seed)
                results.append({"family": spec.label(), "seed": seed, **outcome})
                bar.update(1)
    return results
