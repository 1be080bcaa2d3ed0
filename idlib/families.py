"""Seeded families of AION fitting problems, from easy to hard, each stating every choice.

A family member is fixed by a ``FamilySpec`` (model shape, grid, noise, start distance and an
optional hard case) and an integer seed, and is returned as an ``idlib.problems.Problem``.

Randomness
----------
``numpy.random.SeedSequence(seed)`` is split into four independent streams: the truth, the
grid, the noise and the start direction. Changing the noise level therefore keeps the truth,
grid and start of a seed, and changing the start distance moves the start along the same ray.
The same seed and spec give bit-identical problems on every run with the same numpy.

The truth
---------
Let ``T = x_max - x_min`` be the length of the interval (every grid kind contains both ends),
``m = r P`` the number of terms on each input axis, and ``2π/T`` the resolution of the grid
in angular frequency. On every axis i and for every term k = (j, p):

- ``ω = 2π c_k / T``, with the ``m`` frequencies ``c = 1 + 2q + U(0, 1)`` (q = 0 … m-1, in
  cycles per interval) dealt to the term slots in random order, so distinct terms are at
  least one resolution unit apart;
- ``α = U(-1.5, 0.3) / T`` (the envelope changes by a factor between e^{-1.5} and e^{0.3}
  over the interval);
- ``A = U(0.5, 2)`` and ``φ = U(-π, π)``.

Hard cases change this draw on the first input axis (i = 0) and leave the rest as drawn:

- ``"close_frequencies"``: the two lowest frequencies are set ``separation · 2π/T`` apart,
  below the resolution 2π/T for ``separation < 1``;
- ``"amplitude_ratio"``: the largest amplitude is set to 2 and one other term's to
  ``2 / amplitude_ratio``. The two terms share a rank term when P ≥ 2; otherwise they are
  rank terms 1 and 2, and with d > 1 the weak one copies the strong one's amplitudes on the
  other axes, so the products of their amplitudes over the axes also differ by exactly
  ``amplitude_ratio``;
- ``"strong_damping"``: every term has ``α T = -U(damping, damping + 2)``, so its envelope
  falls by at least e^{-damping} over the interval;
- ``"too_few_terms"`` / ``"too_many_terms"``: the model has ``P - 1`` / ``P + 1`` terms per
  atom while the truth has P. The start drops the weakest term of each atom, or adds one of
  amplitude ``0.1 min_p A``, rate 0 and frequency ``2π (2m + 1)/T``, before the perturbation.

Data, noise and start
---------------------
``y = f(x; θ*) + σ · std(f(x; θ*)) · ε`` with ``ε ~ N(0, I)`` and the Bessel-corrected sample
standard deviation over all N points. The start is

    θ_0 = θ*_model + s · S u,

with ``u`` a random unit vector, ``S = diag(|A*|, 1/T, 2π/T, 1 rad)`` per parameter and ``s``
the start distance, so the scaled distance ``‖S⁻¹(θ_0 - θ*_model)‖₂`` equals s exactly.
``θ*_model`` is the truth, or for a misspecified model the truth with a term dropped or added.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from .aion import AIONParams, aion
from .problems import Problem

RANKS = (1, 2, 3)
DIMS = (1, 2)
TERMS = (1, 2, 3)
NOISE_LEVELS = (0.0, 1e-3, 1e-2, 1e-1)
GRID_KINDS = ("uniform", "jittered", "random")
START_DISTANCES = (0.03, 0.1, 0.3, 1.0)
HARD_CASES = ("close_frequencies", "amplitude_ratio", "strong_damping", "too_few_terms", "too_many_terms")

# Default points per input axis. Every axis also gets at least 8 m + 8 points, which keeps the
# highest drawn frequency (2m + 1 cycles at most) below a quarter of the mean sampling rate.
BASE_POINTS = {1: 64, 2: 24}

_STREAMS = ("truth", "grid", "noise", "start")


@dataclass(frozen=True)
class FamilySpec:
    """The choices behind one family of problems (a problem is a spec and a seed).

    Attributes
    ----------
    rank, dim, terms : model shape (r, d, P) of the truth; d is 1 or 2.
    grid : ``"uniform"``, ``"jittered"`` (each interior point of a uniform grid moved by
        ``U(-jitter, jitter)`` steps) or ``"random"`` (sorted uniform draws). Every kind contains
        both ends of ``interval``. With d = 2 the grid is the tensor product of two such grids.
    points : points per input axis; default ``max(BASE_POINTS[d], 8 r P + 8)``, more when the
        misspecified model has more terms.
    interval : ``(x_min, x_max)`` of every axis.
    noise : σ, the noise standard deviation relative to the standard deviation of the clean signal.
    start_distance : s, the scaled distance of the start from the truth (see the module docstring).
    hard_case : one of ``HARD_CASES`` or ``None``.
    separation : for ``"close_frequencies"``, the gap in units of 2π/T; must be below 1.
    amplitude_ratio : for ``"amplitude_ratio"``, the ratio of the strong to the weak amplitude.
    damping : for ``"strong_damping"``, the smallest decay ``-α T`` of the first axis' terms.
    jitter : for ``"jittered"`` grids, the largest move in units of the uniform step; below 0.5.
    """

    rank: int = 1
    dim: int = 1
    terms: int = 1
    grid: str = "uniform"
    points: int | None = None
    interval: tuple[float, float] = (0.0, 10.0)
    noise: float = 0.0
    start_distance: float = 0.1
    hard_case: str | None = None
    separation: float = 0.5
    amplitude_ratio: float = 1e3
    damping: float = 6.0
    jitter: float = 0.4

    def __post_init__(self) -> None:
        self._check_shape_and_grid()
        self._check_levels()
        self._check_hard_case()

    def _check_shape_and_grid(self) -> None:
        for name in ("rank", "terms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"FamilySpec.{name} must be a positive integer, got {value!r}")
        if self.dim not in (1, 2):
            raise ValueError(
                f"FamilySpec.dim must be 1 or 2, got {self.dim!r}; tensor-product grids grow as points**dim"
            )

        if self.grid not in GRID_KINDS:
            raise ValueError(f"FamilySpec.grid must be one of {GRID_KINDS}, got {self.grid!r}")
        low, high = self.interval
        if not (math.isfinite(low) and math.isfinite(high) and high > low):
            raise ValueError(f"FamilySpec.interval must be finite and increasing, got {self.interval!r}")
        if not 0 <= self.jitter < 0.5:
            raise ValueError(f"FamilySpec.jitter must lie in [0, 0.5) so the grid stays sorted, got {self.jitter!r}")

        minimum = self._minimum_points()
        if self.points is not None:
            if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < minimum:
                raise ValueError(
                    f"FamilySpec.points must be an integer of at least {minimum} for rank={self.rank}, "
                    f"terms={self.terms} (model terms {self.model_terms}), because the highest frequency "
                    f"needs 4 samples per cycle; got {self.points!r}"
                )

    def _check_levels(self) -> None:
        for name in ("noise", "start_distance"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"FamilySpec.{name} must be a finite non-negative number, got {value!r}")
        if not 0 < self.separation < 1:
            raise ValueError(
                f"FamilySpec.separation must lie in (0, 1) resolution units, got {self.separation!r}; "
                "at 1 or more the frequencies are resolved and the case is not hard"
            )
        if not (math.isfinite(self.amplitude_ratio) and self.amplitude_ratio > 1):
            raise ValueError(f"FamilySpec.amplitude_ratio must be a finite number above 1, got {self.amplitude_ratio!r}")
        if not (math.isfinite(self.damping) and self.damping > 0):
            raise ValueError(f"FamilySpec.damping must be a finite positive number, got {self.damping!r}")

    def _check_hard_case(self) -> None:
        if self.hard_case is not None and self.hard_case not in HARD_CASES:
            raise ValueError(f"FamilySpec.hard_case must be None or one of {HARD_CASES}, got {self.hard_case!r}")
        if self.hard_case in ("close_frequencies", "amplitude_ratio") and self.rank * self.terms < 2:
            raise ValueError(
                f"hard_case {self.hard_case!r} needs at least two terms per axis, got rank={self.rank}, "
                f"terms={self.terms}; raise rank or terms"
            )
        if self.hard_case == "too_few_terms" and self.terms < 2:
            raise ValueError(f"hard_case 'too_few_terms' needs terms >= 2 so the model keeps a term, got {self.terms}")

    @property
    def model_terms(self) -> int:
        """Terms per atom of the model that is fitted: P, or P ∓ 1 for a misspecified model."""
        if self.hard_case == "too_few_terms":
            return self.terms - 1
        if self.hard_case == "too_many_terms":
            return self.terms + 1
        return self.terms

    @property
    def points_per_axis(self) -> int:
        return self.points if self.points is not None else max(BASE_POINTS[self.dim], self._minimum_points())

    def _minimum_points(self) -> int:
        return 8 * self.rank * max(self.terms, self.model_terms) + 8

    def label(self) -> str:
        """Return a short identifier of the spec, used in problem names."""
        case = self.hard_case or "regular"
        return (
            f"r{self.rank}_d{self.dim}_P{self.terms}_{self.grid}_noise{self.noise:g}_"
            f"dist{self.start_distance:g}_{case}"
        )


@dataclass(frozen=True)
class ProblemBatch:
    """Problems of one shape stacked for the batched solvers.

    Attributes
    ----------
    names : the problems' names, in batch order.
    x : ``(B, N, d)`` inputs.
    y : ``(B, N)`` targets.
    initial_params : starts, tensors ``(B, r, d, P_model)``.
    true_params : truths, tensors ``(B, r, d, P)``, or ``None`` when some problem has no truth.
    """

    names: list[str]
    x: torch.Tensor
    y: torch.Tensor
    initial_params: AIONParams
    true_params: AIONParams | None


def _streams(seed: int) -> dict[str, np.random.Generator]:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(_STREAMS, children)}


def _axis_grid(spec: FamilySpec, rng: np.random.Generator) -> np.ndarray:
    low, high = spec.interval
    n = spec.points_per_axis
    uniform = np.linspace(low, high, n)
    if spec.grid == "uniform":
        return uniform
    if spec.grid == "jittered":
        step = (high - low) / (n - 1)
        moved = uniform.copy()
        moved[1:-1] += spec.jitter * step * rng.uniform(-1.0, 1.0, n - 2)
        return moved
    interior = np.sort(rng.uniform(low, high, n - 2))
    return np.concatenate([[low], interior, [high]])


def _inputs(spec: FamilySpec, rng: np.random.Generator) -> np.ndarray:
    """Return the inputs ``(N, d)``: one axis grid, or the tensor product of one grid per axis."""
    axes = [_axis_grid(spec, rng) for _ in range(spec.dim)]
    if spec.dim == 1:
        return axes[0][:, None]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([axis.reshape(-1) for axis in mesh], axis=1)


def _draw_truth(spec: FamilySpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the truth, arrays of shape ``(r, d, P)``, and apply the hard case that changes it."""
    r, d, P = spec.rank, spec.dim, spec.terms
    m = r * P
    length = spec.interval[1] - spec.interval[0]
    cycles = np.empty((d, m))
    for i in range(d):
        cycles[i] = rng.permutation(1.0 + 2.0 * np.arange(m) + rng.uniform(0.0, 1.0, m))
    truth = {
        "A": rng.uniform(0.5, 2.0, (r, d, P)),
        "alpha": rng.uniform(-1.5, 0.3, (r, d, P)) / length,
        "omega": 2 * math.pi * cycles.reshape(d, r, P).transpose(1, 0, 2) / length,
        "phi": rng.uniform(-math.pi, math.pi, (r, d, P)),
    }
    if spec.hard_case in ("close_frequencies", "amplitude_ratio", "strong_damping"):
        _apply_hard_case(spec, truth, rng)
    return truth


