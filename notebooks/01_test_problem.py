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
# # The test problem: one Infinite Descent step against steepest descent and Newton-CG
#
# This notebook reproduces the experiment of R. T. Batley and S. Saha, *The Method of Infinite
# Descent*, arXiv:2510.05489 (2025): Figure 1 (loss level sets over two parameter planes with the
# path of each method) and the iteration counts reported beside it (Infinite Descent 1 step,
# steepest descent 1000 iterations, Newton conjugate gradient 28 iterations).
#
# The paper does not publish its data, grid, true parameters, start point or stopping rules, so
# this notebook builds its own instance of the same form and states every choice. Our counts sit
# beside the paper's in Table 1; they are not expected to match digit for digit.
#
# **Model.** One AION atom (rank 1, one input, one term),
# $f(x) = A_1 e^{\alpha_1 x} \cos(\omega_1 x + \varphi_1)$, the real part of
# $A_1 e^{\alpha_1 x + i(\omega_1 x + \varphi_1)}$.
#
# **Loss.** Mean squared error $L(\theta) = \frac1N \sum_n (f(x_n;\theta) - y_n)^2$.
#
# **Shared convergence criterion.** $\|\nabla L(\theta_k)\|_2 \le 10^{-10}\,\|\nabla L(\theta_0)\|_2$
# for every method; the iterative methods stop after 1000 outer iterations.

# %% tags=["parameters"]
seed = 0  # the problem is deterministic; the seed is recorded for provenance
output_dir = None  # None: IDLIB_OUTPUT_DIR if set, else the repository root
device = "cpu"  # "cpu" or "cuda"
gtol = 1e-10  # shared criterion: relative gradient norm
max_iterations = 1000  # cap on outer iterations of the iterative methods

# %%
import torch

from idlib.experiments import compare_methods, iteration_table
from idlib.outputs import resolve_output_dir, save_figure, write_table
from idlib.plotting import convergence_figure, level_set_figure
from idlib.problems import paper_test_problem

torch.manual_seed(seed)
output_root = resolve_output_dir(output_dir)
problem = paper_test_problem(device=device)
print(problem.description)

# %% [markdown]
# ## The instance
#
# 64 equally spaced points on $[0, 15]$, noise-free data from
# $(A_1, \alpha_1, \omega_1, \varphi_1) = (1, -0.1, 1.2, 0.5)$: a slowly decaying cosine seen
# for about three periods. The start $(2.21, -0.07, 1.11, 1.59)$ differs from the truth in all four
# parameters. It is one of 30 seeded random draws around the truth, selected because Newton-CG
# reaches the shared gradient criterion from it; from most of the other draws scipy's Newton-CG
# stops on its own step rule with a relative gradient norm near $10^{-9}$ (see `idlib.baselines`).
# Steepest descent uses Armijo backtracking with each trial move capped at length 0.25.

# %% [markdown]
# ## The Infinite Descent step
#
# The step $\delta$ solves $\nabla L(\theta+\delta) = 0$ directly. Shifting a term's parameters
# multiplies its complex form by $M(x) = e^{\Delta\alpha\,x + i(\Delta\omega\,x + \Delta\varphi)}$,
# the whole Taylor tower in $(\Delta\alpha, \Delta\omega, \Delta\varphi)$ summed in closed form, and
# the amplitude enters linearly. `idlib.direct_solve` turns the condition into exact algebra:
#
# 1. for fixed shifted rate and frequency, $\partial L/\partial A = \partial L/\partial\varphi = 0$
#    is a linear least-squares problem, so the amplitude and phase are eliminated;
# 2. on the uniform grid $x_n = x_0 + nh$ the multiplier is $w^n$ with $w = e^{(\Delta\alpha + i\Delta\omega)h}$,
#    so the shifted atom is a multiple of $z'^n$, and every model with the shifted roots $z', \bar z'$
#    is annihilated by a difference operator with coefficients $\gamma$ (the characteristic polynomial);
# 3. the remaining condition is the nonlinear eigenproblem $B(\gamma)\gamma = 0$ of Osborne and Smyth
#    (SIAM J. Sci. Comput. 16(1), 1995), solved by eigen-iteration from the $\gamma$ of the start; the
#    roots of $\gamma$ give $\alpha_1, \omega_1$, and step 1 gives $A_1, \varphi_1$.
#
# The step is one outer update. Its inner work (eigen-iterations, Cholesky factorisations,
# eigen-decompositions, the least-squares solve) is counted and reported in Table 1, next to the
# evaluations, Hessian-vector products and CG iterations of the baselines. With noise-free data the
# truth satisfies $Y\gamma^\star = 0$ for any weighting, so the step does not depend on the start here;
# this is the same fact that makes Prony-type methods exact on noise-free sums of exponentials.

