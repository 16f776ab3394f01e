"""Autograd's gradient beside a float64 finite-difference estimate; the same experiment under several optimizers."""
import pytest
import torch

import explorer
from explorer import PRESETS, Experiment, ExplorerError, budget
from explorer.gradcheck import checkable


@pytest.mark.parametrize("key", ["single_step", "multi_epoch", "linear_layer", "logistic_regression", "mlp"])
def test_autograd_agrees_with_central_differences_on_the_presets(key):
    run = explorer.run(PRESETS[key])
    k = len(run.history)
    checks = explorer.gradcheck(run, epoch=k)
    assert set(checks) == set(run.plan.trainable)
    for name, (auto, numeric, err) in checks.items():
        assert auto.dtype == torch.float32 and numeric.dtype == torch.float64 and auto.shape == numeric.shape
        assert err <= 1e-4 * max(1.0, float(auto.abs().max()))
        if run.experiment.zero_grad:
            assert torch.equal(auto, run.history.grads[name][k - 1])     # what backward gave the run


def test_the_course_gradient_is_checked_element_by_element():
    auto, numeric, err = explorer.gradcheck(explorer.run(PRESETS["single_step"]))["w"]
    assert auto.tolist() == [40.0, 80.0] and numeric.tolist() == pytest.approx([40.0, 80.0], abs=1e-5)


def test_at_a_kink_the_estimate_averages_while_autograd_picks_a_subgradient():
    run = explorer.run(Experiment(tensors={"w": "torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)"},
                                  loss="loss = torch.relu(w).sum()"))
    auto, numeric, err = explorer.gradcheck(run)["w"]
    assert auto.tolist() == [0.0, 0.0, 1.0]
    assert numeric.tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-6) and err == pytest.approx(0.5, abs=1e-6)


def test_big_tensors_are_sampled_and_unreached_ones_have_no_gradient():
    run = explorer.run(Experiment(tensors={"w": "torch.randn(100, 100)", "v": "torch.ones(3)"}, trainable=("w", "v"),
                                  loss="loss = (w * w).mean()"))
    checks = explorer.gradcheck(run, max_checked=16)
    auto, numeric, err = checks["w"]
    assert int((~numeric.isnan()).sum()) == 16 and err < 1e-6
    assert checks["v"][0] is None and torch.equal(checks["v"][1], torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ExplorerError):
        explorer.gradcheck(run, epoch=2)


def test_an_optimizer_race_runs_the_same_experiment_under_each():
    exp = PRESETS["multi_epoch"]
    race = explorer.compare(exp, optimizers=("gd", "momentum", "adam"))
    assert list(race) == ["gd", "momentum", "adam"]
    assert torch.equal(race["gd"].history.params["w"], explorer.run(exp).history.params["w"])
    assert all(r.experiment.optimizer == name for name, r in race.items())
    assert not torch.equal(race["adam"].history.losses, race["gd"].history.losses)


def _one(loss, w="[-1.0, 0.0, 2.0]"):
    return explorer.run(Experiment(tensors={"w": w}, trainable=("w",), loss=loss))


@pytest.mark.parametrize("loss, op, estimate, picked", [
    ("torch.relu(w).sum()", "relu", 0.5, 0.0),        # relu'(0) = 0; the slopes 0 and 1 average to 0.5
    ("w.abs().sum()", "abs", 0.0, 0.0),               # abs'(0) = sign(0) = 0; -1 and 1 average to 0 too
    ("w.clamp(min=0).sum()", "clamp", 0.5, 1.0),      # the bound counts as inside
    ("F.leaky_relu(w, negative_slope=0.2).sum()", "leaky_relu", 0.6, 0.2),
])
def test_a_kink_is_found_and_says_which_subgradient_pytorch_picks(loss, op, estimate, picked):
    run = _one(loss)
    found = explorer.gradcheck_kinks(run, 1)
    assert [(k.op, k.of, k.count) for k in found] == [(op, "w", 1)]
    assert "0" in found[0].en and found[0].zh != found[0].en
    auto, numeric, _ = explorer.gradcheck(run)["w"]
    assert auto[1].item() == pytest.approx(picked) and numeric[1].item() == pytest.approx(estimate, abs=1e-6)


def test_ties_of_max_and_no_kink_elsewhere():
    assert [(k.op, k.count) for k in explorer.gradcheck_kinks(_one("w.max()", "[2.0, 2.0, 1.0]"), 1)] == [("max", 2)]
    assert [(k.op, k.count) for k in explorer.gradcheck_kinks(_one("torch.maximum(w, w * 0).sum()"), 1)] == \
        [("maximum", 1)]
    assert explorer.gradcheck_kinks(_one("torch.relu(w).sum()", "[-1.0, 0.5, 2.0]"), 1) == []
    assert explorer.gradcheck_kinks(_one("(w * w).sum()"), 1) == []


def test_the_report_is_plain_numbers_at_the_courses_precision():
    rep = explorer.gradcheck_report(explorer.run(PRESETS["linear_layer"]), 1)
    w, b = rep.checks
    assert (w.name, w.shape, len(w.rows), b.name, len(b.rows)) == ("w", (5, 3), 15, "b", 3)
    assert w.rows[2].index == "[0, 2]" and w.rows[2].autograd == pytest.approx(-2.8108, abs=1e-4)
    assert type(w.rows[2].autograd) is float and w.rows[2].autograd == float(torch.tensor(w.rows[2].autograd))
    assert all(r.diff < 1e-6 for r in w.rows + b.rows) and rep.kinks == () and rep.per_tensor == 64


def test_the_check_is_bounded_by_its_share_of_the_page():
    run = explorer.run(Experiment(tensors={"w": "torch.randn(100, 100)", "x": "torch.randn(100, 100)"},
                                  trainable=("w", "x"), loss="(torch.tanh(w @ x) ** 2).mean()"))
    per = checkable(run)
    assert budget.check_ns(run.plan.cost, per) <= budget.share_ns("check")
    assert per == 64 or budget.share_ns("check") < budget.check_ns(run.plan.cost, per + 1)
    checks = explorer.gradcheck(run)
    assert all(int((~n.isnan()).sum()) == min(per, 64) for _, n, _ in checks.values())
    few = explorer.gradcheck(run, max_checked=5)
    assert all(int((~n.isnan()).sum()) == 5 for _, n, _ in few.values())
    none = explorer.gradcheck(run, max_checked=0)
    assert all(n.isnan().all() and err != err for _, n, err in none.values())   # nothing checked: nan
