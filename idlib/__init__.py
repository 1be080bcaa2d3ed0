"""idlib: the AION model, the Infinite Descent step and its baselines.

Companion code to R. T. Batley and S. Saha, "The Method of Infinite Descent",
arXiv:2510.05489 (2025).
"""

from .aion import AIONParams, aion, mse_loss, wrap_phase
from .baselines import newton_cg, steepest_descent
from .direct_solve import DirectSolveResult, direct_solve, infinite_descent
from .objective import AIONObjective, Objective, QuadraticObjective
from .problems import Problem, paper_test_problem, parameter_error, random_one_atom_problem
from .report import SolverReport, WorkCounts
from .tower import resummed_gradient, shift_multiplier

__version__ = "0.1.0"

__all__ = [
    "AIONObjective",
    "AIONParams",
    "DirectSolveResult",
    "Objective",
    "Problem",
    "QuadraticObjective",
    "SolverReport",
    "WorkCounts",
    "aion",
    "direct_solve",
    "infinite_descent",
    "mse_loss",
    "newton_cg",
    "paper_test_problem",
    "parameter_error",
    "random_one_atom_problem",
    "resummed_gradient",
    "shift_multiplier",
    "steepest_descent",
    "wrap_phase",
]
