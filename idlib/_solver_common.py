"""Argument checks and small helpers shared by the solvers of ``strong_baselines``."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .objective import AIONObjective, Objective


def check_objective(objective) -> None:
    if not isinstance(objective, Objective):
        raise TypeError(
            f"objective must be an idlib Objective, got {type(objective).__name__}; "
            "wrap the data with idlib.objective.AIONObjective(x, y, rank, dim, terms)"
        )


def check_aion_objective(objective, method: str) -> None:
    if not isinstance(objective, AIONObjective):
        raise TypeError(
            f"{method} needs the residuals of an AION fit, so objective must be an AIONObjective; "
            f"got {type(objective).__name__}. Build one with AIONObjective(x, y, rank, dim, terms)"
        )


def check_positive(name: str, value) -> float:
    """Return ``value`` as a float, raising ``ValueError`` unless it is finite and positive."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return float(value)


def check_count(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising ``ValueError`` unless it is an integer ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")
    return int(value)


def criterion_message(gtol: float) -> str:
    return f"relative gradient norm ‖∇L(θ_k)‖ / ‖∇L(θ_0)‖ ≤ {gtol:g}"


def tensor_from_numpy(values, objective: Objective) -> torch.Tensor:
    """Convert a numpy vector from scipy into a tensor of the objective's dtype and device."""
    return torch.as_tensor(np.asarray(values), dtype=objective.dtype, device=objective.device)
