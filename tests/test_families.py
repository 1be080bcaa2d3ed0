"""Seeded problem families: shapes, determinism, data and noise, starts, grids and hard cases."""

import math
import re

import numpy as np
import pytest
import torch

from idlib.aion import AIONParams, aion
from idlib.families import (
    GRID_KINDS,
    HARD_CASES,
    NOISE_LEVELS,
    START_DISTANCES,
    FamilySpec,
    make_family,
    make_problem,
    stack_problems,
    standard_specs,
)
from idlib.matrix_pencil import matrix_pencil
from idlib.objective import AIONObjective
from idlib.problems import parameter_error
from idlib.variable_projection import variable_projection

SHAPES = [(1, 1, 1), (2, 1, 3), (3, 1, 2), (1, 2, 2), (3, 2, 3)]


def axis_values(problem, axis: int) -> np.ndarray:
    return np.unique(problem.x[:, axis].numpy())


def interval_length(problem, axis: int = 0) -> float:
    values = axis_values(problem, axis)
    return float(values[-1] - values[0])


def first_axis(params: AIONParams, name: str) -> np.ndarray:
    return getattr(params, name)[0, :, 0, :].reshape(-1).numpy()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("grid", GRID_KINDS)
def test_family_problem_shapes(shape, grid):
    rank, dim, terms = shape
    spec = FamilySpec(rank=rank, dim=dim, terms=terms, grid=grid)
    problem = make_problem(spec, 7)
    n = spec.points_per_axis
    assert problem.x.shape == (n**dim, dim)
    assert problem.y.shape == (n**dim,)
    assert problem.true_params.A.shape == (1, rank, dim, terms)
    assert problem.initial_params.A.shape == (1, rank, dim, terms)
    assert problem.shape == shape
    assert problem.x.dtype == problem.y.dtype == torch.float64


def test_family_is_deterministic_for_a_seed():
    spec = FamilySpec(rank=2, dim=2, terms=2, grid="random", noise=1e-2, start_distance=0.3)
    first, second = make_problem(spec, 11), make_problem(spec, 11)
    other = make_problem(spec, 12)
    for name in ("x", "y"):
        assert torch.equal(getattr(first, name), getattr(second, name))
    assert torch.equal(first.true_params.to_vector(), second.true_params.to_vector())
    assert torch.equal(first.initial_params.to_vector(), second.initial_params.to_vector())
    assert first.description == second.description
    assert first.name == second.name
    assert not torch.equal(first.true_params.to_vector(), other.true_params.to_vector())
    assert not torch.equal(first.x, other.x)


def test_family_noise_free_data_equal_the_truth():
    for shape in SHAPES:
        rank, dim, terms = shape
        problem = make_problem(FamilySpec(rank=rank, dim=dim, terms=terms, grid="jittered"), 3)
        assert torch.equal(problem.y, aion(problem.true_params, problem.x)[0])


@pytest.mark.parametrize("dim", [1, 2])
def test_family_noise_is_the_stated_fraction(dim):
    problems = {noise: make_problem(FamilySpec(rank=2, dim=dim, terms=2, noise=noise), 5) for noise in NOISE_LEVELS}
    clean = aion(problems[0.0].true_params, problems[0.0].x)[0]
    standardised = []
    for noise, problem in problems.items():
        # Changing the noise level keeps the truth, the grid and the start of a seed.
        assert torch.equal(problem.x, problems[0.0].x)
        assert torch.equal(problem.true_params.to_vector(), problems[0.0].true_params.to_vector())
        assert torch.equal(problem.initial_params.to_vector(), problems[0.0].initial_params.to_vector())
        absolute = noise * float(clean.std())
        assert f"= {absolute:.6g} (Gaussian" in problem.description
        if noise > 0:
            standardised.append((problem.y - clean) / absolute)
    for draw in standardised[1:]:
        torch.testing.assert_close(draw, standardised[0], rtol=1e-6, atol=1e-6)
    assert 0.85 <= float(standardised[0].std()) <= 1.15
    assert abs(float(standardised[0].mean())) <= 0.2


def test_family_truth_follows_stated_ranges():
    for seed in range(5):
        for rank, dim, terms in SHAPES:
            problem = make_problem(FamilySpec(rank=rank, dim=dim, terms=terms), seed)
            truth = problem.true_params
            length = interval_length(problem)
            m = rank * terms
            assert bool(((truth.A >= 0.5) & (truth.A <= 2.0)).all())
            assert bool(((truth.alpha * length >= -1.5) & (truth.alpha * length <= 0.3)).all())
            assert bool(((truth.phi > -math.pi) & (truth.phi < math.pi)).all())
            cycles = truth.omega * length / (2 * math.pi)
            assert bool(((cycles >= 1.0) & (cycles <= 2.0 * m)).all())
            for axis in range(dim):
                axis_cycles = np.sort(cycles[0, :, axis, :].reshape(-1).numpy())
                assert np.all(np.diff(axis_cycles) >= 1.0 - 1e-12)


