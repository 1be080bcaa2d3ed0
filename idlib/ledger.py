"""The claims ledger: the paper's claims beside the values this project measures.

``paper/claims.json`` lists each claim of R. T. Batley and S. Saha, "The Method of Infinite
Descent", arXiv:2510.05489 (2025), with the paper's value, our value, the conditions of our
measurement, the table cell our value comes from, and a status:

- ``reproduced``: our value meets the claim's rule (equal to the paper's value, or within a
  stated limit).
- ``differs``: it does not.
- ``not testable``: the paper gives no value to compare with, or the claim is too general for a
  table to settle. Our value may still be recorded.
- ``pending``: the table that will back the claim does not exist yet.

Each claim that reads a table has a ``source``::

    {"table": "paper/tables/table1_iterations.csv",   # relative to the output folder
     "row": {"method": "Infinite Descent"},            # column values that select one row
     "column": "outer_iterations",                     # the cell that gives our_value
     "details": ["status", "final_grad_norm_rel"],     # more cells of that row, kept as evidence
     "tolerance": {"final_grad_norm_rel": {"atol": 1e-12}}}   # optional, per column

and a ``rule`` that turns our value into a status::

    {"kind": "equal"}                          # reproduced when our_value == paper_value
    {"kind": "at_most", "limit": 1e-10}        # reproduced when our_value <= limit
    {"kind": "none"}                           # status is "not testable" whatever the value
    "require": {"status": "converged"}         # optional with equal/at_most: these cells of
                                               # the row must hold these values, or it differs

``fill_ledger`` copies our values from the tables and derives each status from its rule;
``check_ledger`` reports every place where the stored ledger and the tables disagree. Values are
compared exactly unless the source gives a tolerance for that column (for values at rounding
level, whose last digits change between runs).

Command line, from any folder::

    python -m idlib.ledger --check   # exit status 1 when the ledger and the tables disagree
    python -m idlib.ledger --fill    # rewrite paper/claims.json from the tables
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .outputs import REPOSITORY_ROOT, read_table, resolve_output_dir, write_text_atomic

logger = logging.getLogger(__name__)

LEDGER_PATH = REPOSITORY_ROOT / "paper" / "claims.json"
STATUSES = ("reproduced", "differs", "not testable", "pending")
RULE_KINDS = ("equal", "at_most", "none")
CLAIM_FIELDS = ("id", "claim", "paper_value", "our_value", "conditions", "source", "rule", "status")
_INTEGER = re.compile(r"[+-]?\d+")


class LedgerError(ValueError):
    """The ledger is malformed, or a table it names cannot be read."""


@dataclass
class LedgerCheck:
    """Outcome of ``check_ledger``.

    Attributes
    ----------
    problems : one message per disagreement between the ledger and the tables.
    skipped : one message per pending claim whose table does not exist yet.
    """

    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_ledger(path: str | os.PathLike = LEDGER_PATH) -> dict:
    """Read and validate a ledger file."""
    path = Path(path)
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise LedgerError(f"ledger {path} not found; pass the path of claims.json") from error
    except json.JSONDecodeError as error:
        raise LedgerError(f"ledger {path} is not valid JSON: {error}") from error
    validate_ledger(ledger)
    return ledger


def write_ledger(ledger: dict, path: str | os.PathLike = LEDGER_PATH) -> Path:
    """Validate ``ledger`` and write it atomically as indented JSON."""
    validate_ledger(ledger)
    return write_text_atomic(Path(path), json.dumps(ledger, indent=2, ensure_ascii=False) + "\n")


def validate_ledger(ledger: dict) -> None:
    """Raise ``LedgerError`` listing every structural problem of ``ledger``."""
    if not isinstance(ledger, dict) or not isinstance(ledger.get("claims"), list):
        raise LedgerError('the ledger must be a JSON object with a "claims" list')
    errors = []
    seen = set()
    for index, claim in enumerate(ledger["claims"]):
        errors.extend(_claim_errors(index, claim))
        identifier = claim.get("id") if isinstance(claim, dict) else None
        if identifier in seen:
            errors.append(f"claim id {identifier!r} appears more than once; ids must be unique")
        seen.add(identifier)
    if errors:
        raise LedgerError("invalid ledger:\n  " + "\n  ".join(errors))


def _claim_errors(index: int, claim) -> list[str]:
    if not isinstance(claim, dict):
        return [f"claim {index} is a {type(claim).__name__}, expected an object"]
    name = f"claim {claim.get('id', index)!r}"
    errors = [f"{name} is missing the field {key!r}" for key in CLAIM_FIELDS if key not in claim]
    if errors:
        return errors

    status, rule, source = claim["status"], claim["rule"], claim["source"]
    if status not in STATUSES:
        errors.append(f"{name} has status {status!r}; use one of {', '.join(STATUSES)}")
    if status == "pending":
        if not isinstance(source, dict) or not source.get("table"):
            errors.append(f'{name} is pending and must name the table it will read in source["table"]')
        return errors

    if not isinstance(rule, dict) or rule.get("kind") not in RULE_KINDS:
        errors.append(f'{name} needs a rule with "kind" one of {", ".join(RULE_KINDS)}, got {rule!r}')
        return errors
    if rule["kind"] == "at_most" and not isinstance(rule.get("limit"), (int, float)):
        errors.append(f'{name} has an at_most rule without a numeric "limit"')
    if not isinstance(rule.get("require", {}), dict):
        errors.append(f'{name}: rule["require"] must map column names to the values they must hold')
    if rule["kind"] == "none":
        if status != "not testable":
            errors.append(f'{name} has rule "none", so its status must be "not testable", not {status!r}')
        if source is None:
            return errors

    if not isinstance(source, dict):
        errors.append(f"{name} needs a source object with table, row and column")
        return errors
    for key, kind in (("table", str), ("row", dict), ("column", str)):
        if not isinstance(source.get(key), kind) or not source.get(key):
            errors.append(f'{name}: source["{key}"] must be a non-empty {kind.__name__}, got {source.get(key)!r}')
    if not isinstance(source.get("details", []), list):
        errors.append(f'{name}: source["details"] must be a list of column names')
    if not isinstance(source.get("tolerance", {}), dict):
        errors.append(f'{name}: source["tolerance"] must map column names to {{"atol": ..., "rtol": ...}}')
    return errors


def parse_cell(text: str):
    """Convert a table cell to int, float or str, as ``outputs.write_table`` formatted it."""
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _table_row(root: Path, source: dict, claim_id: str) -> dict[str, str]:
    path = root / source["table"]
    if not path.is_file():
        raise LedgerError(
            f"{claim_id}: table {path} not found; run `make reproduce` (or pass the output "
            "folder that holds paper/tables/)"
        )
    rows = read_table(path)
    selector = source["row"]
    matches = [row for row in rows if all(row.get(column) == str(value) for column, value in selector.items())]
    if len(matches) != 1:
        raise LedgerError(
            f"{claim_id}: {len(matches)} rows of {source['table']} match {selector}, expected exactly one"
        )
    return matches[0]


def _cell(row: dict[str, str], column: str, source: dict, claim_id: str):
    if column not in row:
        raise LedgerError(
            f"{claim_id}: column {column!r} not found in {source['table']}; "
            f"its columns are {', '.join(row)}"
        )
    return parse_cell(row[column])


def derive_status(claim: dict, our_value, required_cells: dict) -> str:
    """Apply the claim's rule to our value. ``required_cells`` contains the cells its rule requires."""
    rule = claim["rule"]
    if rule["kind"] == "none":
        return "not testable"
    for column, expected in rule.get("require", {}).items():
        if required_cells.get(column) != expected:
            return "differs"
    if rule["kind"] == "equal":
        return "reproduced" if our_value == claim["paper_value"] else "differs"
    if isinstance(our_value, bool) or not isinstance(our_value, (int, float)):
        raise LedgerError(
            f"{claim['id']}: the at_most rule needs a number, but column {claim['source']['column']} contains "
            f"{our_value!r}; point the source at a numeric column"
        )
    return "reproduced" if our_value <= rule["limit"] else "differs"


