"""The closed-form AION tower of one atom in sympy, for symbolic checks.

One atom in complex form is ``g = A E`` with ``E = exp(α x + i(ω x + φ))``; along the step t δ,
``δ = (ΔA, Δα, Δω, Δφ)``, it becomes ``(A + t ΔA) E exp(t u)`` with
``u = Δα x + i(Δω x + Δφ)``. The functions below write every coefficient of t^k in closed form:

- the shifted atom: ``S_k = A E u^k/k! + ΔA E u^{k-1}/(k-1)!``;
- its gradient ``∇g = (∂g/∂A, ∂g/∂α, ∂g/∂ω, ∂g/∂φ) = (E, x g, i x g, i g)`` at the shifted point:
  ``(E u^k/k!, x S_k, i x S_k, i S_k)``;
- the gradient of the one-point loss ``ℓ = (Re g - y)²`` of the real-part convention:
  ``T_k = 2 Σ_{m≤k} r_m Re(∇g)_{k-m}`` with ``r_0 = Re S_0 - y`` and ``r_m = Re S_m``.

All symbols are real, so the real part of a coefficient is the coefficient of the real part.
``idlib.aion_tower`` evaluates the same formulas numerically for whole AION models.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .taylor import check_order


@dataclass(frozen=True)
class AtomSymbols:
    """The real sympy symbols of one atom, one data point (x, y), the step δ and its scale t."""

    x: sp.Symbol
    y: sp.Symbol
    t: sp.Symbol
    A: sp.Symbol
    alpha: sp.Symbol
    omega: sp.Symbol
    phi: sp.Symbol
    delta_A: sp.Symbol
    delta_alpha: sp.Symbol
    delta_omega: sp.Symbol
    delta_phi: sp.Symbol

    @property
    def parameters(self) -> tuple[sp.Symbol, ...]:
        return (self.A, self.alpha, self.omega, self.phi)

    @property
    def steps(self) -> tuple[sp.Symbol, ...]:
        return (self.delta_A, self.delta_alpha, self.delta_omega, self.delta_phi)

    def shift(self) -> dict:
        """Return the substitution θ → θ + t δ."""
        return {parameter: parameter + self.t * step for parameter, step in zip(self.parameters, self.steps)}


def atom_symbols() -> AtomSymbols:
    """Return the symbols used by every function of this module (all real)."""
    names = "x y t A alpha omega phi Delta_A Delta_alpha Delta_omega Delta_phi"
    return AtomSymbols(*sp.symbols(names, real=True))


def complex_atom(symbols: AtomSymbols) -> sp.Expr:
    """``g = A exp(α x + i(ω x + φ))``."""
    s = symbols
    return s.A * sp.exp(s.alpha * s.x + sp.I * (s.omega * s.x + s.phi))


def real_atom(symbols: AtomSymbols) -> sp.Expr:
    """``Re g = A exp(α x) cos(ω x + φ)``."""
    s = symbols
    return s.A * sp.exp(s.alpha * s.x) * sp.cos(s.omega * s.x + s.phi)


def _atom_factor_and_exponent(symbols: AtomSymbols) -> tuple[sp.Expr, sp.Expr]:
    s = symbols
    atom = sp.exp(s.alpha * s.x + sp.I * (s.omega * s.x + s.phi))
    exponent = s.delta_alpha * s.x + sp.I * (s.delta_omega * s.x + s.delta_phi)
    return atom, exponent


def shifted_atom_terms(symbols: AtomSymbols, order: int) -> list[sp.Expr]:
    """Return ``S_k = A E u^k/k! + ΔA E u^{k-1}/(k-1)!`` for k = 0 … K."""
    order = check_order(order)
    s = symbols
    atom, exponent = _atom_factor_and_exponent(symbols)
    terms = []
    for k in range(order + 1):
        term = s.A * atom * exponent**k / sp.factorial(k)
        if k >= 1:
            term += s.delta_A * atom * exponent ** (k - 1) / sp.factorial(k - 1)
        terms.append(term)
    return terms


def atom_gradient_terms(symbols: AtomSymbols, order: int) -> list[list[sp.Expr]]:
    """Return, for k = 0 … K, the closed-form coefficient of t^k of ``∇g(θ + t δ)``, complex form."""
    s = symbols
    atom, exponent = _atom_factor_and_exponent(symbols)
    shifted = shifted_atom_terms(symbols, order)
    return [
        [atom * exponent**k / sp.factorial(k), s.x * term, sp.I * s.x * term, sp.I * term]
        for k, term in enumerate(shifted)
    ]


def _real_part(value: sp.Expr) -> sp.Expr:
    return (value + sp.conjugate(value)) / 2


def loss_gradient_terms(symbols: AtomSymbols, order: int) -> list[list[sp.Expr]]:
    """Return the closed-form tower ``T_k`` of ``∇ℓ``, ``ℓ = (Re g - y)²``, for k = 0 … K.

    Each ``T_k`` is the Cauchy product ``2 Σ_{m≤k} r_m Re(∇g)_{k-m}`` of the residual series and
    the gradient series.
    """
    residual = [_real_part(term) for term in shifted_atom_terms(symbols, order)]
    residual[0] = residual[0] - symbols.y
    gradient = [[_real_part(entry) for entry in row] for row in atom_gradient_terms(symbols, order)]
    return [
        [2 * sum(residual[m] * gradient[k - m][i] for m in range(k + 1)) for i in range(4)]
        for k in range(order + 1)
    ]


def is_zero(expression: sp.Expr) -> bool:
    """Return whether ``expression`` is zero after writing trigonometric functions as exponentials.

    Expanding and combining powers of exponentials settles the expressions of this module. The
    slower ``sympy.simplify`` runs only when that leaves something non-zero.
    """
    expanded = sp.expand(sp.powsimp(sp.expand(sp.expand(expression).rewrite(sp.exp))))
    return expanded == 0 or sp.simplify(expanded) == 0


def taylor_coefficients(expression: sp.Expr, variable: sp.Symbol, order: int, method: str = "series") -> list[sp.Expr]:
    """Coefficients of ``variable^k`` at 0, k = 0 … K, of ``expression``.

    ``method="series"`` expands with ``sympy.series``. ``method="diff"`` differentiates k times
    and sets the variable to zero, ``(1/k!) d^k/dt^k expression |_{t=0}``, which gives the same
    coefficients and is several times faster on the expressions of this module.
    """
    order = check_order(order)
    if method == "series":
        expansion = sp.expand(sp.series(expression, variable, 0, order + 1).removeO())
        return [expansion.coeff(variable, k) for k in range(order + 1)]
    if method == "diff":
        coefficients, derivative = [], expression
        for k in range(order + 1):
            coefficients.append(derivative.subs(variable, 0) / sp.factorial(k))
            derivative = sp.diff(derivative, variable)
        return coefficients
    raise ValueError(f"method must be 'series' or 'diff', got {method!r}")


def exponential_resummation_gap(symbols: AtomSymbols) -> sp.Expr:
    """Return ``Σ_{k≥0} S_k - (A + ΔA) exp((α + Δα) x + i((ω + Δω) x + φ + Δφ))``, simplified.

    sympy sums ``Σ_k u^k/k!`` to ``exp(u)``. The result is zero when the closed-form terms sum to
    the shifted atom, which is the resummation identity behind Infinite Descent.
    """
    s = symbols
    k = sp.Symbol("k", integer=True, nonnegative=True)
    atom, exponent = _atom_factor_and_exponent(symbols)
    series_of_multiplier = sp.summation(exponent**k / sp.factorial(k), (k, 0, sp.oo))
    total = (s.A + s.delta_A) * atom * series_of_multiplier
    shifted = complex_atom(symbols).subs(s.shift(), simultaneous=True).subs(s.t, 1)
    return sp.simplify(total - shifted)


def check_atom_tower(order: int = 6, loss_order: int = 2, method: str = "series") -> dict[str, bool]:
    """Compare the closed-form terms with sympy's own expansions; every entry should be True.

    - ``"resummation"``: ``Σ_k S_k`` sums to the shifted atom (``exponential_resummation_gap``).
    - ``"atom_gradient"``: the Taylor coefficients in t of ``∇g(θ + t δ)`` equal the closed-form
      ``atom_gradient_terms`` for k ≤ ``order``.
    - ``"loss_gradient"``: the Taylor coefficients in t of the real-form loss gradient
      ``∇ℓ(θ + t δ)`` equal ``loss_gradient_terms`` for k ≤ ``loss_order``.

    ``method`` selects how sympy expands (see ``taylor_coefficients``). With ``"series"`` the
    check took about 10 s for the default orders (sympy 1.14, 2-core CPU); ``"diff"`` is faster.
    """
    symbols = atom_symbols()
    results = {"resummation": exponential_resummation_gap(symbols) == 0}

    atom_gradient = [sp.diff(complex_atom(symbols), parameter) for parameter in symbols.parameters]
    shifted = [entry.subs(symbols.shift(), simultaneous=True) for entry in atom_gradient]
    closed = atom_gradient_terms(symbols, order)
    results["atom_gradient"] = all(
        is_zero(coefficient - closed[k][i])
        for i, entry in enumerate(shifted)
        for k, coefficient in enumerate(taylor_coefficients(entry, symbols.t, order, method))
    )

    loss = (real_atom(symbols) - symbols.y) ** 2
    shifted = [sp.diff(loss, parameter).subs(symbols.shift(), simultaneous=True) for parameter in symbols.parameters]
    closed = loss_gradient_terms(symbols, loss_order)
    results["loss_gradient"] = all(
        is_zero(coefficient - closed[k][i])
        for i, entry in enumerate(shifted)
        for k, coefficient in enumerate(taylor_coefficients(entry, symbols.t, loss_order, method))
    )
    return results
