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
# # The derivation: from the first-order condition to the resummed equation, and where it stops
#
# R. T. Batley and S. Saha, *The Method of Infinite Descent*, arXiv:2510.05489 (2025), ask for
# the step $\delta$ that makes the gradient vanish at the new point,
#
# $$\nabla L(\theta + \delta) = 0,$$
#
# instead of a step built from a truncated local model. This notebook follows that idea one step
# at a time and checks every step numerically with the `idlib` package:
#
# 1. the Taylor tower of $\nabla L(\theta+\delta)$ and its truncation order, for any model;
# 2. $K = 1$ is Newton's method;
# 3. for AION every term of the tower has a closed form, and the tower sums to the shifted
#    gradient (the resummation), proved symbolically for one atom;
# 4. solving the truncated condition at order $K = 1, 2, 3, \dots$ and at $K = \infty$
#    (Infinite Descent) on the test problem and on a harder one (Figure 4);
# 5. where the idea stops: a tanh unit, whose tower has a finite radius of convergence
#    (Figure 3), and the Infinity Class table for several atom families (Table 2).
#
# The loss is the mean squared error $L(\theta) = \frac1N \sum_n (f(x_n;\theta) - y_n)^2$ and an
# AION atom is $A\,e^{\alpha x}\cos(\omega x + \varphi)$, the real part of
# $A\,e^{\alpha x + i(\omega x + \varphi)}$, taken term by term.

# %% tags=["parameters"]
seed = 0  # every computation here is deterministic; the seed is recorded for provenance
output_dir = None  # None: IDLIB_OUTPUT_DIR if set, else the repository root
device = "cpu"  # "cpu" or "cuda"; the symbolic checks run on the CPU either way
threads = 1  # torch CPU threads: the problems are tiny, and one thread gives steady timings
max_order = 40  # highest tower order in the convergence plots
orders = [1, 2, 3, 4, 5]  # truncation orders K of order-K descent (K = infinity is added)
gtol = 1e-10  # shared criterion: ||grad L(theta_k)|| <= gtol ||grad L(theta_0)||
max_iterations = 1000  # cap on outer iterations of order-K descent
symbolic_order = 6  # order of the sympy check of the closed-form atom tower

# %%
import sympy as sp
import torch

from idlib.aion import AIONParams, mse_loss
from idlib.aion_tower import AIONTower, aion_tower, aion_truncation_errors, root_test_sequence, tower_term_norms
from idlib.infinity_class import infinity_class_table
from idlib.order_k import harder_one_atom_problem, order_k_descent, order_k_study
from idlib.outputs import resolve_output_dir, save_figure, write_table
from idlib.plotting_derivation import order_k_figure, tower_convergence_figure
from idlib.problems import paper_test_problem
from idlib.symbolic_tower import atom_symbols, check_atom_tower, shifted_atom_terms
from idlib.tanh_models import tanh_network_loss, tanh_truncation_errors, tanh_unit_problem, tanh_unit_radius
from idlib.taylor import AutogradTower, taylor_tower, truncation_slopes
from idlib.tower import resummed_gradient

torch.manual_seed(seed)
torch.set_num_threads(threads)
output_root = resolve_output_dir(output_dir)
figure_dir = output_root / "figures"
table_dir = output_root / "paper" / "tables"
problem = paper_test_problem(device=device)
theta0 = problem.initial_params.to_vector()[0]
truth = problem.true_params.to_vector()[0]


def test_problem_loss(theta):
    return mse_loss(AIONParams.from_vector(theta, 1, 1, 1), problem.x, problem.y)[0]


print(problem.description)

# %% [markdown]
# ## 1. The Taylor tower of the gradient
#
# Expanding $\nabla L(\theta + \delta)$ around $\theta$ gives the tower
#
# $$\nabla L(\theta + \delta) = \sum_{k \ge 0} T_k(\delta), \qquad
#   T_k(\delta) = \frac{1}{k!}\,\nabla^{k+1} L(\theta)[\delta, \dots, \delta] \quad (k \text{ copies of } \delta).$$
#
# $T_k$ is the $k$-th Taylor coefficient in $t$ of $t \mapsto \nabla L(\theta + t\delta)$.
# `idlib.taylor.taylor_tower` computes it for any torch loss by nesting forward-mode derivatives
# (`torch.func.jvp`) in the direction $\delta$ around `torch.func.grad`, so no $n^{k+1}$ tensor is
# ever formed. Truncating after order $K$ leaves an error of order $|\delta|^{K+1}$. The check: fit the
# slope of the truncation error against the step length on a log-log scale, for the AION test
# problem and for a small tanh network with three hidden units. Both should give $K + 1$.

