"""Autograd's gradient beside a float64 finite-difference estimate; the same experiment under several optimizers."""
import pytest
import torch

import explorer
from explorer import PRESETS, Experiment, ExplorerError


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
