"""Every bad input at a public boundary gets a clear error; the table below is also in the README.

Each case is (identifier, what is wrong, call, exception type, pattern the message must match).
The README's "Bad input" table lists the same identifiers, and a test keeps the two in step.
"""

import math

import pytest
import torch

from idlib.aion import AIONParams, aion
from idlib.baselines import newton_cg, steepest_descent
from idlib.direct_solve import _fit_amplitudes, direct_solve, infinite_descent
from idlib.landscape import loss_surface
from idlib.objective import AIONObjective
from idlib.outputs import REPOSITORY_ROOT, write_table
from idlib.problems import random_one_atom_problem
from idlib.tower import resummed_gradient

F64 = torch.float64


def one_atom(A=1.0, alpha=-0.1, omega=1.0, phi=0.0, dtype=F64):
    return AIONParams.from_values(A, alpha, omega, phi, dtype=dtype)


def grid(points=40, stop=10.0):
    return torch.linspace(0.0, stop, points, dtype=F64)


def clean_data(points=40):
    x = grid(points)
    return x, aion(one_atom(), x)[0]


def batch_of(count):
    return AIONParams(*(torch.full((count, 1, 1, 1), value, dtype=F64) for value in (1.0, -0.1, 1.0, 0.0)))


CASES = [
    ("params-shape", "parameter tensors that are not (B, r, d, P)",
     lambda: AIONParams(*(torch.zeros(3, 2, dtype=F64) for _ in range(4))), ValueError, r"shape \(B, r, d, P\)"),
    ("params-integer", "integer parameter tensors",
     lambda: AIONParams(*(torch.zeros(1, 1, 1, 1, dtype=torch.int64) for _ in range(4))), TypeError, "real floating"),
    ("params-mixed-dtype", "parameter tensors of different dtypes",
     lambda: AIONParams(*([torch.zeros(1, 1, 1, 1, dtype=F64)] * 3 + [torch.zeros(1, 1, 1, 1, dtype=torch.float32)])),
     TypeError, "one dtype"),
    ("params-mixed-device", "parameter tensors on different devices",
     lambda: AIONParams(*([torch.zeros(1, 1, 1, 1, dtype=F64)] * 3 + [torch.zeros(1, 1, 1, 1, dtype=F64, device="meta")])),
     ValueError, "one device"),
    ("params-nan", "NaN or infinite parameters",
     lambda: direct_solve(one_atom(A=math.nan), *clean_data()), ValueError, r"params.A contains NaN"),
    ("vector-length", "a flat parameter vector of the wrong length",
     lambda: AIONParams.from_vector(torch.zeros(5, dtype=F64), 1, 1, 1), ValueError, r"shape \(B, 4\)"),
    ("x-dtype", "inputs of another dtype than the parameters",
     lambda: aion(one_atom(), grid().float()), TypeError, "dtype torch.float32"),
    ("x-device", "inputs on another device than the parameters",
     lambda: aion(one_atom(), torch.zeros(5, dtype=F64, device="meta")), ValueError, "is on meta"),
    ("x-shape", "inputs whose last dimension is not d",
     lambda: aion(one_atom(), torch.zeros(5, 2, dtype=F64)), ValueError, r"shape \(N, 1\)"),
    ("x-batch", "inputs with another batch size than the parameters",
     lambda: aion(batch_of(2), torch.zeros(3, 5, 1, dtype=F64)), ValueError, "batch size 3"),
    ("x-empty", "no data points",
     lambda: aion(one_atom(), torch.zeros(0, dtype=F64)), ValueError, "x is empty"),
    ("x-nan", "NaN or infinite inputs",
     lambda: aion(one_atom(), torch.tensor([0.0, math.inf], dtype=F64)), ValueError, "x contains NaN or infinite"),
    ("y-nan", "NaN or infinite targets",
     lambda: resummed_gradient(one_atom(), one_atom(), grid(3), torch.tensor([0.0, math.nan, 1.0], dtype=F64)),
     ValueError, "y contains NaN"),
    ("y-length", "a different number of targets and inputs",
     lambda: direct_solve(one_atom(), grid(40), torch.zeros(39, dtype=F64)), ValueError, "one target per input point"),
    ("y-batch", "targets with another batch size than the parameters",
     lambda: direct_solve(batch_of(2), grid(40), torch.zeros(3, 40, dtype=F64)), ValueError, "batch size 3"),
    ("y-column", "targets shaped as a column (N, 1)",
     lambda: direct_solve(one_atom(), grid(40), torch.zeros(40, 1, dtype=F64)), ValueError, "a column"),
    ("y-dtype", "targets of another dtype",
     lambda: direct_solve(one_atom(), grid(40), torch.zeros(40, dtype=torch.float32)), TypeError, "y has dtype"),
    ("too-few-points-solve", "fewer points than the direct solve needs",
     lambda: direct_solve(one_atom(), grid(4), torch.zeros(4, dtype=F64)), ValueError, "at least 5 points"),
    ("too-few-points-fit", "fewer data points than parameters in a fit",
     lambda: AIONObjective(grid(3), torch.zeros(3, dtype=F64)), ValueError, "3 points but the model has 4 parameters"),
    ("grid-not-uniform", "a non-uniform grid for the eigenvalue direct solve",
     lambda: direct_solve(one_atom(), grid() ** 2, torch.zeros(40, dtype=F64)), ValueError, "not a uniform grid"),
    ("grid-two-dimensional", "a model with d > 1 for the direct solve",
     lambda: direct_solve(AIONParams(*(torch.ones(1, 1, 2, 1, dtype=F64) for _ in range(4))), torch.rand(30, 2, dtype=F64),
                          torch.zeros(30, dtype=F64)), ValueError, "one input dimension"),
    ("rate-overflow-solve", "rates so large that exp(alpha x) overflows, in the direct solve",
     lambda: direct_solve(one_atom(alpha=8.0), grid(50, 100.0), torch.zeros(50, dtype=F64)), ValueError, "overflows"),
    ("rate-overflow-start", "a start whose exp(alpha x) overflows, in a baseline",
     lambda: steepest_descent(AIONObjective(grid(50, 100.0), torch.zeros(50, dtype=F64)),
                              torch.tensor([1.0, 8.0, 1.0, 0.0], dtype=F64)), ValueError, r"theta0.alpha .* overflows"),
    ("solver-gtol", "a non-positive tolerance",
     lambda: newton_cg(AIONObjective(*clean_data()), torch.zeros(4, dtype=F64), gtol=0.0), ValueError, "gtol must be positive"),
    ("solver-iterations", "an iteration cap below one",
     lambda: steepest_descent(AIONObjective(*clean_data()), torch.zeros(4, dtype=F64), max_iterations=0), ValueError,
     "max_iterations must be at least 1"),
    ("solver-options", "invalid direct-solve options",
     lambda: direct_solve(one_atom(), *clean_data(), xtol=-1.0), ValueError, "need xtol > 0"),
    ("single-problem-batch", "a batch passed to the single-problem step",
     lambda: infinite_descent(batch_of(2), *clean_data()), ValueError, "batch of 2"),
    ("generator-points", "too few points for a generated problem",
     lambda: random_one_atom_problem(0, points=3), ValueError, "points must be at least 5"),
    ("generator-interval", "a decreasing interval for a generated problem",
     lambda: random_one_atom_problem(0, interval=(1.0, 0.0)), ValueError, "interval must be increasing"),
    ("surface-name", "an unknown parameter name for a loss surface",
     lambda: loss_surface(one_atom(), *clean_data(), "beta1", "phi1", grid(3), grid(3)), ValueError, "unknown parameter name"),
    ("table-ragged", "table rows with different columns",
     lambda: write_table([{"a": 1}, {"b": 2}], REPOSITORY_ROOT / "runs" / "ragged"), ValueError, "every row must have the columns"),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_input_raises_clear_error(case):
    _, _, call, exception, pattern = case
    with pytest.raises(exception, match=pattern):
        call()


def test_duplicate_terms_make_amplitude_basis_singular():
    alpha = torch.tensor([[-0.1, -0.1]], dtype=F64)
    omega = torch.tensor([[1.0, 1.0]], dtype=F64)
    x = grid(40).unsqueeze(0)
    *_, condition = _fit_amplitudes(alpha, omega, x, torch.sin(x))
    # direct_solve reports status "colliding_terms" beyond this condition number.
    assert float(condition[0]) > 1 / math.sqrt(torch.finfo(F64).eps)


def test_no_real_solution_reported_in_status():
    x = grid(40, 5.0)
    y = torch.exp(-0.3 * x) + 0.5 * torch.exp(-1.5 * x)
    result = direct_solve(one_atom(alpha=-0.5, omega=0.5), x, y)
    assert result.status == ["not_representable"]
    assert float(result.delta.to_vector().abs().max()) == 0.0


def test_readme_lists_every_case():
    readme = (REPOSITORY_ROOT / "README.md").read_text()
    missing = [case[0] for case in CASES if f"`{case[0]}`" not in readme]
    assert not missing, f"README's bad-input table lacks {missing}"


def test_huge_data_gets_status_not_crash():
    x, y = clean_data(64)
    starts = AIONParams(*(torch.cat([t, t]) for t in one_atom(A=0.8, omega=1.1).tensors()))
    result = direct_solve(starts, x, torch.stack([y, torch.full_like(y, 1e200)]))
    assert result.status[0] == "converged"
    assert result.status[1] != "converged"


def test_float32_uniform_grid_accepted():
    x = torch.linspace(0.0, 15.0, 64)
    y = aion(one_atom(dtype=torch.float32), x)[0]
    result = direct_solve(one_atom(A=0.8, omega=1.1, dtype=torch.float32), x, y)
    assert result.status == ["converged"]
