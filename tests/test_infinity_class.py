"""The Infinity Class checker against independent calculations.

Closure verdicts are confirmed with differential equations that characterise each family (for
example every tanh unit t(x) = tanh(w'x + b') satisfies t' = w'(1 - t²)), tower verdicts with
hand-derived pole distances and with a root test on mpmath Taylor coefficients.
"""

import math

import mpmath
import pytest
import sympy as sp

from idlib.infinity_class import (
    TOWER_ENTIRE,
    TOWER_FINITE,
    TOWER_TERMINATES,
    AtomFamily,
    check_family,
    classify_tower,
    infinity_class_table,
    numerical_radius,
    standard_families,
)

FAMILIES = {family.name: family for family in standard_families()}


@pytest.fixture(scope="module")
def verdicts():
    return {(verdict.family, verdict.parameter): verdict for family in FAMILIES.values() for verdict in check_family(family)}


def shifted_ratio(family, parameter_name, shift):
    """``x ↦ f(x; q + Δ e) / f(x; q)`` at the stated values, as an mpmath function."""
    parameter = next(symbol for symbol in family.parameters if symbol.name == parameter_name)
    values = {symbol: family.values[symbol.name] for symbol in family.parameters}
    shifted = dict(values)
    shifted[parameter] = values[parameter] + shift
    ratio = family.expression.subs(shifted) / family.expression.subs(values)
    return sp.lambdify(family.x, ratio, modules="mpmath")


