"""Throughput of the fast Infinite Descent step against Levenberg–Marquardt, Osborne and Newton.

Run from the repository root:

    python benchmarks/batch_throughput.py            # full run, about 1.5 minutes on 2 CPU cores
    python benchmarks/batch_throughput.py --quick    # small run, seconds

Every method works on the same seeded problems in one run. Per noise level (0 and 1e-3) the
script draws ``max(batch sizes)`` one-atom problems with ``idlib.problems.random_one_atom_problem``
(64 points on [0, 10], start distance 0.1) and, for each batch size B, gives the first B of them
to

- fast Infinite Descent (``idlib.fast_solve.fast_direct_solve``), torch float64, batched, with
  ``--threads`` torch threads (default 1) and again with torch's default thread count;
- the Osborne–Smyth Infinite Descent step (``idlib.direct_solve.direct_solve``), batched;
- Newton's method from θ0 (``idlib.fast_solve.newton_solve``), batched, closed-form Hessian;
- a Python loop of ``scipy.optimize.least_squares(method="lm")`` with the analytic Jacobian and
  ``xtol = ftol = gtol = 1e-15``, every problem timed (no extrapolation).

Accuracy: on noise-free data a method "reaches" a problem when its relative parameter error
against the truth is at most 1e-8. On noisy data it reaches it when its final loss is within a
relative 1e-9 of the lowest final loss any method found for that problem. Throughput is problems per second of wall
time, the median of repeated timed runs after one warm-up. On the single test problem
(``idlib.problems.paper_test_problem``) the script times fast ID, Osborne ID, lm and scipy's
Newton-CG (``idlib.baselines.newton_cg``) the same way. It writes
``benchmarks/results/batch_throughput[_quick].json`` and prints a summary, including where the
fast path spends its time (torch profiler, by kind of operation).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.optimize
import torch
from tqdm import tqdm

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from idlib.aion import AIONParams  # noqa: E402
from idlib.baselines import newton_cg  # noqa: E402
from idlib.direct_solve import direct_solve  # noqa: E402
from idlib.fast_solve import fast_direct_solve, newton_solve  # noqa: E402
from idlib.objective import AIONObjective  # noqa: E402
from idlib.outputs import write_text_atomic  # noqa: E402
from idlib.problems import paper_test_problem, parameter_error, random_one_atom_problem  # noqa: E402

GTOL = 1e-10
PARAMETER_TOLERANCE = 1e-8
LOSS_TOLERANCE = 1e-9
LM_TOLERANCE = 1e-15
START_DISTANCE = 0.1
POINTS = 64
NOISE_LEVELS = (0.0, 1e-3)
# The targets this benchmark checks, as ratios of wall time or throughput.
THROUGHPUT_TARGET = 100.0  # fast ID problems/s over lm problems/s at B = 4096
SINGLE_LM_TARGET = 0.5  # fast ID wall time over lm wall time on the test problem
SINGLE_NEWTON_CG_TARGET = 0.1  # fast ID wall time over Newton-CG wall time on the test problem

OPERATION_KINDS = {
    "transcendental functions": ("exp", "cos", "sin", "log", "atan2", "hypot", "sqrt", "acos", "polar", "complex"),
    "elementwise arithmetic": ("mul", "add", "sub", "div", "neg", "square", "addcmul", "clamp", "abs", "pow"),
    "reductions and matrix products": ("sum", "mm", "matmul", "bmm", "vector_norm", "amax", "all", "any", "mean"),
    "small linear algebra": ("linalg", "lu", "eigh", "eigvals", "cholesky"),
    "indexing, copies and masks": (
        "index", "copy", "cat", "stack", "where", "nonzero", "gather", "scatter", "clone", "fill", "eq", "ne",
        "le", "lt", "ge", "gt", "isfinite", "bitwise", "logical", "full", "empty", "zeros", "ones", "arange",
        "remainder", "argsort", "sort", "unfold", "expand", "select", "slice", "view", "reshape", "as_strided",
    ),
}


# ---------------------------------------------------------------------------------------------
# Problems and the lm baseline
# ---------------------------------------------------------------------------------------------
def make_problems(count: int, noise: float, seed_offset: int) -> dict:
    """Draw ``count`` one-atom problems on one shared grid and batch them."""
    problems = [
        random_one_atom_problem(seed_offset + seed, points=POINTS, noise=noise, start_distance=START_DISTANCE)
        for seed in tqdm(range(count), desc=f"problems, noise {noise:g}", leave=False)
    ]
    starts = AIONParams(*(torch.cat(parts) for parts in zip(*(p.initial_params.tensors() for p in problems))))
    truths = AIONParams(*(torch.cat(parts) for parts in zip(*(p.true_params.tensors() for p in problems))))
    return {"x": problems[0].x, "y": torch.stack([p.y for p in problems]), "starts": starts, "truths": truths}


def lm_functions(x: np.ndarray):
    """Return the residual and analytic Jacobian functions of ``A exp(αx) cos(ωx + φ) - y``."""

    def residuals(theta, y):
        A, alpha, omega, phi = theta
        return A * np.exp(alpha * x) * np.cos(omega * x + phi) - y

    def jacobian(theta, y):
        A, alpha, omega, phi = theta
        envelope, angle = np.exp(alpha * x), omega * x + phi
        cosine, sine = envelope * np.cos(angle), envelope * np.sin(angle)
        return np.stack([cosine, x * A * cosine, -x * A * sine, -A * sine], axis=1)

    return residuals, jacobian


def run_lm_loop(x: torch.Tensor, y: torch.Tensor, starts: AIONParams, description: str) -> dict:
    """Fit every problem with scipy's lm, timing each call; returns parameters, losses, gradients, times."""
    grid = x[:, 0].numpy()
    residuals, jacobian = lm_functions(grid)
    targets = y.numpy()
    thetas = starts.to_vector().numpy()
    fitted, losses, times, grad_rel = [], [], [], []
    for index in tqdm(range(targets.shape[0]), desc=description, leave=False):
        begin = time.perf_counter()
        result = scipy.optimize.least_squares(
            residuals,
            thetas[index],
            jac=jacobian,
            args=(targets[index],),
            method="lm",
            xtol=LM_TOLERANCE,
            ftol=LM_TOLERANCE,
            gtol=LM_TOLERANCE,
        )
        times.append(time.perf_counter() - begin)
        fitted.append(result.x)
        losses.append(float(np.mean(result.fun**2)))
        start_gradient = jacobian(thetas[index], targets[index]).T @ residuals(thetas[index], targets[index])
        end_gradient = result.jac.T @ result.fun
        grad_rel.append(float(np.linalg.norm(end_gradient) / np.linalg.norm(start_gradient)))
    return {
        "params": AIONParams.from_vector(torch.as_tensor(np.array(fitted)), 1, 1, 1),
        "loss": torch.as_tensor(losses, dtype=torch.float64),
        "grad_rel": torch.as_tensor(grad_rel, dtype=torch.float64),
        "times": np.array(times),
    }