def fill_claim(claim: dict, root: str | os.PathLike | None = None) -> dict:
    """Return a copy of one claim with our value, details and status taken from its table.

    Pending claims and claims without a source come back unchanged.
    """
    filled = copy.deepcopy(claim)
    source = claim["source"]
    if claim["status"] == "pending" or source is None:
        return filled
    row = _table_row(resolve_output_dir(root), source, claim["id"])
    value = _cell(row, source["column"], source, claim["id"])
    details = {column: _cell(row, column, source, claim["id"]) for column in source.get("details", [])}
    required = {column: _cell(row, column, source, claim["id"]) for column in claim["rule"].get("require", {})}
    filled["our_value"] = value
    filled["status"] = derive_status(claim, value, required)
    if not details:
        return filled
    # Keep our_details next to our_value, so that a reader of the file finds them together.
    ordered = {}
    for key, entry in filled.items():
        if key != "our_details":
            ordered[key] = entry
        if key == "our_value":
            ordered["our_details"] = details
    return ordered


def fill_ledger(ledger: dict, root: str | os.PathLike | None = None) -> dict:
    """Return a copy of ``ledger`` with our values, details and statuses taken from the tables.

    ``root`` is the output folder that contains ``paper/tables/`` (the repository root by default,
    as in ``outputs.resolve_output_dir``). Pending claims are left as they are, because the
    rows and columns of a table that does not exist yet are unknown. Raises ``LedgerError`` when
    a table, row or column named by a claim is missing.
    """
    validate_ledger(ledger)
    filled = copy.deepcopy(ledger)
    filled["claims"] = [fill_claim(claim, root) for claim in ledger["claims"]]
    return filled


