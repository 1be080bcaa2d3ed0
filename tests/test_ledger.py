"""The claims ledger (paper/claims.json) against the generated tables, and the checks that must fail."""

import copy
import json
import math
import re
import shutil

import pytest

from idlib.ledger import (
    LEDGER_PATH,
    LedgerError,
    check_ledger,
    fill_ledger,
    load_ledger,
    main,
    parse_cell,
    validate_ledger,
    write_ledger,
)
from idlib.outputs import REPOSITORY_ROOT, read_table, write_table

TABLE1 = "paper/tables/table1_iterations.csv"
LEDGER = load_ledger(LEDGER_PATH)
PAPER_CLAIMS = {
    "infinite-descent-one-step",
    "steepest-descent-iterations",
    "newton-cg-iterations",
    "exact-algebraic-update",
    "direct-solve-inner-work",
    "closed-architectures",
    "infinity-class-conditions",
    "tower-order-k",
}


def claim_by_id(ledger, identifier):
    return next(claim for claim in ledger["claims"] if claim["id"] == identifier)


def copy_tables(root):
    """Copy every committed table the ledger reads into ``root/paper/tables`` and return ``root``."""
    tables = {TABLE1} | {
        claim["source"]["table"] for claim in LEDGER["claims"] if claim["status"] != "pending" and claim["source"]
    }
    for table in sorted(tables):
        target = root / table
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPOSITORY_ROOT / table, target)
    return root


def edit_table1(root, method, column, value):
    """Change one cell of the copied Table 1, keeping every other cell as it was."""
    path = root / TABLE1
    rows = read_table(path)
    for row in rows:
        if row["method"] == method:
            row[column] = value
    write_table(rows, path.with_suffix(""))


def problems_of(report, identifier):
    return [message for message in report.problems if message.startswith(f"{identifier}:")]


def pending_ledger(table="paper/tables/table2_infinity_class.csv"):
    return {
        "claims": [
            {
                "id": "waits-for-table",
                "claim": "A claim whose table is still being produced.",
                "paper_value": "some value",
                "our_value": None,
                "conditions": None,
                "source": {"table": table, "row": None, "column": None},
                "rule": None,
                "status": "pending",
            }
        ]
    }


def test_ledger_lists_paper_claims():
    identifiers = {claim["id"] for claim in LEDGER["claims"]}
    assert PAPER_CLAIMS <= identifiers, f"claims missing from the ledger: {sorted(PAPER_CLAIMS - identifiers)}"


@pytest.mark.parametrize("claim", LEDGER["claims"], ids=lambda claim: claim["id"])
def test_claim_agrees_with_tables(claim):
    if claim["status"] == "pending" and not (REPOSITORY_ROOT / claim["source"]["table"]).is_file():
        pytest.skip(f"pending until {claim['source']['table']} exists")
    report = check_ledger({"claims": [claim]}, REPOSITORY_ROOT)
    assert report.problems == [], "\n".join(report.problems)


def test_changed_count_detected(tmp_path):
    edit_table1(copy_tables(tmp_path), "Steepest Descent", "outer_iterations", "1000")
    report = check_ledger(LEDGER, tmp_path)
    messages = problems_of(report, "steepest-descent-iterations")
    assert len(messages) == 2, report.problems
    assert "our_value is 782 in the ledger but 1000" in messages[0]
    assert 'status is "differs" in the ledger but the tables give "reproduced"' in messages[1]
    assert len(report.problems) == 2, "only the changed claim may be reported"


def test_fill_follows_changed_table(tmp_path):
    edit_table1(copy_tables(tmp_path), "Steepest Descent", "outer_iterations", "1000")
    filled = fill_ledger(LEDGER, tmp_path)
    claim = claim_by_id(filled, "steepest-descent-iterations")
    assert claim["our_value"] == 1000
    assert claim["status"] == "reproduced"
    assert check_ledger(filled, tmp_path).problems == []
    assert claim_by_id(LEDGER, "steepest-descent-iterations")["our_value"] == 782, "fill must not change its input"


def test_rounding_level_change_tolerated(tmp_path):
    edit_table1(copy_tables(tmp_path), "Infinite Descent", "final_grad_norm_rel", "7.1e-15")
    assert check_ledger(LEDGER, tmp_path).problems == []


def test_gradient_above_limit_detected(tmp_path):
    edit_table1(copy_tables(tmp_path), "Infinite Descent", "final_grad_norm_rel", "1e-09")
    report = check_ledger(LEDGER, tmp_path)
    messages = problems_of(report, "exact-algebraic-update")
    assert any("our_value" in message and "1e-09" in message for message in messages), report.problems
    assert any('the tables give "differs"' in message for message in messages), report.problems
    assert any("final_grad_norm_rel" in message for message in problems_of(report, "infinite-descent-one-step"))


def test_failed_step_makes_claims_differ(tmp_path):
    edit_table1(copy_tables(tmp_path), "Infinite Descent", "status", "max_inner_iterations")
    filled = fill_ledger(LEDGER, tmp_path)
    assert claim_by_id(filled, "infinite-descent-one-step")["status"] == "differs"
    assert claim_by_id(filled, "exact-algebraic-update")["status"] == "differs"
    report = check_ledger(LEDGER, tmp_path)
    assert any("status" in message for message in problems_of(report, "infinite-descent-one-step"))


def test_text_in_numeric_column_rejected(tmp_path):
    edit_table1(copy_tables(tmp_path), "Infinite Descent", "final_grad_norm_rel", "n/a")
    with pytest.raises(LedgerError, match="at_most rule needs a number"):
        fill_ledger(LEDGER, tmp_path)
    assert any("at_most rule needs a number" in message for message in check_ledger(LEDGER, tmp_path).problems)


