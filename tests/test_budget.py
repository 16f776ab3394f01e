"""A run's work and memory are decided before it starts, from the dry run, the same on any machine."""
import time

import pytest
import torch

import explorer
from explorer import Experiment, ExplorerError, limits as L, plan
from explorer.graph import KEEP_NUMEL, Preview
from explorer.explain import explain_step
from explorer.render import to_dot

ATTACK = Experiment(
    tensors={"w": "torch.ones(316)", "v": "torch.ones(316)"}, trainable=("w",),
    loss="a = w.reshape(316,1,1,1) * v.reshape(1,1,1,316)\nb = w.reshape(1,316,1,1) * v.reshape(1,1,316,1)\n"
         "loss = (a @ b).sum()")


def test_matmul_batch_broadcast_inside_the_op_is_counted_and_refused_before_allocating():
    """Each operand is within bounds and so is the product, but matmul copies both operands to the
    broadcast batch (316 x 316 copies of 316 numbers): 0.8 GB for one term, refused by the dry run."""
    with pytest.raises(ExplorerError) as e:
        plan(ATTACK)
    err = e.value
    assert err.code == "too_many_elements" and err.field == "loss"
    assert str(L.MAX_INTERMEDIATE) in err.en and "inside" in err.en and "[316, 316]" in err.en
    assert "内部" in err.zh and str(L.MAX_INTERMEDIATE) in err.zh


def test_matmul_without_batch_broadcast_is_not_charged_a_copy():
    exp = Experiment(tensors={"x": "torch.ones(3, 4, 5)", "w": "torch.ones(3, 5, 2)"}, trainable=("w",),
                     loss="loss = (x @ w).sum()")
    assert plan(exp).work > 0


def test_the_work_budget_names_how_many_epochs_fit_and_that_many_are_accepted():
    exp = explorer.PRESETS["mlp"].replace(epochs=L.MAX_EPOCHS)
    per_epoch = plan(exp.replace(epochs=1)).work
    fit = L.MAX_WORK // per_epoch
    assert fit < L.MAX_EPOCHS, "the mlp preset at 10,000 epochs should be over the work budget"
    with pytest.raises(ExplorerError) as e:
        plan(exp)
    assert e.value.code == "too_much_work" and e.value.field == "epochs"
    assert f"at most {fit} epochs" in e.value.en and f"最多能训练 {fit} 轮" in e.value.zh
    assert plan(exp.replace(epochs=fit)).work == per_epoch


def test_memory_per_epoch_is_bounded_and_named(monkeypatch):
    monkeypatch.setattr(L, "MAX_EPOCH_MB", 1)
    exp = Experiment(tensors={"w": "torch.ones(100, 100)"}, trainable=("w",),
                     loss="a = w.reshape(100, 100, 1) * w.reshape(100, 1, 100)[:, :, 0:10]\nloss = (a * a).sum()")
    with pytest.raises(ExplorerError) as e:
        plan(exp)
    assert e.value.code == "too_much_memory" and "1 MB" in e.value.en and "1 MB" in e.value.zh


def test_a_run_is_never_cut_by_the_clock(monkeypatch):
    """A slow server must not change the result: the run is whole or the request fails, nothing in between."""
    exp = explorer.PRESETS["multi_epoch"]
    whole = explorer.run(exp)
    ticks = iter(range(10**6))
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks) * 0.05)   # every look at the clock: +50 ms
    try:
        slow = explorer.run(exp)
    except ExplorerError as e:
        assert e.code == "too_slow"
        return
    assert len(slow.history) == len(whole.history) == exp.epochs
    assert torch.equal(slow.history.params["w"], whole.history.params["w"])


def test_graphs_keep_big_tensors_as_previews_enough_for_labels_and_explanations():
    exp = Experiment(tensors={"w": "torch.randn(100, 100)", "x": "torch.randn(100, 100)"}, trainable=("w",),
                     loss="z = torch.tanh(x @ w)\nloss = (z * z).mean()")
    g = explorer.run(exp).trace(1)
    w = g.node("w")
    assert isinstance(w.value, Preview) and w.value.shape == (100, 100) and w.shape == (100, 100)
    assert isinstance(w.grad, Preview)
    small = [n for n in g.nodes if n.value is not None and not isinstance(n.value, Preview)]
    assert all(n.value.numel() <= KEEP_NUMEL for n in small)
    text = explain_step(g, g.steps)
    assert "(100×100)" in text and "…" in text
    dot = to_dot(g, 2)
    assert "(100, 100)" in dot
