"""The result object every solver returns, with the work it did."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch


@dataclass
class WorkCounts:
    """Work done by a solver, counted per problem.

    Attributes
    ----------
    loss_evals : evaluations of L(θ) alone.
    grad_evals : evaluations of ∇L(θ) (each also yields L(θ)).
    hvp_evals : Hessian-vector products.
    linear_solves : factorisations or solves of a linear system (a batched call counts once per problem).
    eig_solves : eigen-decompositions, including polynomial root finding through a companion matrix.
    inner_iterations : iterations of an inner loop (CG steps, eigen-iterations of a direct solve).
    jacobian_evals : evaluations of the residual Jacobian ∂r/∂θ (least-squares methods).
    svds : singular value decompositions.
    """

    loss_evals: int = 0
    grad_evals: int = 0
    hvp_evals: int = 0
    linear_solves: int = 0
    eig_solves: int = 0
    inner_iterations: int = 0
    jacobian_evals: int = 0
    svds: int = 0

    def as_dict(self) -> dict[str, int]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass
class SolverReport:
    """Outcome of one solver run on one problem.

    Attributes
    ----------
    method : name of the method.
    theta : final parameters as a flat float64 tensor (``AIONParams.to_vector`` order).
    status : ``"converged"``, ``"max_iterations"`` or a failure such as ``"no_real_solution"``.
    message : human-readable explanation of ``status``.
    outer_iterations : parameter updates taken.
    work : all inner work, see ``WorkCounts``.
    wall_time_s : wall-clock time of the solve, in seconds.
    path : iterates θ_0, θ_1, …, each a flat tensor; ``path[0]`` is the start.
    losses : L at each iterate of ``path``.
    grad_norms : ‖∇L‖₂ at each iterate of ``path``.
    """

    method: str
    theta: torch.Tensor
    status: str
    message: str
    outer_iterations: int
    work: WorkCounts
    wall_time_s: float
    path: list[torch.Tensor] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def final_loss(self) -> float:
        return self.losses[-1]

    @property
    def grad_norm_rel(self) -> float:
        """‖∇L(θ_final)‖₂ / ‖∇L(θ_0)‖₂, the convergence measure shared by all methods."""
        return self.grad_norms[-1] / self.grad_norms[0]