# %%
step_sizes = [0.02 * 1.5**i for i in range(6)]
aion_direction = torch.tensor([0.6, -0.03, 0.05, -0.8], dtype=torch.float64, device=device)
aion_direction = aion_direction / aion_direction.norm()
aion_slopes = truncation_slopes(test_problem_loss, theta0, aion_direction, step_sizes, max_order=3)

network_x = torch.linspace(-2, 2, 25, dtype=torch.float64, device=device)
network_loss, network_size = tanh_network_loss(network_x, torch.sin(1.3 * network_x), hidden=3)
generator = torch.Generator().manual_seed(seed)
network_theta = torch.randn(network_size, generator=generator, dtype=torch.float64).to(device)
network_direction = torch.randn(network_size, generator=generator, dtype=torch.float64).to(device)
network_direction = network_direction / network_direction.norm()
network_slopes = truncation_slopes(network_loss, network_theta, network_direction, step_sizes, max_order=3)
slopes_ok = all(abs(slope - (order + 1)) <= 0.15 for slopes in (aion_slopes, network_slopes)
                for order, slope in enumerate(slopes))
for order in range(4):
    print(f"K = {order}: slope {aion_slopes[order]:.3f} (AION), {network_slopes[order]:.3f} (tanh network); "
          f"expected {order + 1}")

# %% [markdown]
# ## 2. The order-1 truncation is Newton's method
#
# Keeping $k \le 1$ gives $\nabla L(\theta) + \nabla^2 L(\theta)\,\delta = 0$, so
# $\delta = -\nabla^2 L(\theta)^{-1} \nabla L(\theta)$. Keeping $k \le K$ gives the condition
# $G_K(\delta) = \sum_{k \le K} T_k(\delta) = 0$. $G_K$ is the gradient in $\delta$ of the
# degree-$(K+1)$ Taylor polynomial of $L$, so its roots are the stationary points of that model.
# The check below takes one step of `idlib.order_k.order_k_descent` with $K = 1$ from a point near the
# minimiser and compares it with the solution of the Newton system, whose Hessian comes from the
# generic tower. At the start of the test problem itself the Hessian has a negative eigenvalue, so the
# plain Newton step heads for a saddle. There `order_k_descent` adds a shift $\mu I$ (section 5).

# %%
generic = AutogradTower(test_problem_loss)
zero_step = torch.zeros_like(theta0)
near_minimum = truth + 0.1 * aion_direction
hessian = generic.truncated_jacobian(near_minimum, zero_step, 1)
newton_step = torch.linalg.solve(hessian, -generic.gradient(near_minimum))
one_step = order_k_descent(generic, near_minimum, 1, max_iterations=1)
newton_gap = float((one_step.path[1] - near_minimum - newton_step).norm() / newton_step.norm())
print(f"near the minimiser: order-1 step vs Newton step, relative difference {newton_gap:.1e}, "
      f"line-search factor {one_step.step_lengths[0]}, Hessian shift {one_step.shifts[0]}")
start_curvatures = torch.linalg.eigvalsh(generic.truncated_jacobian(theta0, zero_step, 1))
first_step = order_k_descent(generic, theta0, 1, max_iterations=1)
print(f"at the start: Hessian eigenvalues {[round(float(value), 4) for value in start_curvatures]}, "
      f"shift used {first_step.shifts[0]:.4f}")