def _show(value) -> str:
    """Format a ledger value as it is written in the JSON file (null, "text", 1e-10)."""
    return json.dumps(value, ensure_ascii=False)


def _agree(stored, current, tolerance: dict | None) -> bool:
    numbers = (int, float)
    if isinstance(stored, bool) or isinstance(current, bool) or not (
        isinstance(stored, numbers) and isinstance(current, numbers)
    ):
        return stored == current
    if math.isnan(stored) or math.isnan(current):
        return math.isnan(stored) and math.isnan(current)
    tolerance = tolerance or {}
    return math.isclose(stored, current, rel_tol=tolerance.get("rtol", 0.0), abs_tol=tolerance.get("atol", 0.0))


def check_ledger(ledger: dict, root: str | os.PathLike | None = None) -> LedgerCheck:
    """Compare the stored ledger with the tables under ``root`` and return every disagreement.

    A pending claim is skipped while its table is missing. Once the table exists, the claim is
    reported until its row, column, rule and status are filled in.
    """
    validate_ledger(ledger)
    report = LedgerCheck()
    for claim in ledger["claims"]:
        name = claim["id"]
        if claim["status"] == "pending":
            table = claim["source"]["table"]
            if (resolve_output_dir(root) / table).is_file():
                report.problems.append(
                    f"{name}: {table} now exists but the claim is still pending; set its source row "
                    "and column, its rule and status, then run `python -m idlib.ledger --fill`"
                )
            else:
                report.skipped.append(f"{name}: pending until {table} exists")
            continue
        if claim["source"] is None:
            continue
        try:
            expected = fill_claim(claim, root)
        except LedgerError as error:
            report.problems.append(str(error))
            continue
        tolerances = claim["source"].get("tolerance", {})
        column = claim["source"]["column"]
        table = claim["source"]["table"]
        if not _agree(claim["our_value"], expected["our_value"], tolerances.get(column)):
            report.problems.append(
                f"{name}: our_value is {_show(claim['our_value'])} in the ledger but {_show(expected['our_value'])} "
                f"in {table} (column {column}); review the change and run `python -m idlib.ledger --fill`"
            )
        stored_details = claim.get("our_details", {})
        for detail, current in expected.get("our_details", {}).items():
            if detail not in stored_details:
                report.problems.append(
                    f"{name}: our_details has no entry {detail!r} (the table gives {_show(current)}); "
                    "run `python -m idlib.ledger --fill`"
                )
            elif not _agree(stored_details[detail], current, tolerances.get(detail)):
                report.problems.append(
                    f"{name}: our_details[{detail!r}] is {_show(stored_details[detail])} in the ledger but "
                    f"{_show(current)} in {table}; review the change and run `python -m idlib.ledger --fill`"
                )
        if claim["status"] != expected["status"]:
            report.problems.append(
                f"{name}: status is {_show(claim['status'])} in the ledger but the tables give "
                f"{_show(expected['status'])}; review the claim and run `python -m idlib.ledger --fill`"
            )
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m idlib.ledger", description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="report disagreements between the ledger and the tables (default)")
    action.add_argument("--fill", action="store_true", help="rewrite the ledger with our values and statuses from the tables")
    parser.add_argument("--ledger", default=str(LEDGER_PATH), help="path of the ledger (default: paper/claims.json)")
    parser.add_argument("--output-dir", help="folder that contains paper/tables/ (default: $IDLIB_OUTPUT_DIR if set, else the repository root)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Check or fill the ledger; return 0 when it agrees with the tables, 1 when not, 2 on errors."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    arguments = build_parser().parse_args(argv)
    root = str(Path(arguments.output_dir).expanduser().resolve()) if arguments.output_dir else None
    try:
        ledger = load_ledger(Path(arguments.ledger).expanduser())
        if arguments.fill:
            path = write_ledger(fill_ledger(ledger, root), Path(arguments.ledger).expanduser())
            logger.info("ledger written to %s", path)
            return 0
        report = check_ledger(ledger, root)
    except LedgerError as error:
        logger.error("%s", error)
        return 2
    for message in report.skipped:
        logger.info("skipped %s", message)
    for message in report.problems:
        logger.error("%s", message)
    if report.problems:
        logger.error("%d disagreements between the ledger and the tables", len(report.problems))
        return 1
    logger.info("the ledger agrees with the tables (%d claims)", len(ledger["claims"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
