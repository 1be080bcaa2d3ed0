"""Render ``paper/companion.md``, the paper-style account, from the generated tables and the ledger.

Every number in the companion comes from a table under ``paper/tables/`` or from
``paper/claims.json`` at render time; none is typed by hand. The pipeline renders it after each
full run, and a test renders it again and compares, so a stale companion fails the tests.

    python -m idlib.companion          # rewrite paper/companion.md from the current tables
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from .ledger import LEDGER_PATH, load_ledger
from .outputs import REPOSITORY_ROOT, read_table, resolve_output_dir, write_text_atomic

COMPANION_PATH = REPOSITORY_ROOT / "paper" / "companion.md"

# (file stem, notebook that makes it, caption).
FIGURES = [
    ("fig1_level_sets", "01_test_problem",
     "Level sets of log10 L over (α1, φ1) and (A1, ω1), the other parameters at the minimum, with the paths of "
     "Infinite Descent (lime), steepest descent (cyan) and Newton-CG (magenta) from the start (red cross)."),
    ("fig2_convergence", "01_test_problem", "Loss against outer iteration for the three methods on the test problem."),
    ("fig3_tower_convergence", "00_derivation",
     "Error of the order-K truncated tower against K at several step sizes: AION's tower converges faster than "
     "any geometric rate, a tanh unit's diverges beyond its radius of convergence."),
    ("fig4_order_k_descent", "00_derivation",
     "Outer iterations and wall time of order-K descent for K = 1 (Newton), 2, 3, … and K = ∞ (the resummed step)."),
    ("fig5_basins", "03_benchmarks",
     "Starts over the paper's two planes from which one ID step, a Newton-CG run and an LM run reach the global minimum."),
    ("fig6_success_distance", "03_benchmarks", "Success rate of every method against the distance of the start from the truth."),
    ("fig7_cost_size", "03_benchmarks", "Median wall time of one fit against the number of data points."),
    ("fig8_noise_crb", "03_benchmarks", "Variance of the rate and frequency estimates against the Cramér–Rao bound."),
    ("fig9_throughput", "03_benchmarks", "Problems solved per second against batch size (recorded throughput benchmark)."),
    ("fig10_sunspots", "03_benchmarks", "AION fits of the yearly sunspot number (statsmodels) by ID and the baselines."),
]


def _number(text: str, digits: int = 3) -> str:
    """Format a table cell for prose: integers as is, floats to ``digits`` significant digits."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return str(text)
    if math.isnan(value):
        return "n/a"
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.{digits}g}"


def _markdown_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_number(row[column]) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def _table(root: Path, stem: str) -> list[dict] | None:
    path = root / "paper" / "tables" / f"{stem}.csv"
    return read_table(path) if path.exists() else None


def _section_reproduction(root: Path) -> list[str]:
    rows = _table(root, "table1_iterations")
    if rows is None:
        return ["Table 1 has not been generated; run `make reproduce`."]
    by_method = {row["method"]: row for row in rows}
    step, descent, newton = by_method["Infinite Descent"], by_method["Steepest Descent"], by_method["Newton-CG"]
    text = [
        f"On our instance one Infinite Descent step ({step['status']}) reached a relative gradient norm of "
        f"{_number(step['final_grad_norm_rel'])} and a relative parameter error of {_number(step['param_error_rel'])}. "
        f"Its inner work was {step['inner_iterations']} eigen-iterations, {step['linear_solves']} linear solves and "
        f"{step['eig_solves']} eigen-decompositions, in {_number(step['wall_time_s'])} s. "
        f"Steepest descent took {descent['outer_iterations']} iterations (paper: {descent['paper_iterations']}) and "
        f"Newton-CG {newton['outer_iterations']} (paper: {newton['paper_iterations']}), with {newton['hvp_evals']} "
        "Hessian-vector products in its inner CG loops.",
        "",
        "Table 1 (`paper/tables/table1_iterations.csv`, notebook `01_test_problem`):",
        "",
        _markdown_table(rows, ["method", "status", "outer_iterations", "paper_iterations", "final_grad_norm_rel",
                               "param_error_rel", "grad_evals", "hvp_evals", "linear_solves", "eig_solves",
                               "inner_iterations", "wall_time_s"]),
    ]
    return text


def _section_ledger(ledger: dict) -> list[str]:
    rows = []
    for claim in ledger["claims"]:
        rows.append({
            "claim": claim["claim"],
            "paper": claim.get("paper_value"),
            "ours": claim.get("our_value"),
            "status": claim["status"],
        })
    lines = ["| claim | paper | ours | status |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['claim']} | {_number(row['paper'])} | {_number(row['ours'])} | {row['status']} |")
    return ["The claims ledger (`paper/claims.json`), filled from the tables by the pipeline:", "", "\n".join(lines)]


def _section_generic_table(root: Path, stem: str, title: str, notebook: str, columns: list[str] | None = None,
                           keep=None) -> list[str]:
    rows = _table(root, stem)
    if rows is None:
        return [f"{title} (`paper/tables/{stem}.csv`) has not been generated; run `make reproduce`."]
    if keep is not None:
        rows = [row for row in rows if keep(row)]
    columns = columns or list(rows[0])
    return [f"{title} (`paper/tables/{stem}.csv`, notebook `{notebook}`):", "", _markdown_table(rows, columns)]


