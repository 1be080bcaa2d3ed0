"""An executable membership test for the Infinity Class, parameter by parameter.

A model is in the Infinity Class when every order of the Taylor tower of its optimality
condition has a finite algebraic form and the infinite sum can be taken in closed form
(R. T. Batley and S. Saha, "The Method of Infinite Descent", arXiv:2510.05489, 2025). For a
one-dimensional atom family ``f(x; q_1, …, q_m)`` this module asks two questions about each
parameter q:

**Shift closure.** Does a shift ``q → q + Δ`` act as multiplication by a member of the same
family, ``f(x; q + Δ) = f(x; q) · f(x; q')`` for some parameters q' (complex values allowed)?
The answer is ``"constant"`` when the ratio does not depend on x (a constant factor, which
every linear least-squares fit absorbs), ``"member"`` when a member q' is found, and ``"no"``
otherwise. The search is numerical: the ratio is sampled at several x for two shifts Δ, a
member is fitted by Levenberg–Marquardt from several seeded starting points, and a fit counts
only if it matches the ratio at fresh points to 1e-8. NOTE: a failed search is evidence, not a
proof, that no member exists; the tests confirm each "no" of the standard families by an
independent argument.

**The tower in q.** As a function of complex q, with x and the other parameters fixed, is f

- a polynomial (the tower ``terminates`` after ``degree`` orders),
- ``entire`` (the tower converges for every step and resums in closed form), or
- singular at a finite point (``finite radius``)?

The last case reports the radius of convergence of the tower around the stated value q_0,
``ρ = min |q* - q_0|`` over the singular points q*, as a formula in x and the other parameters
and as a number at the stated values. Singular points are found structurally: the expression
tree is walked, and the zeros of every denominator (bases of negative powers, the ``cosh`` of
``tanh``, the ``1 + exp(-z)`` of a sigmoid, …) and every branch point are solved for q,
including the periodic families of zeros of exponentials. A pole whose neighbourhood stays
bounded numerically is dropped as removable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mpmath
import numpy as np
import scipy.optimize
import sympy as sp

# Functions that are entire in their argument: the composition with an entire argument is entire.
_ENTIRE_FUNCTIONS = (sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.erf)
# Functions with poles where a companion function vanishes: tanh z = sinh z / cosh z, …
_POLE_FUNCTIONS = {
    sp.tanh: sp.cosh, sp.sech: sp.cosh, sp.tan: sp.cos, sp.sec: sp.cos,
    sp.coth: sp.sinh, sp.csch: sp.sinh, sp.cot: sp.sin, sp.csc: sp.sin,
}
TOWER_TERMINATES = "terminates"
TOWER_ENTIRE = "entire"
TOWER_FINITE = "finite radius"


@dataclass(frozen=True)
class AtomFamily:
    """A parameterised one-dimensional atom family and the point at which to report.

    Attributes
    ----------
    name : short label, for example ``"tanh unit"``.
    expression : sympy expression in ``x`` and the parameters.
    x : the input symbol.
    parameters : the parameter symbols, in reporting order.
    values : stated parameter values ``{symbol name: number}``.
    x_value : the stated input at which radii are evaluated.
    """

    name: str
    expression: sp.Expr
    x: sp.Symbol
    parameters: tuple[sp.Symbol, ...]
    values: dict[str, float]
    x_value: float

    def __post_init__(self) -> None:
        if not isinstance(self.expression, sp.Expr):
            raise TypeError(f"expression must be a sympy expression, got {type(self.expression).__name__}")
        if not self.parameters:
            raise ValueError(f"family {self.name!r} needs at least one parameter symbol")
        names = [symbol.name for symbol in self.parameters]
        missing = [name for name in names if name not in self.values]
        if missing:
            raise ValueError(f"family {self.name!r}: values lacks the parameter(s) {missing}; give a number for each")
        unknown = self.expression.free_symbols - set(self.parameters) - {self.x}
        if unknown:
            raise ValueError(
                f"family {self.name!r}: the expression has symbols {sorted(map(str, unknown))} that are neither "
                "x nor a parameter; list them in parameters"
            )

    def substitutions(self) -> dict:
        """Map every parameter symbol and x to its stated value."""
        mapping = {symbol: self.values[symbol.name] for symbol in self.parameters}
        mapping[self.x] = self.x_value
        return mapping


@dataclass
class ParameterVerdict:
    """Verdicts of the checker for one parameter of one family.

    Attributes
    ----------
    family, parameter : names.
    closure : ``"constant"``, ``"member"`` or ``"no"`` (see the module docstring).
    closure_detail : the member parameters q' found for the first shift, or why none.
    tower : ``"terminates"``, ``"entire"`` or ``"finite radius"``.
    degree : the polynomial degree when the tower terminates, else ``None``.
    singular_points : sympy expressions of the singular points in the parameter (with an
        integer ``n`` for periodic families).
    radius : sympy expression of the radius of convergence around the stated value, valid near
        the stated values, or ``None`` when the tower terminates or is entire.
    radius_value : the radius at the stated values (``inf`` when the tower terminates or is entire).
    nearest_point : the nearest singular point at the stated values, complex, or ``None``.
    """

    family: str
    parameter: str
    closure: str
    closure_detail: str
    tower: str
    degree: int | None = None
    singular_points: list = field(default_factory=list)
    radius: sp.Expr | None = None
    radius_value: float = math.inf
    nearest_point: complex | None = None


# --------------------------------------------------------------------------------------
# Singular points


def _solve_for(parameter, equation_left, equation_right) -> list[sp.Expr]:
    """Solve ``left(q) = right`` for q; raise when sympy finds no closed form."""
    solutions = sp.solve(sp.Eq(equation_left, equation_right), parameter, dict=False)
    if not isinstance(solutions, list):
        raise ValueError(f"could not solve {equation_left} = {equation_right} for {parameter}")
    return [sp.simplify(solution) for solution in solutions]


def _zeros(expression: sp.Expr, parameter, integer: sp.Symbol) -> list[sp.Expr]:
    """Zeros of ``expression`` as a function of the complex ``parameter``.

    Periodic families of zeros are returned as expressions in the integer symbol ``integer``.
    Raises ``ValueError`` for an expression whose zeros this routine cannot find.
    """
    if not expression.has(parameter):
        return []
    if expression.is_Mul:
        return [zero for factor in expression.args for zero in _zeros(factor, parameter, integer)]
    if expression.is_Pow and expression.exp.is_Integer and expression.exp > 0:
        return _zeros(expression.base, parameter, integer)
    if isinstance(expression, sp.exp):
        return []
    argument = expression.args[0] if expression.args else None
    periodic = {
        sp.sin: sp.pi * integer,
        sp.cos: sp.pi * (integer + sp.Rational(1, 2)),
        sp.sinh: sp.I * sp.pi * integer,
        sp.cosh: sp.I * sp.pi * (integer + sp.Rational(1, 2)),
    }
    for function, targets in periodic.items():
        if isinstance(expression, function):
            return _solve_for(parameter, argument, targets)
    if expression.is_polynomial(parameter):
        return [sp.simplify(root) for root in sp.solve(expression, parameter)]
    if expression.is_Add:
        # a + c exp(g) = 0  ⇔  g = log(-a / c) + 2πi n
        constant = sp.Add(*[term for term in expression.args if not term.has(parameter)])
        varying = [term for term in expression.args if term.has(parameter)]
        if len(varying) == 1 and constant != 0:
            coefficient, exponential = varying[0].as_independent(parameter, as_Add=False)
            if isinstance(exponential, sp.exp):
                target = sp.log(-constant / coefficient) + 2 * sp.pi * sp.I * integer
                return _solve_for(parameter, exponential.args[0], target)
    raise ValueError(
        f"cannot locate the zeros of {expression} in {parameter}; rewrite the atom with exp, sin, cos, "
        "sinh, cosh, tanh, powers and polynomials"
    )


def singular_points(expression: sp.Expr, parameter, integer: sp.Symbol) -> list[tuple[str, sp.Expr]]:
    """Candidate singular points of ``expression`` in the complex ``parameter``.

    Returns pairs ``(kind, point)`` with kind ``"pole"`` (a zero of a denominator: a pole, or an
    essential singularity when it sits inside an exponential) or ``"branch"`` (a branch point of
    a non-integer power or a logarithm). Entire functions of entire arguments add nothing.
    """
    if not expression.has(parameter) or expression.is_Symbol:
        return []
    if expression.is_Add or expression.is_Mul:
        return [point for term in expression.args for point in singular_points(term, parameter, integer)]
    if expression.is_Pow:
        base, exponent = expression.args
        points = singular_points(base, parameter, integer) + singular_points(exponent, parameter, integer)
        if exponent.has(parameter):
            if base.has(parameter):
                points += [("branch", zero) for zero in _zeros(base, parameter, integer)]
            return points
        if exponent.is_Integer and exponent > 0:
            return points
        kind = "pole" if exponent.is_Integer else "branch"
        return points + [(kind, zero) for zero in _zeros(base, parameter, integer)]
    if isinstance(expression, _ENTIRE_FUNCTIONS):
        return singular_points(expression.args[0], parameter, integer)
    for function, denominator in _POLE_FUNCTIONS.items():
        if isinstance(expression, function):
            argument = expression.args[0]
            inner = singular_points(argument, parameter, integer)
            return inner + [("pole", zero) for zero in _zeros(denominator(argument), parameter, integer)]
    if isinstance(expression, sp.log):
        argument = expression.args[0]
        return singular_points(argument, parameter, integer) + [
            ("branch", zero) for zero in _zeros(argument, parameter, integer)
        ]
    raise ValueError(
        f"cannot analyse {type(expression).__name__} in {expression}; supported are +, *, powers, exp, sin, cos, "
        "sinh, cosh, erf, tan, tanh and their reciprocals, and log"
    )


def _nearest_member(point: sp.Expr, integer: sp.Symbol, centre: complex, numeric: dict) -> tuple[int | None, complex]:
    """Return the integer n whose point is nearest ``centre`` at the stated values, and that point."""
    value = point.subs(numeric)
    if not value.has(integer):
        return None, complex(sp.N(value, 30))
    if sp.Poly(value, integer).degree() == 1:
        offset = complex(sp.N(value.subs(integer, 0), 30)) - centre
        slope = complex(sp.N(sp.diff(value, integer), 30))
        middle = round(-(offset * slope.conjugate()).real / abs(slope) ** 2)
        candidates = range(middle - 2, middle + 3)
    else:
        # NOTE: a family of zeros that is not linear in n is scanned over |n| <= 200 only.
        candidates = range(-200, 201)
    best = min(candidates, key=lambda n: abs(complex(sp.N(value.subs(integer, n), 30)) - centre))
    return best, complex(sp.N(value.subs(integer, best), 30))


def _is_removable(family: AtomFamily, parameter, point: complex) -> bool:
    """Return whether |f| stays bounded on shrinking circles around ``point`` (a removable singularity)."""
    others = {symbol: family.values[symbol.name] for symbol in family.parameters if symbol != parameter}
    others[family.x] = family.x_value
    function = sp.lambdify(parameter, family.expression.subs(others), modules="mpmath")
    scale = max(1.0, abs(point))
    with mpmath.workdps(40):
        maxima = []
        for radius in (1e-3 * scale, 1e-6 * scale):
            values = []
            for k in range(16):
                angle = 2 * math.pi * (k + 0.5) / 16
                try:
                    values.append(abs(function(mpmath.mpc(point) + radius * mpmath.expj(angle))))
                except (ZeroDivisionError, OverflowError):
                    values.append(mpmath.inf)
            maxima.append(max(values))
    return bool(maxima[1] <= 10 * maxima[0] + 1e-30)


def _radius_formula(point: sp.Expr, parameter) -> sp.Expr:
    """``|point - q|`` simplified for real symbols, as ``sqrt(re² + im²) / |denominator|``."""
    numerator, denominator = sp.fraction(sp.together(point - parameter))
    real, imaginary = numerator.as_real_imag()
    return sp.sqrt(real**2 + imaginary**2) / sp.Abs(denominator)


def _check_parameter(family: AtomFamily, parameter) -> None:
    if parameter not in family.parameters:
        names = ", ".join(symbol.name for symbol in family.parameters)
        raise ValueError(f"{parameter!r} is not a parameter of family {family.name!r}; pass one of its symbols: {names}")


def classify_tower(family: AtomFamily, parameter) -> dict:
    """Classify the tower of ``family`` in ``parameter``: terminates, entire or finite radius."""
    _check_parameter(family, parameter)
    expression = family.expression
    if expression.is_polynomial(parameter):
        degree = int(sp.degree(expression, parameter)) if expression.has(parameter) else 0
        return {"tower": TOWER_TERMINATES, "degree": degree}
    integer = sp.Symbol("n", integer=True)
    variable = sp.Dummy(parameter.name)
    candidates = singular_points(expression.subs(parameter, variable), variable, integer)
    if not candidates:
        return {"tower": TOWER_ENTIRE}
    numeric = {symbol: family.values[symbol.name] for symbol in family.parameters if symbol != parameter}
    numeric[family.x] = family.x_value
    centre = complex(family.values[parameter.name])
    found = []
    for kind, point in candidates:
        index, value = _nearest_member(point, integer, centre, numeric)
        if kind == "pole" and _is_removable(family, parameter, value):
            continue
        exact = point if index is None else point.subs(integer, index)
        found.append((abs(value - centre), value, exact, point))
    if not found:
        return {"tower": TOWER_ENTIRE}
    distance, value, exact, _ = min(found, key=lambda item: item[0])
    return {
        "tower": TOWER_FINITE,
        "singular_points": [item[3] for item in found],
        "radius": _radius_formula(exact.subs(variable, parameter), parameter),
        "radius_value": float(distance),
        "nearest_point": value,
    }


# --------------------------------------------------------------------------------------
# Shift closure


def _complex_function(family: AtomFamily):
    return sp.lambdify((family.x, *family.parameters), family.expression, modules="numpy")


def shift_closure(family: AtomFamily, parameter, shifts=(0.37, -0.61), seed: int = 0, starts: int = 12) -> tuple[str, str]:
    """Decide whether shifting ``parameter`` multiplies the atom by a family member.

    For each shift Δ the ratio ``R(x) = f(x; q + Δ e) / f(x; q)`` at the stated values is sampled
    on x ∈ [x_0 - 0.8, x_0 + 0.8] with x_0 the stated input. A constant R gives ``"constant"``.
    Otherwise complex parameters q' with ``f(x; q') = R(x)`` are fitted by least squares from the
    stated values and from ``starts`` seeded random complex points. A fit counts only if it
    reproduces R at twelve fresh points to relative accuracy 1e-8. Returns ``(verdict, detail)``.
    """
    _check_parameter(family, parameter)
    function = _complex_function(family)
    base = np.array([family.values[symbol.name] for symbol in family.parameters], dtype=complex)
    index = family.parameters.index(parameter)
    generator = np.random.default_rng(seed)
    centre = family.x_value
    samples = centre + np.linspace(-0.8, 0.8, 4 * len(base) + 6)
    checks = centre + 0.8 * (2 * generator.random(12) - 1)
    size = len(base)
    details = []
    constant_everywhere = True
    for shift in shifts:
        shifted = base.copy()
        shifted[index] += shift
        with np.errstate(all="ignore"):
            ratio_samples = function(samples, *shifted) / function(samples, *base)
            ratio_checks = function(checks, *shifted) / function(checks, *base)
        ratio_samples = np.broadcast_to(ratio_samples, samples.shape)
        ratio_checks = np.broadcast_to(ratio_checks, checks.shape)
        if not (np.all(np.isfinite(ratio_samples)) and np.all(np.isfinite(ratio_checks))):
            return "no", f"the ratio for shift {shift} is not finite on the sample points"
        spread = np.max(np.abs(ratio_samples - ratio_samples[0])) / max(1.0, np.abs(ratio_samples[0]))
        if spread <= 1e-12:
            details.append(f"constant {complex(ratio_samples[0]):.6g}")
            continue
        constant_everywhere = False
        member = _fit_member(function, samples, ratio_samples, checks, ratio_checks, base, generator, starts, size)
        if member is None:
            return "no", f"no member matches the ratio for shift {shift} (searched {starts + 1} starts)"
        names = ", ".join(f"{symbol.name}'={value.real:.4g}{value.imag:+.4g}j" for symbol, value in zip(family.parameters, member))
        details.append(f"shift {shift}: {names}")
    return ("constant" if constant_everywhere else "member"), "; ".join(details)


def _fit_member(function, samples, ratio_samples, checks, ratio_checks, base, generator, starts, size):
    scale = np.maximum(1.0, np.abs(ratio_samples))

    def residual(packed):
        member = packed[:size] + 1j * packed[size:]
        with np.errstate(all="ignore"):
            values = np.broadcast_to(function(samples, *member), samples.shape)
        difference = (values - ratio_samples) / scale
        difference = np.where(np.isfinite(difference), difference, 1e6)
        return np.concatenate([difference.real, difference.imag])

    initial_points = [np.concatenate([base.real, base.imag])]
    initial_points += [generator.normal(0.0, 1.0, 2 * size) for _ in range(starts)]
    for initial in initial_points:
        try:
            fit = scipy.optimize.least_squares(residual, initial, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=100 * (2 * size + 1))
        except (ValueError, FloatingPointError):
            continue
        member = fit.x[:size] + 1j * fit.x[size:]
        with np.errstate(all="ignore"):
            values = np.broadcast_to(function(checks, *member), checks.shape)
        error = np.max(np.abs(values - ratio_checks) / np.maximum(1.0, np.abs(ratio_checks)))
        if np.isfinite(error) and error <= 1e-8:
            return member
    return None


# --------------------------------------------------------------------------------------
# Families and the table


def check_family(family: AtomFamily) -> list[ParameterVerdict]:
    """Return the verdict for every parameter of ``family``."""
    if not isinstance(family, AtomFamily):
        raise TypeError(f"family must be an AtomFamily, got {type(family).__name__}")
    verdicts = []
    for parameter in family.parameters:
        closure, detail = shift_closure(family, parameter)
        tower = classify_tower(family, parameter)
        verdicts.append(ParameterVerdict(family=family.name, parameter=parameter.name, closure=closure,
                                         closure_detail=detail, **tower))
    return verdicts


def standard_families() -> list[AtomFamily]:
    """Return the atom families of the comparison table, with their stated values.

    AION atoms take the truth of the test problem, ``(A, α, ω, φ) = (1, -0.1, 1.2, 0.5)``. All
    radii are evaluated at ``x = 1.5``.
    """
    x = sp.Symbol("x", real=True)
    A, alpha, omega, phi = sp.symbols("A alpha omega phi", real=True)
    c0, c1, c2, w, b, c, s = sp.symbols("c0 c1 c2 w b c s", real=True)
    aion_values = {"A": 1.0, "alpha": -0.1, "omega": 1.2, "phi": 0.5}
    unit_values = {"w": 0.8, "b": 0.3}
    return [
        AtomFamily("AION atom, complex form", A * sp.exp(alpha * x + sp.I * (omega * x + phi)), x,
                   (A, alpha, omega, phi), aion_values, 1.5),
        AtomFamily("AION atom, real part", A * sp.exp(alpha * x) * sp.cos(omega * x + phi), x,
                   (A, alpha, omega, phi), aion_values, 1.5),
        AtomFamily("quadratic polynomial", c0 + c1 * x + c2 * x**2, x, (c0, c1, c2),
                   {"c0": 0.5, "c1": -0.3, "c2": 0.2}, 1.5),
        AtomFamily("cubic unit", (w * x + b) ** 3, x, (w, b), unit_values, 1.5),
        AtomFamily("Gaussian bump", A * sp.exp(-((x - c) ** 2) / (2 * s**2)), x, (A, c, s),
                   {"A": 1.0, "c": 0.5, "s": 0.7}, 1.5),
        AtomFamily("tanh unit", sp.tanh(w * x + b), x, (w, b), unit_values, 1.5),
        AtomFamily("sigmoid unit", 1 / (1 + sp.exp(-(w * x + b))), x, (w, b), unit_values, 1.5),
    ]


def infinity_class_table(families: list[AtomFamily] | None = None) -> list[dict]:
    """Build one row per family and parameter, for ``idlib.outputs.write_table``."""
    families = standard_families() if families is None else families
    rows = []
    for family in families:
        for verdict in check_family(family):
            rows.append(
                {
                    "family": family.name,
                    "atom": sp.sstr(family.expression),
                    "parameter": verdict.parameter,
                    "shift_closure": verdict.closure,
                    "tower": verdict.tower,
                    "degree": "" if verdict.degree is None else verdict.degree,
                    "radius_formula": "" if verdict.radius is None else sp.sstr(verdict.radius),
                    "radius_at_stated_values": "inf" if math.isinf(verdict.radius_value) else round(verdict.radius_value, 6),
                    "stated_values": ", ".join(f"{k}={v:g}" for k, v in family.values.items()) + f", x={family.x_value:g}",
                }
            )
    return rows


def numerical_radius(family: AtomFamily, parameter, order: int = 40, precision: int = 50) -> float:
    """Estimate the radius of the Taylor series in ``parameter`` from mpmath coefficients.

    The coefficients ``c_k`` of ``f(q_0 + Δ)`` come from ``mpmath.taylor`` at ``precision``
    digits. The estimate is ``1 / max_{k ∈ [K/2, K]} |c_k|^{1/k}``, the Cauchy–Hadamard root test
    over the upper half of the orders. It tends to infinity for an entire series and is within
    a few percent of a finite radius for K = 40 when the nearest singularity is a simple pole.
    """
    _check_parameter(family, parameter)
    others = {symbol: family.values[symbol.name] for symbol in family.parameters if symbol != parameter}
    others[family.x] = family.x_value
    function = sp.lambdify(parameter, family.expression.subs(others), modules="mpmath")
    with mpmath.workdps(precision):
        coefficients = mpmath.taylor(function, family.values[parameter.name], order)
        roots = [abs(coefficients[k]) ** (mpmath.mpf(1) / k) for k in range(order // 2, order + 1)]
        largest = max(roots)
    return math.inf if largest == 0 else float(1 / largest)