# %% [markdown]
# ## 3. For AION every term has a closed form
#
# Shift one atom along $t\delta$ with $\delta = (\Delta A, \Delta\alpha, \Delta\omega, \Delta\varphi)$. Its
# complex form becomes $(A + t\Delta A)\,E\,e^{tu}$ with $E = e^{\alpha x + i(\omega x + \varphi)}$ and
# $u = \Delta\alpha\,x + i(\Delta\omega\,x + \Delta\varphi)$, so the order-$k$ term of the shifted atom is
#
# $$S_k = \frac{A\,E\,u^k}{k!} + \frac{\Delta A\,E\,u^{k-1}}{(k-1)!}.$$
#
# The derivatives of the atom are again shifted atoms ($\partial_A \to E u^k/k!$, $\partial_\alpha \to x S_k$,
# $\partial_\omega \to i x S_k$, $\partial_\varphi \to i S_k$), the real part is taken term by term, and the
# tower of $\nabla L = \frac{2}{N}\sum_n r_n \nabla f_n$ is the Cauchy product of the series of the
# residual $r$ and of $\nabla f$. `idlib.aion_tower.aion_tower` evaluates these formulas; they must
# agree with the nested autograd of section 1.

# %%
delta = 0.3 * aion_direction
closed_form = aion_tower(problem.initial_params, AIONParams.from_vector(delta, 1, 1, 1), problem.x, problem.y, 5)[0]
nested = taylor_tower(test_problem_loss, theta0, delta, 5)
closed_form_gap = float(((closed_form - nested).norm(dim=1) / nested.norm(dim=1)).max())
print(f"closed form vs nested autograd, orders 0-5: max relative difference {closed_form_gap:.1e}")

# %% [markdown]
# The same formulas in sympy, for one atom and one data point: the closed-form terms must sum to the
# shifted atom (sympy sums $\sum_k u^k/k! = e^u$), and sympy's own Taylor coefficients of the shifted
# gradient must reproduce them order by order, for the atom gradient up to order `symbolic_order` and
# for the loss gradient $\nabla (\mathrm{Re}\,g - y)^2$ up to order 3. The notebook takes the
# coefficients by differentiation in $t$, which is faster; the test suite repeats the check with
# `sympy.series`.

# %%
symbols = atom_symbols()
display_terms = shifted_atom_terms(symbols, 2)
for k, term in enumerate(display_terms):
    print(f"S_{k} =", sp.sstr(term))
symbolic_checks = check_atom_tower(order=symbolic_order, loss_order=3, method="diff")
print(symbolic_checks)

# %% [markdown]
# ## 4. The resummation: the tower is entire in $\delta$
#
# Each series is a finite sum of $e^{tu}$ times polynomials, so it converges for every step, faster than
# any geometric rate, to the gradient at the shifted point, which `idlib.tower.resummed_gradient`
# evaluates in closed form. The step from the start to the minimiser is long
# ($|\delta| \approx 1.6$), yet 40 orders of the tower reproduce the gradient there to rounding, and
# that gradient is zero: the resummed equation $\nabla L(\theta_0 + \delta) = 0$ holds exactly at
# $\delta = \theta^\star - \theta_0$.

# %%
full_step = truth - theta0
to_minimum = AIONParams.from_vector(full_step / full_step.norm(), 1, 1, 1)
aion_steps = [0.1, 0.3, 1.0, float(full_step.norm())]
aion_errors = aion_truncation_errors(problem.initial_params, to_minimum, problem.x, problem.y, aion_steps, max_order)
_, gradient_at_minimum = resummed_gradient(problem.initial_params, AIONParams.from_vector(full_step, 1, 1, 1),
                                           problem.x, problem.y)
gradient_ratio = float(gradient_at_minimum.to_vector().norm()) / float(generic.gradient(theta0).norm())
terms_at_minimum = aion_tower(problem.initial_params, AIONParams.from_vector(full_step, 1, 1, 1),
                              problem.x, problem.y, max_order)[0]
roots = root_test_sequence(tower_term_norms(terms_at_minimum))
for h, row in zip(aion_steps, aion_errors):
    print(f"|delta| = {h:.3f}: relative truncation error K=1 {float(row[1]):.1e}, K=10 {float(row[10]):.1e}, "
          f"K={max_order} {float(row[max_order]):.1e}")
print(f"||grad L(theta_0 + delta)|| / ||grad L(theta_0)|| at the minimiser: {gradient_ratio:.1e}")
print(f"root test ||T_k||^(1/k) at k = 10, 20, 40: {float(roots[9]):.3f}, {float(roots[19]):.3f}, {float(roots[39]):.3f}")

