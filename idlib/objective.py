"""Objectives on a flat parameter vector, with evaluation counters for the baselines.

Every baseline sees the loss through an ``Objective``: ``value(θ)``, ``gradient(θ)`` and
``hvp(θ, v)`` on a flat float64 tensor θ, each counted in ``counts`` when it computes. The most
recent gradient is cached, so asking twice at the same θ (as scipy and the monitoring callback
do) costs and counts one evaluation.
"""

from __future__ import annotations

import torch

from .aion import AIONParams, as_batched_inputs, mse_loss
from .data import check_exponent_range, check_targets
from .report import WorkCounts


class Objective:
    """Base class: subclasses implement ``_value`` and, where autograd is not enough, the others."""

    def __init__(self, n_params: int, dtype: torch.dtype = torch.float64, device=None) -> None:
        self.n_params = n_params
        self.dtype = dtype
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.counts = WorkCounts()
        self._cached_theta: torch.Tensor | None = None
        self._cached: tuple[float, torch.Tensor] | None = None

    def reset_counts(self) -> None:
        self.counts = WorkCounts()
        self._cached_theta = None
        self._cached = None

    def _value(self, theta: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def as_parameter(self, theta) -> torch.Tensor:
        """Convert θ (tensor, array or list) to a flat tensor of this objective's dtype and device."""
        theta = torch.as_tensor(theta, dtype=self.dtype, device=self.device).reshape(-1)
        if theta.numel() != self.n_params:
            raise ValueError(f"theta has {theta.numel()} entries but the objective has {self.n_params} parameters")
        if not bool(torch.isfinite(theta).all()):
            raise ValueError("theta contains NaN or infinite values; start from a finite point")
        return theta

    def check_start(self, theta) -> torch.Tensor:
        """Validate a starting point; subclasses add model-specific checks."""
        return self.as_parameter(theta)

    def value(self, theta) -> float:
        theta = self.as_parameter(theta)
        self.counts.loss_evals += 1
        with torch.no_grad():
            return float(self._value(theta))

    def value_and_gradient(self, theta) -> tuple[float, torch.Tensor]:
        theta = self.as_parameter(theta)
        if self._cached_theta is not None and torch.equal(theta, self._cached_theta):
            return self._cached
        self.counts.grad_evals += 1
        leaf = theta.detach().clone().requires_grad_(True)
        loss = self._value(leaf)
        (gradient,) = torch.autograd.grad(loss, leaf)
        self._cached_theta = theta.detach().clone()
        self._cached = (float(loss.detach()), gradient.detach())
        return self._cached

    def gradient(self, theta) -> torch.Tensor:
        return self.value_and_gradient(theta)[1]

    def hvp(self, theta, vector) -> torch.Tensor:
        """Hessian-vector product ∇²L(θ) v by forward-over-reverse differentiation."""
        theta = self.as_parameter(theta)
        vector = torch.as_tensor(vector, dtype=self.dtype, device=self.device).reshape(-1)
        self.counts.hvp_evals += 1
        _, product = torch.func.jvp(torch.func.grad(self._value), (theta,), (vector,))
        return product.detach()


class AIONObjective(Objective):
    """Mean squared error of one AION model with data ``(x, y)``; θ in ``AIONParams.to_vector`` order."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, rank: int = 1, dim: int = 1, terms: int = 1) -> None:
        template = AIONParams(*(torch.zeros(1, rank, dim, terms, dtype=x.dtype, device=x.device) for _ in range(4)))
        x = as_batched_inputs(x, template)
        y = check_targets(y, x, template)
        if x.shape[0] != 1:
            raise ValueError(f"AIONObjective takes one problem, got x with batch size {x.shape[0]}")
        if x.shape[1] < template.n_params:
            raise ValueError(
                f"x has {x.shape[1]} points but the model has {template.n_params} parameters; "
                "pass at least as many data points as parameters or use a smaller model"
            )
        super().__init__(template.n_params, dtype=x.dtype, device=x.device)
        self.x, self.y = x, y
        self.rank, self.dim, self.terms = rank, dim, terms

    def params(self, theta) -> AIONParams:
        return AIONParams.from_vector(self.as_parameter(theta), self.rank, self.dim, self.terms)

    def check_start(self, theta) -> torch.Tensor:
        """Validate a starting point, including that ``exp(α x)`` stays finite on the data."""
        theta = self.as_parameter(theta)
        check_exponent_range(self.params(theta), self.x, argument="theta0")
        return theta

    def _value(self, theta: torch.Tensor) -> torch.Tensor:
        params = AIONParams.from_vector(theta, self.rank, self.dim, self.terms)
        return mse_loss(params, self.x, self.y)[0]


class QuadraticObjective(Objective):
    """``L(θ) = ½ (θ - θ*)ᵀ H (θ - θ*)`` with symmetric positive definite ``H``; minimiser θ*."""

    def __init__(self, hessian: torch.Tensor, minimiser: torch.Tensor) -> None:
        super().__init__(minimiser.numel(), dtype=minimiser.dtype, device=minimiser.device)
        self.hessian, self.minimiser = hessian, minimiser

    def _value(self, theta: torch.Tensor) -> torch.Tensor:
        shift = theta - self.minimiser
        return 0.5 * shift @ (self.hessian @ shift)