def test_family_grids():
    for grid in GRID_KINDS:
        spec = FamilySpec(terms=2, grid=grid, interval=(-2.0, 3.0))
        x = make_problem(spec, 4).x[:, 0].numpy()
        steps = np.diff(x)
        assert x[0] == -2.0
        assert x[-1] == 3.0
        assert np.all(steps > 0)
        uniform = np.linspace(-2.0, 3.0, spec.points_per_axis)
        if grid == "uniform":
            np.testing.assert_allclose(x, uniform, rtol=0, atol=1e-15)
        else:
            assert steps.max() / steps.min() > 1.5
        if grid == "jittered":
            assert np.abs(x - uniform).max() <= spec.jitter * (uniform[1] - uniform[0]) + 1e-15


def test_family_two_dimensional_grid_is_a_tensor_product():
    problem = make_problem(FamilySpec(dim=2, grid="random"), 2)
    first, second = axis_values(problem, 0), axis_values(problem, 1)
    assert problem.x.shape[0] == first.size * second.size
    assert not np.array_equal(first, second)


def test_start_distance_exact_on_ray():
    directions = []
    for distance in START_DISTANCES:
        problem = make_problem(FamilySpec(rank=2, terms=2, start_distance=distance), 9)
        truth, start = problem.true_params, problem.initial_params
        length = interval_length(problem)
        scaled = torch.cat([
            ((start.A - truth.A) / truth.A.abs()).reshape(-1),
            ((start.alpha - truth.alpha) * length).reshape(-1),
            ((start.omega - truth.omega) * length / (2 * math.pi)).reshape(-1),
            (start.phi - truth.phi).reshape(-1),
        ])
        assert float(scaled.norm()) == pytest.approx(distance, rel=1e-10)
        directions.append(scaled / distance)
    for direction in directions[1:]:
        torch.testing.assert_close(direction, directions[0], rtol=1e-8, atol=1e-10)
    assert "start: truth of the model's shape + 0.03" in make_problem(FamilySpec(start_distance=0.03), 0).description


# Hard cases ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1, 2), (2, 1, 1), (2, 2, 1), (3, 2, 3)])
@pytest.mark.parametrize("grid", ["uniform", "random"])
def test_close_frequencies_are_below_resolution(shape, grid):
    rank, dim, terms = shape
    spec = FamilySpec(rank=rank, dim=dim, terms=terms, grid=grid, hard_case="close_frequencies", separation=0.4)
    for seed in range(3):
        problem = make_problem(spec, seed)
        resolution = 2 * math.pi / interval_length(problem)
        omega = np.sort(first_axis(problem.true_params, "omega"))
        assert omega[1] - omega[0] < resolution
        assert omega[1] - omega[0] == pytest.approx(0.4 * resolution, rel=1e-12)
        assert "below the resolution" in problem.description


@pytest.mark.parametrize("shape", [(1, 1, 2), (2, 1, 1), (1, 2, 3), (2, 2, 1)])
def test_amplitude_ratio_holds(shape):
    rank, dim, terms = shape
    problem = make_problem(FamilySpec(rank=rank, dim=dim, terms=terms, hard_case="amplitude_ratio"), 1)
    amplitudes = first_axis(problem.true_params, "A")
    assert amplitudes.max() / amplitudes.min() == pytest.approx(1e3, rel=1e-12)
    if terms == 1 and dim == 2:
        # The strong and weak terms are rank terms 1 and 2; their products over the axes keep the ratio.
        products = problem.true_params.A[0, :, :, 0].prod(dim=1)
        assert float(products[0] / products[1]) == pytest.approx(1e3, rel=1e-12)


def test_strong_damping_holds():
    for shape in [(1, 1, 1), (2, 1, 3), (2, 2, 2)]:
        rank, dim, terms = shape
        problem = make_problem(FamilySpec(rank=rank, dim=dim, terms=terms, hard_case="strong_damping", damping=7.0), 2)
        decay = first_axis(problem.true_params, "alpha") * interval_length(problem)
        assert np.all(decay <= -7.0)
        assert np.all(decay >= -9.0)


def test_misspecified_model_term_counts():
    few = make_problem(FamilySpec(rank=2, terms=3, hard_case="too_few_terms"), 6)
    assert few.true_params.terms == 3
    assert few.initial_params.terms == 2
    many = make_problem(FamilySpec(rank=2, dim=2, terms=1, hard_case="too_many_terms"), 6)
    assert many.true_params.terms == 1
    assert many.initial_params.terms == 2
    assert "misspecified model, truth P=1, model P=2" in many.description