# %%
reports = compare_methods(problem, gtol=gtol, max_iterations=max_iterations)
rows = iteration_table(problem, reports)
for method, report in reports.items():
    print(f"{method}: {report.status} ({report.message})")

# %% [markdown]
# ## Figure 1: level sets and paths
#
# Left: $\log_{10} L$ over $(\alpha_1, \varphi_1)$; right: over $(A_1, \omega_1)$; the other two
# parameters are held at the minimum, and each path is projected onto the plane. The Infinite
# Descent path is a single straight segment from the start to the minimum.

# %%
optimum = problem.true_params
figure_dir = output_root / "figures"
table_dir = output_root / "paper" / "tables"
fig1 = level_set_figure(problem, optimum, reports)
save_figure(fig1, figure_dir / "fig1_level_sets")
fig1

# %% [markdown]
# ## Figure 2: loss against iteration

# %%
fig2 = convergence_figure(reports)
save_figure(fig2, figure_dir / "fig2_convergence")
fig2

# %% [markdown]
# ## Table 1: iterations and all work
#
# `outer_iterations` is the number of parameter updates (scipy's `nit` for Newton-CG);
# `paper_iterations` is the count the paper reports for its own instance. The work columns count
# every loss, gradient and Hessian-vector evaluation, linear solve, eigen-decomposition and inner
# iteration. Wall times are measured after one untimed warm-up run of each method, on the machine
# that ran this notebook.

# %%
write_table(rows, table_dir / "table1_iterations")
columns = ["method", "status", "outer_iterations", "paper_iterations", "final_grad_norm_rel", "param_error_rel",
           "loss_evals", "grad_evals", "hvp_evals", "inner_iterations", "wall_time_s"]
for row in rows:
    print("  ".join(f"{column}={row[column]:.3g}" if isinstance(row[column], float) else f"{column}={row[column]}"
                    for column in columns))

# %% [markdown]
# ## Summary
#
# The next cell prints the headline numbers; the test suite (nbval) checks them against the stored
# output, so a change in any of them fails until the notebook is re-run and the change reviewed.
# Continuous values are printed as pass/fail against stated thresholds so that the check does not
# depend on the last digits of floating-point arithmetic.

# %%
# NBVAL_CHECK_OUTPUT
by_method = {row["method"]: row for row in rows}
for method, row in by_method.items():
    print(f"{method:17s} outer iterations: {row['outer_iterations']:4d}  (paper: {row['paper_iterations']:4d})  "
          f"status: {row['status']}")
step_row = by_method["Infinite Descent"]
print("ID relative gradient norm <= 1e-10:", step_row["final_grad_norm_rel"] <= 1e-10)
print("ID relative parameter error <= 1e-8:", step_row["param_error_rel"] <= 1e-8)
print("NCG relative parameter error <= 1e-8:", by_method["Newton-CG"]["param_error_rel"] <= 1e-8)
print("SD relative parameter error <= 1e-6:", by_method["Steepest Descent"]["param_error_rel"] <= 1e-6)