def growth_radius(family, parameter_name, order=48):
    """Radius estimate from the growth of mpmath Taylor coefficients between two order windows."""
    parameter = next(symbol for symbol in family.parameters if symbol.name == parameter_name)
    others = {symbol: family.values[symbol.name] for symbol in family.parameters if symbol != parameter}
    others[family.x] = family.x_value
    function = sp.lambdify(parameter, family.expression.subs(others), modules="mpmath")
    with mpmath.workdps(60):
        coefficients = [abs(c) for c in mpmath.taylor(function, family.values[parameter_name], order)]
        low = max(coefficients[order // 2 - 8 : order // 2 + 1])
        high = max(coefficients[order - 8 : order + 1])
        if high == 0:
            return math.inf
        return float((low / high) ** (mpmath.mpf(1) / (order - order // 2)))


# ---------------------------------------------------------------------------------------
# Shift closure, confirmed by the differential equation of each family


def test_complex_aion_closure(verdicts):
    family = FAMILIES["AION atom, complex form"]
    assert verdicts[(family.name, "A")].closure == "constant"
    assert verdicts[(family.name, "phi")].closure == "constant"
    for name in ("alpha", "omega"):
        # Members A exp((α + iω) x + iφ) are exactly the solutions of (R'/R)' = 0.
        ratio = shifted_ratio(family, name, 0.37)
        log_derivative = lambda x: mpmath.diff(ratio, x) / ratio(x)  # noqa: E731
        assert abs(mpmath.diff(log_derivative, 0.9)) < 1e-20
        assert verdicts[(family.name, name)].closure == "member"


def hankel_determinant(function, x):
    """det [[R, R', R''], [R', R'', R'''], [R'', R''', R'''']], zero for solutions of R'' + a R' + b R = 0."""
    derivatives = [mpmath.diff(function, x, k) for k in range(5)]
    return mpmath.det(mpmath.matrix([[derivatives[i + j] for j in range(3)] for i in range(3)]))


def test_real_aion_closure(verdicts):
    family = FAMILIES["AION atom, real part"]
    with mpmath.workdps(40):
        exponential = shifted_ratio(family, "alpha", 0.37)
        assert abs(hankel_determinant(exponential, 0.9)) < 1e-25
        for name in ("omega", "phi"):
            # Members A e^{αx} cos(ωx + φ) solve a second-order constant-coefficient equation;
            # the ratio does not, so no member equals it.
            assert abs(hankel_determinant(shifted_ratio(family, name, 0.37), 0.9)) > 1e-3
            assert verdicts[(family.name, name)].closure == "no"
    assert verdicts[(family.name, "alpha")].closure == "member"
    assert verdicts[(family.name, "A")].closure == "constant"


def test_gaussian_closure(verdicts):
    family = FAMILIES["Gaussian bump"]
    with mpmath.workdps(40):
        for name, expected in (("c", "no"), ("s", "member")):
            ratio = shifted_ratio(family, name, 0.37)
            log_ratio = lambda x: mpmath.log(ratio(x))  # noqa: E731
            # Members have a log that is exactly quadratic in x with a non-zero x² term.
            assert abs(mpmath.diff(log_ratio, 0.9, 3)) < 1e-20
            quadratic = mpmath.diff(log_ratio, 0.9, 2)
            assert (abs(quadratic) > 1e-3) == (expected == "member")
            assert verdicts[(family.name, name)].closure == expected
    assert verdicts[(family.name, "A")].closure == "constant"


@pytest.mark.parametrize(
    ("family_name", "invariant"),
    [
        ("tanh unit", lambda r, x: mpmath.diff(r, x) / (1 - r(x) ** 2)),  # t' = w'(1 - t²)
        ("sigmoid unit", lambda r, x: mpmath.diff(r, x) / (r(x) * (1 - r(x)))),  # σ' = w' σ(1 - σ)
        ("cubic unit", lambda r, x: mpmath.diff(lambda z: mpmath.cbrt(r(z)), x)),  # (R^{1/3})' = w'
        ("quadratic polynomial", lambda r, x: mpmath.diff(r, x, 2)),  # R'' = 2 c2'
    ],
)
def test_units_and_polynomials_are_not_closed(verdicts, family_name, invariant):
    family = FAMILIES[family_name]
    for parameter in family.parameters:
        ratio = shifted_ratio(family, parameter.name, 0.37)
        with mpmath.workdps(40):
            # For a member the invariant is the same at every x.
            assert abs(invariant(ratio, 1.1) - invariant(ratio, 1.9)) > 1e-3
        assert verdicts[(family.name, parameter.name)].closure == "no"


# ---------------------------------------------------------------------------------------
# The tower in each parameter


def test_terminating_towers_have_the_right_degree(verdicts):
    for family in FAMILIES.values():
        for parameter in family.parameters:
            verdict = verdicts[(family.name, parameter.name)]
            if verdict.tower == TOWER_TERMINATES:
                assert sp.expand(sp.diff(family.expression, parameter, verdict.degree + 1)) == 0
                assert sp.expand(sp.diff(family.expression, parameter, verdict.degree)) != 0
            else:
                # A non-polynomial tower has a non-zero fifth derivative at the stated values.
                fifth = sp.diff(family.expression, parameter, 5).subs(family.substitutions())
                assert abs(complex(sp.N(fifth))) > 1e-8, (family.name, parameter)


@pytest.mark.parametrize(
    ("family_name", "parameter"),
    [("AION atom, complex form", "alpha"), ("AION atom, complex form", "omega"), ("AION atom, real part", "alpha"),
     ("AION atom, real part", "omega"), ("AION atom, real part", "phi"), ("Gaussian bump", "c")],
)
def test_entire_towers_pass_the_root_test(verdicts, family_name, parameter):
    assert verdicts[(family_name, parameter)].tower == TOWER_ENTIRE
    assert verdicts[(family_name, parameter)].radius_value == math.inf
    # The estimate settles near a finite radius (see the tanh and sigmoid cases below) but keeps
    # growing with the order for an entire function.
    estimates = [growth_radius(FAMILIES[family_name], parameter, order) for order in (40, 80)]
    assert estimates[0] > 2.0
    assert estimates[1] > 1.3 * estimates[0], estimates


def tanh_pole_distance(weight, bias, x):
    return abs(complex(weight * x + bias, math.pi / 2))  # |w x + b - iπ/2|, poles of tanh at ±iπ/2


@pytest.mark.parametrize(
    ("family_name", "parameter", "hand_radius"),
    [
        ("tanh unit", "w", lambda w, b, x: tanh_pole_distance(w, b, x) / abs(x)),
        ("tanh unit", "b", lambda w, b, x: tanh_pole_distance(w, b, x)),
        ("sigmoid unit", "w", lambda w, b, x: abs(complex(w * x + b, math.pi)) / abs(x)),
        ("sigmoid unit", "b", lambda w, b, x: abs(complex(w * x + b, math.pi))),
    ],
)
def test_unit_radii_equal_the_pole_distances(verdicts, family_name, parameter, hand_radius):
    family = FAMILIES[family_name]
    verdict = verdicts[(family_name, parameter)]
    w, b, x = family.values["w"], family.values["b"], family.x_value
    assert verdict.tower == TOWER_FINITE
    assert math.isclose(verdict.radius_value, hand_radius(w, b, x), rel_tol=1e-12)
    assert math.isclose(growth_radius(family, parameter), verdict.radius_value, rel_tol=0.05)
    assert math.isclose(numerical_radius(family, sp.Symbol(parameter, real=True)), verdict.radius_value, rel_tol=0.05)
    # The formula holds as a function of x and the other parameters, not only at the stated values.
    symbols = {symbol.name: symbol for symbol in verdict.radius.free_symbols}
    other = {symbols["x"]: 0.7, symbols.get("w", sp.Symbol("w")): -1.2, symbols.get("b", sp.Symbol("b")): 0.4}
    assert math.isclose(float(verdict.radius.subs(other)), hand_radius(-1.2, 0.4, 0.7), rel_tol=1e-12)


def test_sigmoid_pole_sits_at_i_pi_in_the_pre_activation():
    verdict = classify_tower(FAMILIES["sigmoid unit"], sp.Symbol("b", real=True))
    family = FAMILIES["sigmoid unit"]
    pre_activation = family.values["w"] * family.x_value + verdict["nearest_point"]
    # 1 + exp(-z) = 0 at z = ±iπ: the nearest singular bias puts the pre-activation there.
    assert abs(abs(pre_activation.imag) - math.pi) < 1e-12
    assert abs(pre_activation.real) < 1e-12


def test_gaussian_width_singularity_is_at_zero(verdicts):
    verdict = verdicts[("Gaussian bump", "s")]
    family = FAMILIES["Gaussian bump"]
    assert verdict.tower == TOWER_FINITE
    assert verdict.nearest_point == 0
    assert math.isclose(verdict.radius_value, family.values["s"], rel_tol=1e-14)
    # exp(-(x - c)²/(2 s²)) has an essential singularity at s = 0, hence radius |s|: it blows up
    # along the imaginary axis towards 0.
    function = sp.lambdify(sp.Symbol("s", real=True), family.expression.subs({sp.Symbol("A", real=True): 1.0,
                           sp.Symbol("c", real=True): 0.5, family.x: family.x_value}), modules="mpmath")
    assert abs(function(mpmath.mpc(0, 0.04))) > 1e100  # exp(312) for x - c = 1
    # Its sub-geometric factor makes the coefficient estimate approach |s| from below, slowly.
    estimates = [growth_radius(family, "s", order) for order in (40, 80)]
    assert estimates[0] < estimates[1] < family.values["s"]
    assert estimates[1] > 0.85 * family.values["s"]


def test_removable_singularity_is_dropped():
    x, p = sp.symbols("x p", real=True)
    family = AtomFamily("removable", (p**2 - 1) / (p - 1) * sp.exp(x), x, (p,), {"p": 0.5}, 1.0)
    assert classify_tower(family, p)["tower"] == TOWER_ENTIRE
    genuine = AtomFamily("pole", 1 / (p - 1) * sp.exp(x), x, (p,), {"p": 0.5}, 1.0)
    verdict = classify_tower(genuine, p)
    assert verdict["tower"] == TOWER_FINITE
    assert math.isclose(verdict["radius_value"], 0.5)


# ---------------------------------------------------------------------------------------
# The table and input checks


def test_table_has_one_row_per_parameter():
    chosen = [FAMILIES["AION atom, complex form"], FAMILIES["tanh unit"]]
    rows = infinity_class_table(chosen)
    assert len(rows) == 6
    assert [row["parameter"] for row in rows] == ["A", "alpha", "omega", "phi", "w", "b"]
    assert {row["tower"] for row in rows} == {TOWER_TERMINATES, TOWER_ENTIRE, TOWER_FINITE}
    tanh_w = next(row for row in rows if row["family"] == "tanh unit" and row["parameter"] == "w")
    assert tanh_w["radius_at_stated_values"] == round(tanh_pole_distance(0.8, 0.3, 1.5) / 1.5, 6)
    assert all(row["radius_at_stated_values"] == "inf" for row in rows if row["tower"] != TOWER_FINITE)


def test_atom_family_rejects_incomplete_input():
    x, a, b = sp.symbols("x a b", real=True)
    with pytest.raises(ValueError, match="values lacks"):
        AtomFamily("bad", a * x, x, (a,), {}, 1.0)
    with pytest.raises(ValueError, match="neither x nor a parameter"):
        AtomFamily("bad", a * x + b, x, (a,), {"a": 1.0}, 1.0)
    with pytest.raises(TypeError, match="sympy expression"):
        AtomFamily("bad", "a*x", x, (a,), {"a": 1.0}, 1.0)


def test_unsupported_function_is_reported():
    x, a = sp.symbols("x a", real=True)
    family = AtomFamily("gamma", sp.gamma(a * x), x, (a,), {"a": 1.0}, 1.0)
    with pytest.raises(ValueError, match="cannot analyse gamma"):
        classify_tower(family, a)


def test_unknown_parameter_is_rejected():
    family = FAMILIES["tanh unit"]
    with pytest.raises(ValueError, match="not a parameter of family 'tanh unit'"):
        classify_tower(family, sp.Symbol("a", real=True))
