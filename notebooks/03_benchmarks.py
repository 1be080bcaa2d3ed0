# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond the paper: Infinite Descent against the methods experts use
#
# The paper (Batley and Saha, arXiv:2510.05489) shows one Infinite Descent (ID) step on one
# problem. Here we ask whether the one step holds on other problems, which stationary point it
# reaches, and what it costs next to Levenberg–Marquardt (LM), variable projection (VarPro), the
# matrix pencil, Newton-CG, L-BFGS, steepest descent (SD) and Adam. Every method reports all its
# work; times are compared as ratios measured in the same run.
#
# In quick mode (the default, used by `make reproduce` and the tests) the live studies use small
# grids and few repetitions; `quick = False` runs them at full size. Table 3 summarises the
# recorded full benchmark `benchmarks/results/families.json` (written by
# `python benchmarks/run_benchmarks.py`), or a live quick run when that record is missing.

# %% tags=["parameters"]
seed = 0  # seed of the noise study
output_dir = None  # None: IDLIB_OUTPUT_DIR if set, else the repository root
device = "cpu"  # the studies run on the CPU; the batched solvers also accept "cuda"
quick = True  # small grids and few repetitions; False for the full studies

# %%
import json
import math

import torch

from idlib import benchmark, studies
from idlib.outputs import REPOSITORY_ROOT, resolve_output_dir, save_figure, write_table
from idlib.plotting_benchmarks import (basin_figure, cost_figure, noise_figure, success_against_distance_figure,
                                       sunspot_figure, throughput_figure)
from idlib.problems import paper_test_problem, random_one_atom_problem

torch.manual_seed(seed)
output_root = resolve_output_dir(output_dir)
figure_dir = output_root / "figures"
table_dir = output_root / "paper" / "tables"
results_dir = REPOSITORY_ROOT / "benchmarks" / "results"
problem = paper_test_problem(device=device)

# %% [markdown]
# ## Table 3: success, steps, work and time ratio per family
#
# A run succeeds when it reaches the lowest loss found on its problem by any method or by three
# extra LM restarts near the truth (`idlib.benchmark`). ID and the matrix pencil need a uniform
# one-dimensional grid and VarPro one input dimension; elsewhere they are marked not applicable.
# `time_ratio_to_id` is the median over problems of the method's wall time divided by ID's on
# the same problem.

# %%
record_path = results_dir / "families.json"
if record_path.exists():
    record = json.loads(record_path.read_text())
    source = f"recorded full run ({record['seeds']} seeds per family, {record['machine']['platform']})"
else:
    results = benchmark.run_families(benchmark.benchmark_families(), seeds=2, expensive_seeds=1, restarts=1)
    record = {"summary": benchmark.summarise(results), "results": results, "seeds": 2}
    source = "live quick run (2 seeds per family): no recorded full run found"
summary = record["summary"]
write_table(summary, table_dir / "table3_benchmarks")
print("Table 3 source:", source)
for row in summary:
    if row["method"] in ("ID", "LM", "NewtonCG") and row["problems"]:
        print(f"{row['family'][:45]:45s} {row['method']:9s} success {row['success_rate']:.2f}  "
              f"steps {row['median_outer_iterations']:6.1f}  time/ID {row['time_ratio_to_id']:.3g}")

# %% [markdown]
# ## Where ID fails
#
# The statuses of the ID step over all recorded problems. `not_applicable` marks non-uniform
# grids and two-dimensional models, which the eigenvalue direct solve does not handle; the other
# failures are reported by the step itself, with δ = 0, never as a wrong step.

# %%
id_status = {}
for result in record["results"]:
    for run in result["runs"]:
        if run["method"] == "ID":
            key = (result["family"], run["status"])
            id_status[key] = id_status.get(key, 0) + 1
for (family, status), count in sorted(id_status.items()):
    if status not in ("converged",):
        print(f"{family:55s} {status:22s} {count}")

# %% [markdown]
# ## Basins of attraction over the paper's two planes
#
# From every start on a grid over (α1, φ1) and over (A1, ω1), the other two parameters at the
# truth, does the method end at the global minimum (relative parameter error ≤ 1e-6)? One ID
# step is compared with a whole run of Newton-CG and of LM. With noise-free data ID's first
# stage (weighted Prony) lands on the truth from almost any start, because the truth's
# polynomial annihilates the data for every weighting; its failures sit where a start makes
# the first stage degenerate.

# %%
points = 11 if quick else 31
truth_vector = problem.true_params.to_vector()[0]
planes = {
    "alpha-phi": ("alpha1", "phi1", torch.linspace(-0.8, 0.6, points, dtype=torch.float64),
                  torch.linspace(-math.pi + 0.05, math.pi, points, dtype=torch.float64)),
    "A-omega": ("A1", "omega1", torch.linspace(0.2, 3.0, points, dtype=torch.float64),
                torch.linspace(0.3, 3.0, points, dtype=torch.float64)),
}
maps = {name: studies.basin_map(problem, *plane) for name, plane in planes.items()}
truth_points = {"alpha-phi": (float(truth_vector[1]), float(truth_vector[3])),
                "A-omega": (float(truth_vector[0]), float(truth_vector[2]))}
fig5 = basin_figure(maps, planes, truth_points)
save_figure(fig5, figure_dir / "fig5_basins")
fig5

# %% [markdown]
# ## Success against the distance of the start

