"""idlib: the AION model, the Infinite Descent step, its baselines and problem families.

Companion code to R. T. Batley and S. Saha, "The Method of Infinite Descent",
arXiv:2510.05489 (2025).
"""

from .aion import AIONParams, aion, mse_loss, wrap_phase
from .baselines import newton_cg, steepest_descent
from .direct_solve import DirectSolveResult, direct_solve, infinite_descent
from .families import FamilySpec, make_family
from .fast_solve import fast_direct_solve, fast_infinite_descent, newton_solve
from .jacobian import aion_jacobian
from .objective import AIONObjective, Objective, QuadraticObjective
from .problems import Problem, paper_test_problem, parameter_error, random_one_atom_problem
from .report import SolverReport, WorkCounts
from .strong_baselines import adam, lbfgs, levenberg_marquardt, matrix_pencil, variable_projection
from .tower import resummed_gradient, shift_multiplier

__version__ = "0.1.0"

__all__ = [
    "AIONObjective",
    "AIONParams",
    "DirectSolveResult",
    "FamilySpec",
    "Objective",
    "Problem",
    "QuadraticObjective",
    "SolverReport",
    "WorkCounts",
    "adam",
    "aion",
    "aion_jacobian",
    "direct_solve",
    "fast_direct_solve",
    "fast_infinite_descent",
    "infinite_descent",
    "lbfgs",
    "levenberg_marquardt",
    "make_family",
    "matrix_pencil",
    "mse_loss",
    "newton_cg",
    "newton_solve",
    "paper_test_problem",
    "parameter_error",
    "random_one_atom_problem",
    "resummed_gradient",
    "shift_multiplier",
    "steepest_descent",
    "variable_projection",
    "wrap_phase",
]
