"""Checks on data passed to the package: targets, grids and the range of the exponentials."""

from __future__ import annotations

import math

import torch

from .aion import AIONParams

# exp(v) overflows float64 for v > log(max float64) ≈ 709.78 and float32 for v > 88.72.
_SAFETY = 0.9


def check_targets(y: torch.Tensor, x: torch.Tensor, params: AIONParams) -> torch.Tensor:
    """Check targets against inputs ``x`` of shape ``(B or 1, N, d)``; return ``(B, N)``."""
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}; convert with torch.as_tensor")
    if y.dtype != params.dtype:
        raise TypeError(f"y has dtype {y.dtype} but the parameters have {params.dtype}; convert one to match")
    if y.device != params.device:
        raise ValueError(f"y is on {y.device} but the parameters are on {params.device}; move one to match")
    if y.ndim == 2 and y.shape[1] == 1 and x.shape[1] != 1:
        raise ValueError(f"y has shape {tuple(y.shape)}, a column; pass targets of shape (N,) or (B, N), e.g. y.squeeze(-1)")
    if y.ndim == 1:
        y = y.unsqueeze(0)
    if y.ndim != 2:
        raise ValueError(f"y must have shape (N,) or (B, N), got {tuple(y.shape)}")
    if y.shape[1] != x.shape[1]:
        raise ValueError(f"y has {y.shape[1]} points but x has {x.shape[1]}; pass one target per input point")
    if y.shape[0] not in (1, params.batch_size):
        raise ValueError(f"y has batch size {y.shape[0]} but the parameters have {params.batch_size}")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("y contains NaN or infinite values; remove or impute them before fitting")
    return y.expand(params.batch_size, -1)


def check_exponent_range(params: AIONParams, x: torch.Tensor, argument: str = "params") -> None:
    """Raise ``ValueError`` when ``exp(α x)`` would overflow the dtype at some input point.

    ``x`` has shape ``(B or 1, N, d)``.
    """
    limit = _SAFETY * math.log(torch.finfo(params.dtype).max)
    xs = x[:, :, None, :, None]
    exponent = (params.alpha[:, None] * xs).abs().amax()
    if float(exponent) > limit:
        raise ValueError(
            f"{argument}.alpha times x reaches {float(exponent):.4g}, so exp(alpha * x) overflows "
            f"{params.dtype} (limit about {limit:.4g}); rescale x to a smaller interval or start from smaller rates"
        )


def uniform_step(x: torch.Tensor, rtol: float = 1e-9) -> torch.Tensor:
    """Return the step ``h`` of each uniform one-dimensional grid in ``x`` of shape ``(B, N, 1)``.

    Raises ``ValueError`` when a grid is not uniform to relative tolerance ``rtol`` or has
    fewer than two points.
    """
    if x.shape[-1] != 1:
        raise ValueError(f"a uniform grid needs one input dimension, got d={x.shape[-1]}")
    if x.shape[1] < 2:
        raise ValueError(f"a grid needs at least two points, got {x.shape[1]}")
    # Rounding of the grid points alone reaches a few eps, so float32 grids get a wider tolerance.
    rtol = max(rtol, 64 * torch.finfo(x.dtype).eps)
    grid = x[..., 0]
    steps = grid.diff(dim=1)
    h = (grid[:, -1] - grid[:, 0]) / (grid.shape[1] - 1)
    deviation = (steps - h[:, None]).abs().amax(dim=1)
    bad = deviation > rtol * h.abs()
    if bool((h == 0).any()) or bool(bad.any()):
        index = int(torch.nonzero(bad | (h == 0))[0])
        raise ValueError(
            f"x is not a uniform grid (problem {index}: steps deviate from the mean step by up to "
            f"{float(deviation[index]):.3g}); the eigenvalue direct solve needs equally spaced points, "
            "so resample the data onto a uniform grid"
        )
    return h