def test_missing_table_reported(tmp_path):
    report = check_ledger(LEDGER, tmp_path)
    assert report.problems, "a missing Table 1 must be reported"
    assert all("not found; run `make reproduce`" in message for message in report.problems)


def test_missing_row_reported(tmp_path):
    path = copy_tables(tmp_path) / TABLE1
    rows = [row for row in read_table(path) if row["method"] != "Newton-CG"]
    write_table(rows, path.with_suffix(""))
    messages = problems_of(check_ledger(LEDGER, tmp_path), "newton-cg-iterations")
    assert messages == [f"newton-cg-iterations: 0 rows of {TABLE1} match {{'method': 'Newton-CG'}}, expected exactly one"]


def test_missing_column_reported(tmp_path):
    path = copy_tables(tmp_path) / TABLE1
    rows = [{("outer" if key == "outer_iterations" else key): value for key, value in row.items()} for row in read_table(path)]
    write_table(rows, path.with_suffix(""))
    report = check_ledger(LEDGER, tmp_path)
    assert any("column 'outer_iterations' not found" in message for message in report.problems), report.problems


def test_pending_claim_skipped_while_table_missing(tmp_path):
    report = check_ledger(pending_ledger(), tmp_path)
    assert report.problems == []
    assert report.skipped == ["waits-for-table: pending until paper/tables/table2_infinity_class.csv exists"]


def test_pending_claim_reported_once_table_exists(tmp_path):
    table = tmp_path / "paper" / "tables" / "table2_infinity_class.csv"
    table.parent.mkdir(parents=True)
    table.write_text("model,closed\nAION,True\n")
    report = check_ledger(pending_ledger(), tmp_path)
    assert report.skipped == []
    assert len(report.problems) == 1
    assert "now exists but the claim is still pending" in report.problems[0]


def test_fill_leaves_pending_claim_unchanged(tmp_path):
    ledger = pending_ledger()
    assert fill_ledger(ledger, tmp_path) == ledger


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda claim: claim.update(status="confirmed"), "has status 'confirmed'"),
        (lambda claim: claim.pop("conditions"), "missing the field 'conditions'"),
        (lambda claim: claim.update(rule={"kind": "at_most"}), 'at_most rule without a numeric "limit"'),
        (lambda claim: claim.update(rule={"kind": "roughly"}), 'needs a rule with "kind" one of'),
        (lambda claim: claim.update(rule={"kind": "none"}), 'its status must be "not testable"'),
        (lambda claim: claim["source"].update(row=None), 'source["row"] must be a non-empty dict'),
    ],
    ids=["unknown-status", "missing-field", "limit-missing", "unknown-rule", "none-rule-status", "row-missing"],
)
def test_invalid_claim_rejected(change, message):
    ledger = copy.deepcopy(LEDGER)
    change(claim_by_id(ledger, "steepest-descent-iterations"))
    with pytest.raises(LedgerError, match=re.escape(message)):
        validate_ledger(ledger)


def test_duplicate_id_rejected():
    ledger = copy.deepcopy(LEDGER)
    ledger["claims"].append(copy.deepcopy(ledger["claims"][0]))
    with pytest.raises(LedgerError, match="appears more than once"):
        validate_ledger(ledger)


def test_pending_claim_without_table_rejected():
    ledger = pending_ledger()
    ledger["claims"][0]["source"] = None
    with pytest.raises(LedgerError, match="must name the table it will read"):
        validate_ledger(ledger)


def test_parse_cell_types():
    assert parse_cell("782") == 782 and isinstance(parse_cell("782"), int)
    assert parse_cell("6.44082e-15") == pytest.approx(6.44082e-15, rel=0)
    assert parse_cell("converged") == "converged"
    assert math.isnan(parse_cell("nan"))


def test_write_then_load_round_trip(tmp_path):
    path = write_ledger(LEDGER, tmp_path / "claims.json")
    assert load_ledger(path) == LEDGER
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_load_reports_invalid_json(tmp_path):
    path = tmp_path / "claims.json"
    path.write_text('{"claims": [', encoding="utf-8")
    with pytest.raises(LedgerError, match="is not valid JSON"):
        load_ledger(path)


def test_command_line_exit_status(tmp_path, caplog):
    assert main(["--check", "--output-dir", str(REPOSITORY_ROOT)]) == 0
    changed = copy_tables(tmp_path / "out")
    edit_table1(changed, "Newton-CG", "outer_iterations", "28")
    assert main(["--check", "--output-dir", str(changed)]) == 1
    assert "newton-cg-iterations: our_value is 11 in the ledger but 28" in caplog.text
    assert main(["--check", "--output-dir", str(tmp_path / "empty")]) == 1

    ledger_copy = tmp_path / "claims.json"
    shutil.copyfile(LEDGER_PATH, ledger_copy)
    assert main(["--fill", "--ledger", str(ledger_copy), "--output-dir", str(changed)]) == 0
    refilled = json.loads(ledger_copy.read_text(encoding="utf-8"))
    assert claim_by_id(refilled, "newton-cg-iterations")["status"] == "reproduced"
    assert main(["--check", "--ledger", str(ledger_copy), "--output-dir", str(changed)]) == 0


def test_command_line_reports_invalid_ledger(tmp_path):
    broken = tmp_path / "claims.json"
    broken.write_text('{"claims": [{"id": "x"}]}', encoding="utf-8")
    assert main(["--check", "--ledger", str(broken), "--output-dir", str(REPOSITORY_ROOT)]) == 2