# %%
distance_families = {}
for spec in benchmark.benchmark_families():
    if spec.hard_case is None and (spec.rank, spec.dim, spec.terms, spec.grid, spec.noise) == (1, 1, 1, "uniform", 0.0):
        distance_families[spec.start_distance] = spec.label()
fig6 = success_against_distance_figure(summary, distance_families)
save_figure(fig6, figure_dir / "fig6_success_distance")
fig6

# %% [markdown]
# ## Cost against problem size
#
# One-atom problems with N points on a uniform grid, start distance 0.1; the median of three
# timed runs after a warm-up. The dense Gram factorisation of our eigen-iteration costs O(N³) per
# inner iteration, so ID's time grows faster than LM's O(N) per iteration; this is a property of
# our implementation (a banded factorisation would be O(N)), and the figure shows what it costs.

# %%
sizes = [64, 256] if quick else [64, 256, 1024, 2048]
cost_rows = studies.cost_against_size(lambda n: random_one_atom_problem(3, points=n), sizes, repeats=1 if quick else 3)
write_table(cost_rows, table_dir / "table4_cost_size")
fig7 = cost_figure(cost_rows)
save_figure(fig7, figure_dir / "fig7_cost_size")
fig7

# %% [markdown]
# ## Noise: estimator variance against the Cramér–Rao bound
#
# Gaussian noise added to the test problem's clean data; the variance of each estimate over the
# realisations beside the bound σ²(JᵀJ)⁻¹. ID and LM reach the same least-squares estimate
# (the maximum-likelihood estimate here), so their variances coincide and sit at the bound; the
# matrix pencil is not the least-squares fit and its variance sits above it at high noise.

# %%
realisations = 20 if quick else 200
noise_rows = studies.noise_study(problem, [1e-3, 1e-2, 1e-1], realisations, seed=seed)
write_table(noise_rows, table_dir / "table5_noise_crb")
fig8 = noise_figure(noise_rows, ["alpha1", "omega1"])
save_figure(fig8, figure_dir / "fig8_noise_crb")
fig8

# %% [markdown]
# ## Batch throughput
#
# Recorded by `python benchmarks/batch_throughput.py` (see `benchmarks/README.md`), which times
# the fast batched ID step (`idlib.fast_solve`), the eigen-iteration step, a batched Newton
# iteration and a loop of scipy's LM over the same problems in one run.

# %%
throughput_path = results_dir / "batch_throughput.json"
if not throughput_path.exists():
    throughput_path = results_dir / "batch_throughput_quick.json"
throughput = json.loads(throughput_path.read_text())
throughput_rows = []
for block in throughput["batches"]:
    if block["noise"] != 0.0:
        continue
    for row in block["rows"]:
        for method, values in row["methods"].items():
            if values.get("throughput_per_s"):
                throughput_rows.append({"method": method, "batch": row["batch_size"], "problems_per_s": values["throughput_per_s"]})
fig9 = throughput_figure(throughput_rows)
save_figure(fig9, figure_dir / "fig9_throughput")
print("source:", throughput_path.name, "| GPU:", throughput["gpu"])
for name, target in throughput["targets"].items():
    print(f"{name}: {target.get('target', '')}: ratio {target.get('ratio')}, met: {target.get('met')}")
fig9

# %% [markdown]
# ## A real measured signal: sunspots
#
# The yearly mean sunspot number 1700–2008 ships with statsmodels (309 values). After removing
# the mean we fit AIONs with P = 1, 2, 3 (and 4, 5 in full mode) terms, each method from the
# same periodogram start (the largest spectral peaks); `ID` is the eigen-iteration step and
# `ID-fast` the linear-prediction and Newton step of `idlib.fast_solve`. The Schwabe cycle of
# about eleven years and its slow modulation suit a few damped cosines; the sharp asymmetric
# peaks do not, so this is a misspecified fit with a large residual. Both ID steps are at their
# weakest here: read their statuses in the table before their losses.

# %%
term_counts = [1, 2, 3] if quick else [1, 2, 3, 4, 5]
sunspot_rows, curves = studies.sunspot_fits(term_counts)
write_table(sunspot_rows, table_dir / "table6_sunspots")
for row in sunspot_rows:
    print(f"P={row['terms']} {row['method']:12s} {row['status']:22s} loss {row['final_loss']:9.2f}  "
          f"explained {row['explained_variance']:.3f}")
fig10 = sunspot_figure(curves, max(term_counts))
save_figure(fig10, figure_dir / "fig10_sunspots")
fig10

# %% [markdown]
# ## Summary
#
# Headline facts, checked by nbval: integers and pass/fail against stated thresholds only.

# %%
# NBVAL_CHECK_OUTPUT
id_basin = {name: int(plane_maps["ID"].sum()) for name, plane_maps in maps.items()}
print("basin grid points per plane:", points * points)
print("ID successes per plane:", id_basin)
print("ID reaches the truth from at least 90% of starts on both planes:",
      all(count >= 0.9 * points * points for count in id_basin.values()))
id_at_crb = all(row["efficiency"] > 0.5 for row in noise_rows if row["method"] == "ID")
print("ID variance within a factor 2 of the Cramér–Rao bound at every noise level:", id_at_crb)
print("ID statuses on sunspots:", [row["status"] for row in sunspot_rows if row["method"] == "ID"])