# %% [markdown]
# ## 5. Solving the truncated condition: order-$K$ descent, $K = 1, 2, \dots, \infty$
#
# `idlib.order_k.order_k_descent` solves $G_K(\delta) = 0$ at every outer step by Newton's method on
# $\delta$, started from the Newton step. Our choices, stated in the module docstring:
#
# * where the Hessian is not positive definite, the smallest shift $\mu I$ that makes it so
#   (Cholesky with added multiple of the identity, Nocedal and Wright, Algorithm 3.3) is added to the
#   Newton system and to the order-$K$ condition;
# * the order-$K$ root is used when the inner iteration converges and it points downhill, and the
#   Newton step otherwise;
# * an Armijo backtracking line search on the true loss, starting from the full step.
#
# $K = \infty$ is Infinite Descent (`idlib.direct_solve.infinite_descent`): the resummed condition
# solved directly. Near a minimiser the order-$K$ step converges with order $K+1$, as
# `tests/test_order_k.py` checks. Far from it the count is set by the global phase of the iteration. Both
# problems use the shared criterion. The harder one is a seeded one-atom problem whose start misses
# the frequency by a third, about three periods over the interval.

# %%
harder = harder_one_atom_problem(device=device)
print(harder.description)
study_rows = order_k_study(problem, orders, gtol=gtol, max_iterations=max_iterations)
study_rows += order_k_study(harder, orders, gtol=gtol, max_iterations=max_iterations)
for row in study_rows:
    print(f"{row['problem']:18s} K={str(row['order']):3s} {row['status']:10s} outer {row['outer_iterations']:3d}  "
          f"order-K steps {row['order_k_steps']:2d}  inner {row['inner_iterations']:3d}  "
          f"linear solves {row['linear_solves']:3d}  error {row['param_error_rel']:.1e}  {1e3 * row['wall_time_s']:.1f} ms")

# %% [markdown]
# ### Figure 4: iterations and wall time against $K$
#
# Higher orders take fewer outer steps on both problems, though not monotonically. Far from the minimiser
# the order-$K$ root may point uphill or the Hessian may need a shift, and the step falls back to
# Newton's. Each order-$K$ step costs inner Newton iterations, each with a Jacobian of $n$ directional
# derivatives and a linear solve, so the wall time does not fall with the step count. Infinite Descent
# takes one outer step, with a few eigen-iterations inside. Wall times are for the machine that ran this
# notebook, with `threads` torch threads. The rows above, with every work count, are written to
# `paper/tables/table2b_order_k_descent.csv`.

# %%
write_table(study_rows, table_dir / "table2b_order_k_descent")
fig4 = order_k_figure(study_rows, {problem.name: "test problem", harder.name: "harder one-atom problem"})
save_figure(fig4, figure_dir / "fig4_order_k_descent")
fig4

# %% [markdown]
# ## 6. Where the idea stops: a tanh unit
#
# For $f(x) = a\tanh(wx + b)$ the tower exists at every order, but $\tanh$ has poles at
# $z = i\pi(m + \tfrac12)$. Along the step $\theta + t\delta$ the argument at $x_n$ is
# $z_n + t u_n$, so the tower in $t$ converges only for
# $|t| < \rho = \min_n |z_n - i\pi/2| / |u_n|$ and diverges beyond. On our tanh-unit instance
# (`idlib.tanh_models.tanh_unit_problem`) the step from the start to the minimiser is about twice
# $\rho$: the tower at the start diverges at the very step that would solve the problem, so there is
# no convergent series to resum.

# %%
tanh_x, tanh_y, tanh_theta0, tanh_truth = tanh_unit_problem(device=device)
tanh_full_step = tanh_truth - tanh_theta0
tanh_direction = tanh_full_step / tanh_full_step.norm()
radius = tanh_unit_radius(tanh_theta0, tanh_direction, tanh_x)
tanh_ratios = [0.5, 0.9, 1.1, float(tanh_full_step.norm()) / radius]
tanh_errors = tanh_truncation_errors(tanh_theta0, tanh_direction, tanh_x, tanh_y, [r * radius for r in tanh_ratios], max_order)
print(f"radius of convergence along the step: rho = {radius:.4f}; step to the minimiser = {tanh_ratios[-1]:.2f} rho")
for ratio, row in zip(tanh_ratios, tanh_errors):
    print(f"|delta| = {ratio:.2f} rho: relative truncation error K=5 {float(row[5]):.1e}, K={max_order} {float(row[max_order]):.1e}")