# ---------------------------------------------------------------------------------------------
# Timing helpers
# ---------------------------------------------------------------------------------------------
def median_time(function, repeats: int) -> tuple[float, object]:
    """Return the median wall time of ``repeats`` calls after one warm-up call, and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - begin)
    return statistics.median(times), result


def repeats_for(batch: int, quick: bool) -> int:
    if quick:
        return 3
    return 15 if batch <= 256 else 5


def batch_slice(problems: dict, batch: int) -> dict:
    return {
        "x": problems["x"],
        "y": problems["y"][:batch],
        "starts": problems["starts"][slice(0, batch)],
        "truths": problems["truths"][slice(0, batch)],
    }


def accuracy(params: AIONParams, loss: torch.Tensor, truths: AIONParams, best_loss: torch.Tensor, noise: float):
    """Return the fraction of problems reached: parameter error (noise 0) or final loss near the best."""
    if noise == 0.0:
        reached = parameter_error(params, truths) <= PARAMETER_TOLERANCE
    else:
        reached = loss <= best_loss * (1 + LOSS_TOLERANCE) + 1e-300
    return float(reached.double().mean())


# ---------------------------------------------------------------------------------------------
# Where the fast path spends its time
# ---------------------------------------------------------------------------------------------
def classify(operation: str) -> str:
    name = operation.removeprefix("aten::").lower()
    for kind, keywords in OPERATION_KINDS.items():
        if any(name == keyword or name.startswith(keyword) for keyword in keywords):
            return kind
    return "other"


def profile_fast_path(problems: dict) -> dict:
    """Profile one fast step: share of operator time by kind, the top operators and the call count."""
    fast_direct_solve(problems["starts"], problems["x"], problems["y"])
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as profile:
        begin = time.perf_counter()
        fast_direct_solve(problems["starts"], problems["x"], problems["y"])
        wall = time.perf_counter() - begin
    events = profile.key_averages(group_by_input_shape=True)
    totals: dict[str, float] = {}
    calls = 0
    for event in events:
        if event.key.startswith("aten::") or event.key.startswith("prim::"):
            calls += event.count
        totals[classify(event.key)] = totals.get(classify(event.key), 0.0) + event.self_cpu_time_total
    overall = sum(totals.values())
    top = sorted(events, key=lambda event: event.self_cpu_time_total, reverse=True)[:8]
    return {
        "batch_size": int(problems["y"].shape[0]),
        "wall_time_s_under_profiler": wall,
        "operator_calls": calls,
        "share_by_kind": {kind: value / overall for kind, value in sorted(totals.items(), key=lambda item: -item[1])},
        "top_operators": [
            {
                "operator": event.key,
                "input_shapes": str(event.input_shapes),
                "calls": event.count,
                "self_time_ms": event.self_cpu_time_total / 1e3,
            }
            for event in top
        ],
    }


# ---------------------------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------------------------
def measure_batches(noise: float, batch_sizes: list[int], quick: bool, seed_offset: int, all_threads: int) -> dict:
    """Measure all batched methods and the lm loop on the same problems at one noise level.

    Fast ID is also timed with ``all_threads`` torch threads when that differs from the setting.
    """
    largest = max(batch_sizes)
    problems = make_problems(largest, noise, seed_offset)
    lm = run_lm_loop(problems["x"], problems["y"], problems["starts"], f"lm loop, noise {noise:g}")
    rows = []
    for batch in tqdm(batch_sizes, desc=f"batched methods, noise {noise:g}", leave=False):
        subset = batch_slice(problems, batch)
        x, y, starts, truths = subset["x"], subset["y"], subset["starts"], subset["truths"]
        repeats = repeats_for(batch, quick)
        results = {}
        timings = {}
        timings["fast_id"], results["fast_id"] = median_time(lambda: fast_direct_solve(starts, x, y), repeats)
        if all_threads != torch.get_num_threads():
            chosen_threads = torch.get_num_threads()
            torch.set_num_threads(all_threads)
            timings["fast_id_all_threads"], results["fast_id_all_threads"] = median_time(
                lambda: fast_direct_solve(starts, x, y), repeats
            )
            torch.set_num_threads(chosen_threads)
        osborne_repeats = 1 if batch >= 4096 else min(repeats, 3)
        timings["osborne_id"], results["osborne_id"] = median_time(lambda: direct_solve(starts, x, y), osborne_repeats)
        timings["newton"], results["newton"] = median_time(lambda: newton_solve(starts, x, y), min(repeats, 5))
        timings["lm_loop"] = float(lm["times"][:batch].sum())

        losses = {name: result.loss for name, result in results.items()}
        losses["lm_loop"] = lm["loss"][:batch]
        best_loss = torch.stack(list(losses.values())).amin(dim=0)
        row = {"batch_size": batch, "methods": {}}
        for name in [*results, "lm_loop"]:
            if name == "lm_loop":
                params, grad_rel, statuses = lm["params"][slice(0, batch)], lm["grad_rel"][:batch], None
            else:
                result = results[name]
                params, grad_rel, statuses = result.params, result.grad_norm / result.grad_norm_start, result.status
            entry = {
                "wall_time_s": timings[name],
                "throughput_per_s": batch / timings[name],
                "reached_fraction": accuracy(params, losses[name], truths, best_loss, noise),
                "gradient_criterion_fraction": float((grad_rel <= GTOL).double().mean()),
                "median_parameter_error": float(parameter_error(params, truths).median()),
            }
            if statuses is not None:
                entry["converged_fraction"] = statuses.count("converged") / batch
                entry["mean_inner_iterations"] = float(results[name].inner_iterations.double().mean())
            row["methods"][name] = entry
        fast_throughput = row["methods"]["fast_id"]["throughput_per_s"]
        for entry in row["methods"].values():
            entry["fast_id_speedup"] = fast_throughput / entry["throughput_per_s"]
        rows.append(row)
    profile = profile_fast_path(batch_slice(problems, min(4096, largest)))
    return {"noise": noise, "rows": rows, "fast_path_profile": profile}


def measure_single_problem(quick: bool) -> dict:
    """Time fast ID, Osborne ID, lm and Newton-CG on the test problem (medians after warm-up)."""
    problem = paper_test_problem()
    x, y, start = problem.x, problem.y, problem.initial_params
    repeats = 5 if quick else 51
    grid = x[:, 0].numpy()
    residuals, jacobian = lm_functions(grid)
    theta0 = start.to_vector()[0].numpy()
    targets = y.numpy()
    objective = AIONObjective(x, y)

    def lm():
        return scipy.optimize.least_squares(
            residuals, theta0, jac=jacobian, args=(targets,), method="lm",
            xtol=LM_TOLERANCE, ftol=LM_TOLERANCE, gtol=LM_TOLERANCE,
        )

    fast_time, fast = median_time(lambda: fast_direct_solve(start, x, y), repeats)
    osborne_time, osborne = median_time(lambda: direct_solve(start, x, y), repeats)
    lm_time, lm_result = median_time(lm, repeats)
    newton_cg_time, newton_cg_report = median_time(
        lambda: newton_cg(objective, start.to_vector()[0], gtol=GTOL), 3 if quick else 7
    )
    lm_params = AIONParams.from_vector(torch.as_tensor(lm_result.x), 1, 1, 1)
    newton_cg_params = AIONParams.from_vector(newton_cg_report.theta, 1, 1, 1)

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        fast_direct_solve(start, x, y)
    calls = sum(event.count for event in profile.key_averages() if event.key.startswith("aten::"))
    return {
        "problem": problem.description,
        "methods": {
            "fast_id": {
                "wall_time_s": fast_time,
                "status": fast.status[0],
                "parameter_error": float(parameter_error(fast.params, problem.true_params)[0]),
                "inner_iterations": int(fast.inner_iterations[0]),
            },
            "osborne_id": {
                "wall_time_s": osborne_time,
                "status": osborne.status[0],
                "parameter_error": float(parameter_error(osborne.params, problem.true_params)[0]),
                "inner_iterations": int(osborne.inner_iterations[0]),
            },
            "lm": {
                "wall_time_s": lm_time,
                "status": f"scipy status {lm_result.status}",
                "parameter_error": float(parameter_error(lm_params, problem.true_params)[0]),
                "function_evaluations": int(lm_result.nfev),
            },
            "newton_cg": {
                "wall_time_s": newton_cg_time,
                "status": newton_cg_report.status,
                "parameter_error": float(parameter_error(newton_cg_params, problem.true_params)[0]),
                "outer_iterations": newton_cg_report.outer_iterations,
            },
        },
        "fast_id_over_lm": fast_time / lm_time,
        "fast_id_over_newton_cg": fast_time / newton_cg_time,
        "fast_id_operator_calls": calls,
        "fast_id_time_per_operator_call_us": fast_time / max(calls, 1) * 1e6,
    }


def measure_gpu(batch_sizes: list[int]) -> dict | str:
    """Time fast ID on CUDA on the noise-free problems, when a GPU is present."""
    if not torch.cuda.is_available():
        return "not measured: torch.cuda.is_available() is False on this machine"
    problems = make_problems(max(batch_sizes), 0.0, 0)
    rows = []
    for batch in batch_sizes:
        subset = batch_slice(problems, batch)
        x, y, starts = subset["x"].cuda(), subset["y"].cuda(), subset["starts"].to(device="cuda")

        def run():
            result = fast_direct_solve(starts, x, y)
            torch.cuda.synchronize()
            return result

        elapsed, result = median_time(run, 5)
        rows.append({
            "batch_size": batch,
            "wall_time_s": elapsed,
            "throughput_per_s": batch / elapsed,
            "converged_fraction": result.status.count("converged") / batch,
        })
    return {"device": torch.cuda.get_device_name(0), "rows": rows}


def cpu_pressure() -> str | None:
    """Return the kernel's CPU pressure line ("some avg10=…"), a sign of other work on the cores."""
    path = Path("/proc/pressure/cpu")
    if not path.exists():
        return None
    return path.read_text().splitlines()[0]


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's processor string."""
    path = Path("/proc/cpuinfo")
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def raise_malloc_thresholds() -> bool:
    """Keep freed buffers in glibc's heap (M_MMAP_THRESHOLD and M_TRIM_THRESHOLD to 1 GiB)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    mmap_threshold, trim_threshold = -3, -1  # mallopt parameter numbers in glibc's malloc.h
    return bool(libc.mallopt(mmap_threshold, 1 << 30)) and bool(libc.mallopt(trim_threshold, 1 << 30))


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
def targets(results: dict) -> dict:
    """Check the throughput and single-problem targets on what was measured."""
    checks = {}
    for level in results["batches"]:
        for row in level["rows"]:
            if row["batch_size"] != 4096:
                continue
            fast, lm = row["methods"]["fast_id"], row["methods"]["lm_loop"]
            speedup = fast["throughput_per_s"] / lm["throughput_per_s"]
            checks[f"throughput_noise_{level['noise']:g}"] = {
                "target": f"fast ID ≥ {THROUGHPUT_TARGET:g}× the lm loop's throughput at B = 4096, same accuracy",
                "speedup": speedup,
                "fast_id_reached": fast["reached_fraction"],
                "lm_reached": lm["reached_fraction"],
                "met": bool(speedup >= THROUGHPUT_TARGET and fast["reached_fraction"] >= lm["reached_fraction"]),
            }
            if "fast_id_all_threads" in row["methods"]:
                all_threads = row["methods"]["fast_id_all_threads"]
                checks[f"throughput_noise_{level['noise']:g}"]["speedup_with_default_threads"] = (
                    all_threads["throughput_per_s"] / lm["throughput_per_s"]
                )
            if not checks[f"throughput_noise_{level['noise']:g}"]["met"]:
                profile = level["fast_path_profile"]
                checks[f"throughput_noise_{level['noise']:g}"]["where_the_time_goes"] = {
                    "profiled_share_by_kind": profile["share_by_kind"],
                    "top_operators": profile["top_operators"][:4],
                    "mean_newton_iterations": row["methods"]["fast_id"].get("mean_inner_iterations"),
                }
    single = results["single_problem"]
    checks["single_problem_vs_lm"] = {
        "target": f"fast ID wall time ≤ {SINGLE_LM_TARGET:g}× lm",
        "ratio": single["fast_id_over_lm"],
        "met": bool(single["fast_id_over_lm"] <= SINGLE_LM_TARGET),
    }
    if not checks["single_problem_vs_lm"]["met"]:
        checks["single_problem_vs_lm"]["where_the_time_goes"] = {
            "fast_id_operator_calls": single["fast_id_operator_calls"],
            "wall_time_per_operator_call_us": single["fast_id_time_per_operator_call_us"],
            "lm_function_evaluations": single["methods"]["lm"]["function_evaluations"],
        }
    checks["single_problem_vs_newton_cg"] = {
        "target": f"fast ID wall time ≤ {SINGLE_NEWTON_CG_TARGET:g}× Newton-CG",
        "ratio": single["fast_id_over_newton_cg"],
        "met": bool(single["fast_id_over_newton_cg"] <= SINGLE_NEWTON_CG_TARGET),
    }
    return checks


def print_summary(results: dict) -> None:
    machine = results["machine"]
    print(f"\nMachine: {machine['cpu_count']} CPUs, {machine['processor']}, torch {machine['torch']} "
          f"with {machine['torch_threads']} thread(s), numpy {machine['numpy']}, scipy {machine['scipy']}")
    print(f"CPU pressure before / after: {machine['cpu_pressure_before']} / {machine['cpu_pressure_after']}")
    names = {
        "fast_id": "fast ID",
        "fast_id_all_threads": f"fast ID, {machine['torch_default_threads']} thr",
        "osborne_id": "Osborne ID",
        "newton": "Newton (torch)",
        "lm_loop": "lm loop",
    }

    for level in results["batches"]:
        print(f"\nNoise {level['noise']:g}, start distance {START_DISTANCE:g}, {POINTS} points per problem")
        print(f"{'B':>6} {'method':>17} {'time (s)':>10} {'problems/s':>12} {'reached':>8} {'grad test':>9} "
              f"{'fast ID ×':>10}")
        for row in level["rows"]:
            for name, entry in row["methods"].items():
                print(f"{row['batch_size']:>6} {names[name]:>17} {entry['wall_time_s']:>10.4g} "
                      f"{entry['throughput_per_s']:>12.4g} {entry['reached_fraction']:>8.3f} "
                      f"{entry['gradient_criterion_fraction']:>9.3f} {entry['fast_id_speedup']:>10.3g}")
        profile = level["fast_path_profile"]
        shares = ", ".join(f"{kind} {share:.0%}" for kind, share in profile["share_by_kind"].items())
        print(f"  fast ID at B = {profile['batch_size']}: {profile['operator_calls']} operator calls; "
              f"profiled time by kind: {shares}")

    single = results["single_problem"]
    print("\nSingle test problem (median wall time after warm-up)")
    for name, entry in single["methods"].items():
        print(f"  {name:>11}: {entry['wall_time_s'] * 1e3:9.3f} ms, {entry['status']}, "
              f"parameter error {entry['parameter_error']:.2e}")
    print(f"  fast ID / lm = {single['fast_id_over_lm']:.3g}, fast ID / Newton-CG = "
          f"{single['fast_id_over_newton_cg']:.3g}; fast ID makes {single['fast_id_operator_calls']} torch "
          f"operator calls, {single['fast_id_time_per_operator_call_us']:.1f} µs of wall time per call")

    gpu = results["gpu"]
    print(f"\nGPU: {gpu if isinstance(gpu, str) else gpu['device']}")
    print("\nTargets")
    for name, check in results["targets"].items():
        value = check.get("speedup", check.get("ratio"))
        print(f"  {name}: {'met' if check['met'] else 'MISSED'} ({check['target']}; measured {value:.3g})")
        if "speedup_with_default_threads" in check:
            print(f"    with torch's default threads: {check['speedup_with_default_threads']:.3g}×")
        if "where_the_time_goes" in check:
            print(f"    where the time goes: {json.dumps(check['where_the_time_goes'], default=str)[:400]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small batches (1, 16, 256) and few repeats")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="torch intra-op threads for every batched method (default 1, so that throughput is per core "
        "like the single-threaded lm loop); 0 keeps torch's default",
    )
    parser.add_argument(
        "--tune-malloc", action="store_true",
        help="raise glibc's mmap and trim thresholds to 1 GiB so freed buffers are reused (off by default)",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON path (default benchmarks/results/...)")
    arguments = parser.parse_args(argv)

    malloc_tuned = raise_malloc_thresholds() if arguments.tune_malloc else False
    default_threads = torch.get_num_threads()
    if arguments.threads > 0:
        torch.set_num_threads(arguments.threads)
    batch_sizes = [1, 16, 256] if arguments.quick else [1, 16, 256, 4096, 10000]
    started = time.perf_counter()
    machine = {
        "cpu_count": os.cpu_count(),
        "processor": cpu_model(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_default_threads": default_threads,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "malloc_thresholds_raised": malloc_tuned,
        "cpu_pressure_before": cpu_pressure(),
    }
    results = {
        "description": __doc__,
        "settings": {
            "quick": arguments.quick,
            "batch_sizes": batch_sizes,
            "noise_levels": list(NOISE_LEVELS),
            "points": POINTS,
            "start_distance": START_DISTANCE,
            "gtol": GTOL,
            "parameter_tolerance": PARAMETER_TOLERANCE,
            "loss_tolerance": LOSS_TOLERANCE,
            "lm_tolerances": LM_TOLERANCE,
            "dtype": "float64",
        },
        "batches": [
            measure_batches(noise, batch_sizes, arguments.quick, index * 1_000_000, default_threads)
            for index, noise in enumerate(NOISE_LEVELS)
        ],
        "single_problem": measure_single_problem(arguments.quick),
        "gpu": measure_gpu(batch_sizes),
    }
    machine["cpu_pressure_after"] = cpu_pressure()
    results["machine"] = machine
    results["targets"] = targets(results) if not arguments.quick else {
        key: value for key, value in targets(results).items() if key.startswith("single")
    }
    results["run_time_s"] = time.perf_counter() - started

    output = arguments.output
    if output is None:
        name = "batch_throughput_quick.json" if arguments.quick else "batch_throughput.json"
        output = REPOSITORY / "benchmarks" / "results" / name
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output, json.dumps(results, indent=2) + "\n")
    print_summary(results)
    print(f"\nWrote {output.relative_to(REPOSITORY) if output.is_relative_to(REPOSITORY) else output} "
          f"in {results['run_time_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