def _section_figures(root: Path) -> list[str]:
    lines = []
    for stem, notebook, caption in FIGURES:
        if not (root / "figures" / f"{stem}.png").exists():
            lines.append(f"- `{stem}` ({notebook}): not generated yet.")
            continue
        lines += [f"![{stem}](../figures/{stem}.png)", "", f"*{stem}* (notebook `{notebook}`). {caption}", ""]
    return lines


def render_companion(output_dir: str | Path | None = None, ledger_path: str | Path = LEDGER_PATH) -> str:
    """Return the companion's Markdown text, built from the tables under ``output_dir``."""
    root = resolve_output_dir(output_dir)
    ledger = load_ledger(ledger_path)
    parts = [
        "# Companion to \"The Method of Infinite Descent\"",
        "",
        "This account is generated by `python -m idlib.companion` from the tables under `paper/tables/` and the",
        "claims ledger; every number below comes from those files. The paper is R. T. Batley and S. Saha,",
        "\"The Method of Infinite Descent\", arXiv:2510.05489 (2025).",
        "",
        "## What the paper claims",
        "",
        "Infinite Descent replaces the truncated local models of iterative training with the whole Taylor",
        "expansion of the optimality condition ∇L(θ + δ) = 0. For models whose atoms are closed under the",
        "operations that build that expansion, the series sums in closed form and δ solves an exact algebraic",
        "equation. The paper's AION model (sums of products of exponential-trigonometric atoms) is the first",
        "such model. On one test problem it reports that one step reaches the minimum, where steepest descent",
        "takes 1000 iterations and Newton-CG 28.",
        "",
        "## How we implemented it",
        "",
        "- `idlib/aion.py`: AION with the real part taken per atom term, A·exp(αx)·cos(ωx + φ), batched, float64.",
        "- `idlib/tower.py`: ∇L(θ + δ) from the atoms at θ times their shift multipliers exp(Δα x + i(Δω x + Δφ)),",
        "  with no truncation; it agrees with autograd at θ + δ to 1e-12 for random θ and δ.",
        "- `idlib/direct_solve.py`: the step. Amplitudes and phases are eliminated by least squares; on a uniform",
        "  grid the remaining condition is the nonlinear eigenproblem B(γ)γ = 0 for the characteristic",
        "  polynomial of the shifted atoms, solved by weighted-Prony and Osborne–Smyth eigen-iterations. Its",
        "  inner iterations are counted. `idlib/fast_solve.py` is a batched variant for throughput.",
        "- Baselines with the same loss and criterion (‖∇L‖ ≤ 1e-10 ‖∇L(θ0)‖): steepest descent, Newton-CG",
        "  (scipy), L-BFGS, Levenberg–Marquardt, variable projection, the matrix pencil and Adam.",
        "",
        "## Reproduction of the paper's experiment",
        "",
        *_section_reproduction(root),
        "",
        *_section_ledger(ledger),
        "",
        "## Beyond the paper",
        "",
        *_section_generic_table(root, "table2_infinity_class", "Table 2, the Infinity Class checks", "00_derivation"),
        "",
        *_section_generic_table(root, "table2b_order_k_descent", "Table 2b, order-K descent between Newton (K = 1) "
                                "and Infinite Descent (K = ∞)", "00_derivation"),
        "",
        *_section_generic_table(
            root, "table3_benchmarks", "Table 3, success and cost per family (ID, LM, VarPro and Newton-CG shown; "
            "the CSV has every method)", "03_benchmarks",
            ["family", "method", "problems", "success_rate", "median_outer_iterations", "median_inner_iterations",
             "time_ratio_to_id"],
            keep=lambda row: row["method"] in ("ID", "LM", "VarPro", "NewtonCG")),
        "",
        *_section_generic_table(root, "table4_cost_size", "Table 4, wall time against problem size", "03_benchmarks"),
        "",
        *_section_generic_table(root, "table5_noise_crb", "Table 5, estimator variance and the Cramér–Rao bound",
                                "03_benchmarks", ["noise", "method", "parameter", "fits", "variance", "crb", "efficiency"],
                                keep=lambda row: row["parameter"] in ("alpha1", "omega1")),
        "",
        *_section_generic_table(root, "table6_sunspots", "Table 6, fits of the sunspot series", "03_benchmarks",
                                ["terms", "method", "status", "outer_iterations", "inner_iterations", "final_loss",
                                 "explained_variance", "wall_time_s"]),
        "",
        "## Figures",
        "",
        *_section_figures(root),
    ]
    return "\n".join(parts).rstrip() + "\n"


def write_companion(output_dir: str | Path | None = None) -> Path:
    """Render the companion and write it atomically to ``paper/companion.md`` under the output folder."""
    root = resolve_output_dir(output_dir)
    return write_text_atomic(root / "paper" / "companion.md", render_companion(root))


def main(argv: list[str] | None = None) -> int:
    path = write_companion()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
