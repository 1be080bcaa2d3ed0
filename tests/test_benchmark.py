"""The benchmark's success rule, aggregation and method applicability."""

import math

import pytest
import torch

from idlib.benchmark import applicable, judge, run_method, run_problem, start_grid, summarise
from idlib.families import FamilySpec, make_problem
from idlib.problems import paper_test_problem


def test_judge_uses_best_loss_of_all():
    problem = paper_test_problem()
    scale = float(problem.y.pow(2).mean())
    records = [{"final_loss": 1.0}, {"final_loss": 1.0 + 1e-7}, {"final_loss": 1.01}, {"final_loss": math.nan}]
    best = judge(records, problem, restart_best=2.0)
    assert best == 1.0
    assert [record["success"] for record in records] == [True, True, False, False]
    records = [{"final_loss": 5.0}]
    judge(records, problem, restart_best=0.5 * scale * 1e-12)
    assert records[0]["success"] is False


def test_summarise_ratio_is_per_problem_median():
    results = [
        {"family": "f", "runs": [{"method": "ID", "status": "converged", "wall_time_s": 1.0, "success": True, "outer_iterations": 1},
                                 {"method": "LM", "status": "converged", "wall_time_s": 3.0, "success": True, "outer_iterations": 5}]},
        {"family": "f", "runs": [{"method": "ID", "status": "converged", "wall_time_s": 2.0, "success": False, "outer_iterations": 1},
                                 {"method": "LM", "status": "converged", "wall_time_s": 2.0, "success": True, "outer_iterations": 7}]},
    ]
    rows = {row["method"]: row for row in summarise(results)}
    assert rows["LM"]["time_ratio_to_id"] == pytest.approx(2.0)
    assert rows["LM"]["median_outer_iterations"] == pytest.approx(6.0)
    assert rows["ID"]["success_rate"] == pytest.approx(0.5)


def test_id_not_applicable_on_random_grid():
    problem = make_problem(FamilySpec(grid="random"), 0)
    assert not applicable("ID", problem)
    assert run_method("ID", problem)["status"] == "not_applicable"
    assert applicable("LM", problem)


def test_run_problem_marks_success_on_clean_data():
    problem = make_problem(FamilySpec(), 1)
    outcome = run_problem(problem, ["ID", "LM", "MatrixPencil"], restarts=1)
    assert all(run["success"] for run in outcome["runs"])
    assert outcome["best_loss"] <= 1e-20


def test_unknown_method_rejected():
    with pytest.raises(ValueError, match="unknown method 'Foo'"):
        run_method("Foo", paper_test_problem())


def test_start_grid_layout_matches_loss_surface():
    problem = paper_test_problem()
    first = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    second = torch.tensor([1.0, 2.0], dtype=torch.float64)
    starts = start_grid(problem, "alpha1", "phi1", first, second)
    assert starts.batch_size == 6
    assert starts.alpha.flatten().tolist() == [0.1, 0.2, 0.3, 0.1, 0.2, 0.3]
    assert starts.phi.flatten().tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    assert bool((starts.omega == problem.true_params.omega).all())