def test_too_few_terms_start_keeps_the_strongest_terms():
    problem = make_problem(FamilySpec(terms=3, hard_case="too_few_terms", start_distance=0.0), 8)
    truth_amplitudes = np.sort(problem.true_params.A.reshape(-1).numpy())
    start_amplitudes = np.sort(problem.initial_params.A.reshape(-1).numpy())
    np.testing.assert_array_equal(start_amplitudes, truth_amplitudes[1:])


def test_too_many_terms_start_adds_a_weak_term():
    problem = make_problem(FamilySpec(terms=2, hard_case="too_many_terms", start_distance=0.0), 8)
    start = problem.initial_params
    torch.testing.assert_close(start.A[..., :2], problem.true_params.A, rtol=0, atol=0)
    assert float(start.A[0, 0, 0, 2]) == pytest.approx(0.1 * float(problem.true_params.A.min()))
    assert float(start.alpha[0, 0, 0, 2]) == 0.0


# The standard list, batches and checks ------------------------------------------------------


def test_standard_specs_cover_the_product_and_hard_cases():
    specs = standard_specs()
    regular = [spec for spec in specs if spec.hard_case is None]
    assert len(regular) == 3 * 2 * 3 * 4 * 3 * 4
    combos = {(s.rank, s.dim, s.terms, s.noise, s.grid, s.start_distance) for s in regular}
    assert len(combos) == len(regular)
    hard = [spec for spec in specs if spec.hard_case is not None]
    assert {spec.hard_case for spec in hard} == set(HARD_CASES)
    # close frequencies and amplitude ratios skip r = P = 1 (2 shapes × 2 dims); too few terms skips P = 1.
    assert len(hard) == 2 * (18 - 2) + 18 + (18 - 6) + 18


def test_problem_names_and_descriptions_state_the_choices():
    spec = FamilySpec(rank=3, dim=1, terms=2, grid="jittered", noise=1e-3, start_distance=0.3, hard_case="strong_damping")
    problem = make_problem(spec, 21)
    assert problem.name == "family_r3_d1_P2_jittered_noise0.001_dist0.3_strong_damping_seed21"
    for fragment in ("rank r=3", "d=1", "P=2", "seed 21", "jittered grid", "sigma = 0.001", "0.3 x diag", "exp(-6)"):
        assert fragment in problem.description
    assert re.search(r"N=\d+", problem.description)


def test_make_family_and_stack():
    spec = FamilySpec(rank=1, dim=1, terms=2, noise=1e-2)
    problems = make_family(spec, range(4))
    batch = stack_problems(problems)
    assert batch.x.shape == (4, spec.points_per_axis, 1)
    assert batch.y.shape == (4, spec.points_per_axis)
    assert batch.initial_params.A.shape == (4, 1, 1, 2)
    assert batch.true_params.A.shape == (4, 1, 1, 2)
    assert batch.names == [problem.name for problem in problems]
    with pytest.raises(ValueError, match="stack problems of one spec"):
        stack_problems([problems[0], make_problem(FamilySpec(terms=1), 0)])


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"dim": 3}, "dim must be 1 or 2"),
        ({"grid": "chebyshev"}, "grid must be one of"),
        ({"noise": -0.1}, "noise must be a finite non-negative"),
        ({"hard_case": "close_frequencies"}, "needs at least two terms"),
        ({"hard_case": "too_few_terms"}, "needs terms >= 2"),
        ({"hard_case": "close_frequencies", "terms": 2, "separation": 1.0}, "separation must lie in"),
        ({"points": 10}, "points must be an integer of at least 16"),
        ({"interval": (1.0, 1.0)}, "interval must be finite and increasing"),
        ({"jitter": 0.5}, "jitter must lie in"),
        ({"hard_case": "wiggly"}, "hard_case must be None or one of"),
    ],
)
def test_spec_rejects_bad_choices(arguments, message):
    with pytest.raises(ValueError, match=message):
        FamilySpec(**arguments)


def test_make_problem_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        make_problem(FamilySpec(), -1)


def test_family_problems_are_solvable():
    """Variable projection and the matrix pencil recover a regular two-term truth."""
    problem = make_problem(FamilySpec(terms=2, start_distance=0.03), 0)
    objective = AIONObjective(problem.x, problem.y, 1, 1, 2)
    report = variable_projection(objective, problem.initial_params.to_vector()[0])
    assert report.status == "converged", report.message
    final = AIONParams.from_vector(report.theta, 1, 1, 2)
    assert float(parameter_error(final, problem.true_params)[0]) <= 1e-8
    (estimate,) = matrix_pencil(problem.x, problem.y, 2, theta0=problem.initial_params)
    assert estimate.status == "converged"
