"""Loss surfaces over two parameters, for level-set figures and basin maps."""

from __future__ import annotations

import torch

from .aion import AIONParams, as_batched_inputs, mse_loss
from .data import check_targets


def loss_surface(
    center: AIONParams,
    x: torch.Tensor,
    y: torch.Tensor,
    first: str,
    second: str,
    first_values: torch.Tensor,
    second_values: torch.Tensor,
) -> torch.Tensor:
    """Evaluate the loss on the grid of two parameters, the others held at ``center``.

    Parameters
    ----------
    center : a single model (batch of one).
    x, y : the data of one problem.
    first, second : entry names from ``center.names()``, for example ``"alpha1"`` and ``"phi1"``.
    first_values, second_values : 1-D grids of the two parameters, lengths n1 and n2.

    Returns
    -------
    Tensor ``(n2, n1)``: ``result[j, i]`` is the loss at ``first = first_values[i]``,
    ``second = second_values[j]``, ready for ``matplotlib.pyplot.contour``.
    """
    if center.batch_size != 1:
        raise ValueError(f"center must be a single model, got a batch of {center.batch_size}")
    names = center.names()
    for label in (first, second):
        if label not in names:
            raise ValueError(f"unknown parameter name {label!r}; valid names are {names}")
    if first == second:
        raise ValueError(f"first and second must differ, got {first!r} twice")
    x = as_batched_inputs(x, center)
    y = check_targets(y, x, center)
    grid_first, grid_second = torch.meshgrid(first_values, second_values, indexing="xy")
    count = grid_first.numel()
    theta = center.to_vector().expand(count, -1).clone()
    theta[:, names.index(first)] = grid_first.reshape(-1).to(theta)
    theta[:, names.index(second)] = grid_second.reshape(-1).to(theta)
    params = AIONParams.from_vector(theta, center.rank, center.dim, center.terms)
    losses = mse_loss(params, x, y.expand(count, -1))
    return losses.reshape(grid_first.shape)