# %% [markdown]
# ### Figure 3: truncation error against $K$
#
# Left, the AION test problem at four step lengths, the longest one landing on the minimiser: every
# curve falls faster than geometrically to rounding. Right, the tanh unit: geometric convergence
# inside $\rho$, slower as the step approaches it, and divergence beyond it.

# %%
fig3 = tower_convergence_figure(aion_errors, aion_steps, tanh_errors, tanh_ratios)
save_figure(fig3, figure_dir / "fig3_tower_convergence")
fig3

# %% [markdown]
# ## 7. Table 2: the Infinity Class, parameter by parameter
#
# `idlib.infinity_class` asks two questions of every parameter $q$ of an atom family: does a shift
# $q \to q + \Delta$ multiply the atom by a member of the same family (a constant factor counts
# separately), and is the tower in $q$ a polynomial, entire, or convergent only within a finite radius?
# The radius is given as a formula in $x$ and the other parameters and as a number at the stated
# values. The complex AION atom is closed in every parameter. Its real part is closed only in $A$ and
# $\alpha$, yet every tower is entire, because the real part is taken term by term. Polynomials
# terminate. The Gaussian width shows that closure alone is not enough: a shift of $s$ multiplies the
# bump by another Gaussian with the same centre (of imaginary width when $\Delta > 0$), yet
# $e^{-(x-c)^2/2s^2}$ has an essential singularity at $s = 0$, so its tower converges only for
# $|\Delta| < |s|$. tanh and sigmoid units have poles at $z = \pm i\pi/2$ and $z = \pm i\pi$ of the
# pre-activation $z = wx + b$.

# %%
table_rows = infinity_class_table()
write_table(table_rows, table_dir / "table2_infinity_class")
for row in table_rows:
    print(f"{row['family']:26s} {row['parameter']:6s} closure {row['shift_closure']:9s} tower {row['tower']:14s} "
          f"radius {row['radius_at_stated_values']}  {row['radius_formula']}")

# %% [markdown]
# ## Summary
#
# The next cell prints the headline results. The test suite (nbval) compares them with the stored
# output, so a change fails until the notebook is re-run and the change reviewed. Continuous values are
# printed as pass/fail against stated thresholds, or rounded to three digits, so that the check does
# not depend on the last digits of floating-point arithmetic.

# %%
# NBVAL_CHECK_OUTPUT
print("truncation error slopes equal K + 1 within 0.15 (K = 0-3, AION and tanh network):", slopes_ok)
print("order-1 step equals the Newton step to 1e-12 near the minimiser:", newton_gap <= 1e-12)
print("Hessian at the start has a negative eigenvalue:", float(start_curvatures.min()) < 0)
print("closed-form AION tower equals nested autograd to 1e-10:", closed_form_gap <= 1e-10)
print("sympy checks of the one-atom tower:", symbolic_checks)
print(f"AION tower at the full step, K = {max_order}, relative error <= 1e-13:", float(aion_errors[-1, -1]) <= 1e-13)
print("resummed gradient vanishes at the minimiser (relative <= 1e-12):", gradient_ratio <= 1e-12)
for row in study_rows:
    print(f"{row['problem']}: K = {row['order']}: {row['status']}, outer iterations {row['outer_iterations']}, "
          f"parameter error <= 1e-8: {row['param_error_rel'] <= 1e-8}")
print(f"tanh unit: radius of convergence {radius:.3f}, step to the minimiser {tanh_ratios[-1]:.3f} radii")
print("tanh tower diverges beyond the radius (error at K = 40 above 1):", float(tanh_errors[-1, -1]) > 1.0)
for row in table_rows:
    print(f"Table 2: {row['family']}, {row['parameter']}: closure {row['shift_closure']}, tower {row['tower']}, "
          f"radius {row['radius_at_stated_values'] if row['radius_at_stated_values'] == 'inf' else round(row['radius_at_stated_values'], 3)}")