def _apply_hard_case(spec: FamilySpec, truth: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Change the first axis' terms of ``truth`` in place for the spec's hard case."""
    r, P = spec.rank, spec.terms
    m = r * P
    length = spec.interval[1] - spec.interval[0]
    # Term slots of the first axis in row-major (j, p) order: slot k is (k // P, k % P).
    first_axis = {name: value[:, 0, :].reshape(m).copy() for name, value in truth.items()}

    if spec.hard_case == "close_frequencies":
        order = np.argsort(first_axis["omega"])
        first_axis["omega"][order[1]] = first_axis["omega"][order[0]] + spec.separation * 2 * math.pi / length
    elif spec.hard_case == "amplitude_ratio":
        # Slot 1 is (j=1, p=2) when P ≥ 2, so it shares a rank term with slot 0, and (j=2, p=1) when P = 1.
        strong, weak = 0, 1
        first_axis["A"][strong] = 2.0
        first_axis["A"][weak] = 2.0 / spec.amplitude_ratio
        if weak // P != strong // P:
            truth["A"][weak // P, 1:, :] = truth["A"][strong // P, 1:, :]
    elif spec.hard_case == "strong_damping":
        first_axis["alpha"] = -rng.uniform(spec.damping, spec.damping + 2.0, m) / length

    for name, value in first_axis.items():
        truth[name][:, 0, :] = value.reshape(r, P)


def _model_truth(spec: FamilySpec, truth: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Build the point of the fitted model's shape that matches the truth: drop or add one term per atom."""
    if spec.hard_case == "too_few_terms":
        keep = np.argsort(-truth["A"], axis=2, kind="stable")[:, :, : spec.terms - 1]
        keep = np.sort(keep, axis=2)
        return {name: np.take_along_axis(value, keep, axis=2) for name, value in truth.items()}
    if spec.hard_case == "too_many_terms":
        length = spec.interval[1] - spec.interval[0]
        r, d, _ = truth["A"].shape
        extra_cycles = 2 * r * spec.terms + 1
        extra = {
            "A": 0.1 * truth["A"].min(axis=2, keepdims=True),
            "alpha": np.zeros((r, d, 1)),
            "omega": np.full((r, d, 1), 2 * math.pi * extra_cycles / length),
            "phi": np.zeros((r, d, 1)),
        }
        return {name: np.concatenate([truth[name], extra[name]], axis=2) for name in truth}
    return {name: value.copy() for name, value in truth.items()}


def _start(spec: FamilySpec, model_truth: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    length = spec.interval[1] - spec.interval[0]
    scales = {
        "A": np.abs(model_truth["A"]),
        "alpha": np.full_like(model_truth["alpha"], 1.0 / length),
        "omega": np.full_like(model_truth["omega"], 2 * math.pi / length),
        "phi": np.ones_like(model_truth["phi"]),
    }
    size = model_truth["A"].size
    direction = rng.standard_normal(4 * size)
    direction /= np.linalg.norm(direction)
    parts = direction.reshape(4, *model_truth["A"].shape)
    return {
        name: model_truth[name] + spec.start_distance * scales[name] * part
        for name, part in zip(("A", "alpha", "omega", "phi"), parts)
    }


def _params(values: dict[str, np.ndarray], dtype, device) -> AIONParams:
    return AIONParams(*(torch.as_tensor(values[name], dtype=dtype, device=device).unsqueeze(0) for name in ("A", "alpha", "omega", "phi")))


def _describe(spec: FamilySpec, seed: int, n_points: int, noise_std: float) -> str:
    low, high = spec.interval
    length = high - low
    parts = [
        f"AION truth with rank r={spec.rank}, input dimension d={spec.dim}, P={spec.terms} term(s) per atom, "
        f"real-part convention A exp(alpha x) cos(omega x + phi); fitted model has P={spec.model_terms}",
        f"seed {seed} (numpy SeedSequence, streams truth/grid/noise/start)",
        f"{spec.grid} grid of {spec.points_per_axis} points per axis on [{low:g}, {high:g}]"
        + (f" (interior points moved by up to {spec.jitter:g} steps)" if spec.grid == "jittered" else "")
        + (" (tensor product over the two axes)" if spec.dim == 2 else "")
        + f", N={n_points}",
        f"truth per axis: omega = 2 pi c / {length:g} with c = 1 + 2q + U(0,1) cycles dealt to the {spec.rank * spec.terms} "
        f"term slots in random order, alpha = U(-1.5, 0.3)/{length:g}, A = U(0.5, 2), phi = U(-pi, pi)",
        f"noise: sigma = {spec.noise:g} x std of the clean signal = {noise_std:.6g} (Gaussian, independent per point)",
        f"start: truth of the model's shape + {spec.start_distance:g} x diag(|A|, 1/{length:g}, 2 pi/{length:g}, 1) x unit vector",
    ]
    resolution = 2 * math.pi / length
    if spec.hard_case == "close_frequencies":
        parts.append(
            f"hard case: the two lowest frequencies on the first input axis are {spec.separation:g} x 2 pi/(x_max - x_min) = "
            f"{spec.separation * resolution:.6g} apart, below the resolution {resolution:.6g}"
        )
    elif spec.hard_case == "amplitude_ratio":
        parts.append(
            f"hard case: on the first input axis the strongest term has A = 2 and another has A = 2/{spec.amplitude_ratio:g}, "
            f"a ratio of {spec.amplitude_ratio:g}"
        )
    elif spec.hard_case == "strong_damping":
        parts.append(
            f"hard case: every term on the first input axis has alpha (x_max - x_min) = -U({spec.damping:g}, {spec.damping + 2:g}), "
            f"an envelope drop of at least exp(-{spec.damping:g}) over the interval"
        )
    elif spec.hard_case in ("too_few_terms", "too_many_terms"):
        change = (
            "drops the weakest term of each atom"
            if spec.hard_case == "too_few_terms"
            else f"adds a term of amplitude 0.1 min_p A, rate 0, frequency 2 pi {2 * spec.rank * spec.terms + 1}/{length:g} to each atom"
        )
        parts.append(
            f"hard case: misspecified model, truth P={spec.terms}, model P={spec.model_terms}; the start {change}; "
            "parameter_error against the truth is undefined across shapes"
        )
    return "; ".join(parts)


def make_problem(
    spec: FamilySpec, seed: int, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64
) -> Problem:
    """Generate the problem of ``spec`` for ``seed``.

    Returns
    -------
    Problem
        ``x`` of shape ``(N, d)``, ``y`` of shape ``(N,)``, ``true_params`` of shape
        ``(1, r, d, P)``, ``initial_params`` of shape ``(1, r, d, spec.model_terms)`` and a
        description that states every choice, including the absolute noise level.
    """
    if not isinstance(spec, FamilySpec):
        raise TypeError(f"spec must be a FamilySpec, got {type(spec).__name__}")
    streams = _streams(seed)
    truth_values = _draw_truth(spec, streams["truth"])
    inputs = _inputs(spec, streams["grid"])
    start_values = _start(spec, _model_truth(spec, truth_values), streams["start"])
    noise_draw = streams["noise"].standard_normal(inputs.shape[0])

    truth = _params(truth_values, dtype, device)
    initial = _params(start_values, dtype, device)
    x = torch.as_tensor(inputs, dtype=dtype, device=device)
    clean = aion(truth, x)[0]
    noise_std = spec.noise * float(clean.std())
    y = clean + noise_std * torch.as_tensor(noise_draw, dtype=dtype, device=device)
    description = _describe(spec, seed, inputs.shape[0], noise_std)
    return Problem(f"family_{spec.label()}_seed{seed}", x, y, truth, initial, description)


def make_family(
    specs: FamilySpec | Iterable[FamilySpec],
    seeds: int | Iterable[int],
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
) -> list[Problem]:
    """Generate one problem per (spec, seed) pair, specs in the outer loop."""
    specs = [specs] if isinstance(specs, FamilySpec) else list(specs)
    seeds = [seeds] if isinstance(seeds, (int, np.integer)) else list(seeds)
    return [make_problem(spec, seed, device=device, dtype=dtype) for spec in specs for seed in seeds]


def standard_specs(
    *,
    ranks: Iterable[int] = RANKS,
    dims: Iterable[int] = DIMS,
    terms: Iterable[int] = TERMS,
    noises: Iterable[float] = NOISE_LEVELS,
    grids: Iterable[str] = GRID_KINDS,
    start_distances: Iterable[float] = START_DISTANCES,
    hard_cases: Iterable[str] = HARD_CASES,
) -> list[FamilySpec]:
    """List the regular specs over the full product of the settings, then every applicable hard case.

    The regular part is the Cartesian product of ranks, dims, terms, noise levels, grid kinds
    and start distances. Each hard case is added for every shape that admits it (two or more
    terms per axis for close frequencies and amplitude ratios, P ≥ 2 for one term too few),
    on a uniform grid, noise-free, at start distance 0.1.
    """
    specs = [
        FamilySpec(rank=r, dim=d, terms=p, noise=noise, grid=grid, start_distance=distance)
        for r, d, p, noise, grid, distance in itertools.product(ranks, dims, terms, noises, grids, start_distances)
    ]
    for case, r, d, p in itertools.product(hard_cases, ranks, dims, terms):
        if case in ("close_frequencies", "amplitude_ratio") and r * p < 2:
            continue
        if case == "too_few_terms" and p < 2:
            continue
        specs.append(FamilySpec(rank=r, dim=d, terms=p, hard_case=case))
    return specs


def stack_problems(problems: Iterable[Problem]) -> ProblemBatch:
    """Stack problems of one model shape and grid size into a ``ProblemBatch``."""
    problems = list(problems)
    if not problems:
        raise ValueError("problems is empty; pass at least one Problem")
    first = problems[0]
    for problem in problems[1:]:
        if problem.shape != first.shape or problem.x.shape != first.x.shape:
            raise ValueError(
                f"problem {problem.name!r} has model shape {problem.shape} and x of shape {tuple(problem.x.shape)}, "
                f"but {first.name!r} has {first.shape} and {tuple(first.x.shape)}; stack problems of one spec"
            )
    x = torch.stack([problem.x for problem in problems])
    y = torch.stack([problem.y for problem in problems])
    initial = AIONParams(*(torch.cat(tensors) for tensors in zip(*(p.initial_params.tensors() for p in problems))))
    truths = [problem.true_params for problem in problems]
    if any(truth is None for truth in truths) or len({tuple(t.A.shape) for t in truths}) != 1:
        true_params = None
    else:
        true_params = AIONParams(*(torch.cat(tensors) for tensors in zip(*(t.tensors() for t in truths))))
    return ProblemBatch([problem.name for problem in problems], x, y, initial, true_params)
