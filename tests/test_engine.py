"""The engine against the course's printed numbers and plain torch (its exported script: test_export.py)."""
import math

import pytest
import torch

import explorer
from explorer import Experiment, ExplorerError, PRESETS
from explorer import limits


def f32(x):
    return torch.tensor(x, dtype=torch.float32)


# ------------------------------------------------------------------ the seed course, bit for bit

def test_seed_single_step():
    run = explorer.run(PRESETS["single_step"])
    h = run.history[0]
    assert h.epoch == 1
    assert torch.equal(h.params["w"], f32([10, 20]))
    assert torch.equal(h.grads["w"], f32([40, 80]))
    assert torch.equal(h.next_params["w"], f32([10, 20]) - 0.01 * f32([40, 80]))
    assert h.next_params["w"].tolist() == [9.600000381469727, 19.200000762939453]   # prints as [9.6000, 19.2000]
    assert h.loss == 1000.0
    assert any(n.code == "loss_summed" for n in run.notes)


def test_seed_multi_epoch_prints():
    run = explorer.run(PRESETS["multi_epoch"])
    assert len(run.history) == 500
    first, last = run.history[0], run.history[499]
    assert first.params["w"].item() == 10.0 and first.grads["w"].item() == 20.0
    assert first.next_params["w"].item() == 9.800000190734863
    assert last.epoch == 500
    assert last.params["w"].item() == 0.000418612064095214
    assert last.grads["w"].item() == 0.000837224128190428
    assert last.next_params["w"].item() == 0.00041023982339538634


def test_seed_multi_epoch_equals_the_course_loop():
    w = torch.tensor(10, requires_grad=True, dtype=torch.float)
    expected = []
    for _ in range(500):
        loss = w ** 2 + 20
        if w.grad is not None:
            w.grad.zero_()
        loss.sum().backward()
        expected.append((w.data.item(), w.grad.item(), (w.data - 0.01 * w.grad).item()))
        w.data = w.data - 0.01 * w.grad
    run = explorer.run(PRESETS["multi_epoch"])
    got = [(h.params["w"].item(), h.grads["w"].item(), h.next_params["w"].item()) for h in run.history]
    assert got == expected


def test_seed_linear_layer_graph_and_grads():
    run = explorer.run(PRESETS["linear_layer"])
    g = run.graph
    ops = [g.step(k) for k in range(1, g.steps + 1)]
    labels = [n.label for n in ops]
    assert labels[:3] == ["MseLossBackward0", "AddBackward0", "MmBackward0"] or \
        labels[:2] == ["MseLossBackward0", "AddBackward0"]
    assert {n.label for n in ops if n.kind == "op"} == {"MseLossBackward0", "AddBackward0", "MmBackward0"}
    leaves = {n.label: n for n in g.nodes if n.kind == "leaf"}
    assert set(leaves) == {"w", "b"} and all(n.op == "AccumulateGrad" for n in leaves.values())
    mse, add, mm = (g.node(x) for x in ("MseLossBackward0", "AddBackward0", "MmBackward0"))
    assert [g.node(e.src).label for e in g.inputs(mse.id)] == ["AddBackward0"]
    assert {g.node(e.src).label for e in g.inputs(add.id)} == {"MmBackward0", "b"}
    assert [g.node(e.src).label for e in g.inputs(mm.id)] == ["w"]
    assert add.name == "z"
    h = run.history[0]
    wg, bg = h.grads["w"], h.grads["b"]
    assert wg.shape == (5, 3) and bg.shape == (3,)
    for row in wg:
        assert torch.equal(row, bg)
    assert torch.allclose(bg, f32([0.3498, -0.1134, -2.8108]), atol=2e-4)
    assert torch.equal(leaves["w"].grad, wg) and torch.equal(leaves["b"].grad, bg)
    data = {n.label for n in g.nodes if n.kind == "data"}
    assert data == {"x", "y"}


def test_linear_layer_with_course_random_tensors():
    """The course's third example as typed: randn tensors from one seeded generator."""
    exp = Experiment(tensors={"x": "torch.ones(2, 5)", "y": "torch.zeros(2, 3)",
                              "w": "torch.randn(5, 3, requires_grad=True)", "b": "torch.randn(3, requires_grad=True)"},
                     loss="loss_fn = torch.nn.MSELoss()\nz = x.matmul(w) + b\nloss = loss_fn(z, y)", seed=7)
    run = explorer.run(exp)
    torch.manual_seed(7)
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    loss = torch.nn.MSELoss()(torch.ones(2, 5).matmul(w) + b, torch.zeros(2, 3))
    loss.sum().backward()
    assert torch.equal(run.history[0].grads["w"], w.grad) and torch.equal(run.history[0].grads["b"], b.grad)


# ------------------------------------------------------------------ optimizers, accumulation, divergence

@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_torch_optimizers_match_plain_torch(name):
    exp = Experiment(tensors={"x": "[[1., 2.], [3., 4.], [5., 6.]]", "y": "[[1.], [2.], [3.]]",
                              "w": "[[0.1], [-0.2]]", "b": "[0.]"}, trainable=("w", "b"),
                     loss="loss = F.mse_loss(x @ w + b, y)", lr=0.01, epochs=25, optimizer=name)
    run = explorer.run(exp)
    x, y = f32([[1., 2.], [3., 4.], [5., 6.]]), f32([[1.], [2.], [3.]])
    w, b = f32([[0.1], [-0.2]]).requires_grad_(), f32([0.]).requires_grad_()
    opt = {"sgd": lambda p: torch.optim.SGD(p, lr=0.01),
           "momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
           "adam": lambda p: torch.optim.Adam(p, lr=0.01)}[name]([w, b])
    for h in run.history:
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(x @ w + b, y)
        loss.backward()
        assert h.loss == loss.item()
        assert torch.equal(h.grads["w"], w.grad)
        opt.step()
        assert torch.equal(h.next_params["w"], w.detach()) and torch.equal(h.next_params["b"], b.detach())
    assert len(run.history) == 25


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_zeroing_keeps_torchs_sign_of_zero(optimizer):
    """-0.0 prints differently from 0.0: `w.grad.zero_()` then backward turns a -0.0 gradient into 0.0,
    `optimizer.zero_grad()` (.grad set to None) keeps it."""
    run = explorer.run(Experiment(tensors={"w": "[1., 2.]"}, trainable=("w",), loss="(w * -0.0).sum()",
                                  epochs=3, optimizer=optimizer))
    w = f32([1., 2.]).requires_grad_()
    opt = torch.optim.Adam([w], lr=0.01) if optimizer == "adam" else None
    for h in run.history:
        if opt is not None:
            opt.zero_grad()
        elif w.grad is not None:
            w.grad.zero_()
        (w * -0.0).sum().backward()
        assert torch.equal(torch.signbit(h.grads["w"]), torch.signbit(w.grad))
        if opt is not None:
            opt.step()
        else:
            w.data = w.data - 0.01 * w.grad
        assert torch.equal(torch.signbit(h.next_params["w"]), torch.signbit(w.detach()))
    assert torch.signbit(run.history.grads["w"][-1]).all() == (optimizer == "adam")


def test_a_torch_error_mid_run_stops_there_and_keeps_the_epochs_before():
    exp = Experiment(tensors={"p": "[0.5]", "y": "[1.]"}, trainable=("p",),
                     loss="F.binary_cross_entropy(p, y)", lr=0.2, epochs=10)
    run = explorer.run(exp)
    p, done = f32([0.5]).requires_grad_(), 0
    with pytest.raises(RuntimeError):
        for _ in range(10):
            if p.grad is not None:
                p.grad.zero_()
            torch.nn.functional.binary_cross_entropy(p, f32([1.])).sum().backward()
            p.data = p.data - 0.2 * p.grad
            done += 1
    assert len(run.history) == done == 2 and torch.equal(run.history[-1].next_params["p"], p.detach())
    note = next(n for n in run.notes if n.code == "stopped_error")
    assert "3" in note.en and "3" in note.zh and run.diverged_at is None


def test_forgetting_zero_grad_accumulates_like_torch():
    run = explorer.run(PRESETS["forgot_zero_grad"])
    w = torch.tensor(10.0, requires_grad=True)
    for h in run.history:
        (w ** 2 + 20).sum().backward()
        assert h.grads["w"].item() == w.grad.item()
        w.data = w.data - 0.01 * w.grad
    zero = explorer.run(PRESETS["forgot_zero_grad"].replace(zero_grad=True))
    assert run.history[1].grads["w"].item() > zero.history[1].grads["w"].item()
    assert any(n.code == "accumulating" for n in run.notes)
    # the graph of a later epoch shows the accumulated .grad on the leaf
    g = run.graph_at(3)
    assert g.node("w").grad.item() == run.history[2].grads["w"].item()


def test_divergence_stops_and_records_the_epoch():
    run = explorer.run(PRESETS["lr_too_large"])
    assert run.diverged_at is not None and run.diverged_at == len(run.history) < 200
    last = run.history[-1]
    assert not math.isfinite(last.loss) or not torch.isfinite(last.next_params["w"]).all()
    assert all(math.isfinite(h.loss) for h in run.history[:-1])
    assert any(n.code == "diverged" and str(run.diverged_at) in n.en and str(run.diverged_at) in n.zh
               for n in run.notes)


def test_a_run_past_the_wall_limit_fails_instead_of_keeping_a_cut_history(monkeypatch):
    monkeypatch.setattr(limits, "WALL_LIMIT", 0.0)
    with pytest.raises(ExplorerError) as e:
        explorer.run(PRESETS["multi_epoch"])
    assert e.value.code == "too_slow" and e.value.field == "epochs"
    assert "0.0" in e.value.en and "0.0" in e.value.zh
    monkeypatch.undo()
    assert len(explorer.run(PRESETS["multi_epoch"]).history) == 500


def test_unused_trainable_tensor_gets_no_gradient():
    run = explorer.run(Experiment(tensors={"w": "[1., 2.]", "v": "[3.]"}, trainable=("w", "v"),
                                  loss="(w ** 2).sum()", epochs=3))
    assert run.history[0].grads["v"] is None
    assert torch.equal(run.history[2].next_params["v"], f32([3.]))
    assert any(n.code == "unused_trainable" and "v" in n.en for n in run.notes)


def test_graph_at_each_epoch_shows_that_epochs_numbers():
    run = explorer.run(PRESETS["multi_epoch"])
    for k in (1, 2, 250, 500):
        g = run.graph_at(k)
        leaf = g.node("w")
        assert leaf.value.item() == run.history[k - 1].params["w"].item()
        assert leaf.grad.item() == run.history[k - 1].grads["w"].item()
    with pytest.raises(ExplorerError) as e:
        run.graph_at(501)
    assert e.value.code == "bad_epoch"


def test_bad_settings_are_explorer_errors():
    base = PRESETS["single_step"]
    cases = [dict(epochs=0), dict(epochs=limits.MAX_EPOCHS + 1), dict(lr=0.0), dict(lr=100.0),
             dict(lr=float("nan")), dict(optimizer="rmsprop"), dict(seed=-1), dict(epochs=2.5),
             dict(trainable=("nope",)), dict(tensors={}), dict(tensors={"1w": "1"})]
    for change in cases:
        with pytest.raises(ExplorerError) as e:
            explorer.run(base.replace(**change))
        assert e.value.en and e.value.zh and e.value.field


def test_experiment_is_hashable_and_accepts_a_dict():
    a = Experiment(tensors={"w": "[1.]"}, trainable=("w",), loss="w * 2")
    b = Experiment(tensors=(("w", "[1.]"),), trainable="w", loss="w * 2")
    assert a == b and hash(a) == hash(b)
    with pytest.raises(Exception):
        a.lr = 1


# export_script's round trip (the script prints the run bit for bit): tests/test_export.py


def test_recorded_history_is_bounded_and_the_limit_named():
    exp = Experiment(tensors={f"w{i}": "torch.zeros(100, 100)" for i in range(3)},
                     trainable=("w0", "w1", "w2"), loss="w0.sum() + w1.sum() + w2.sum()", epochs=10_000)
    with pytest.raises(ExplorerError) as e:
        explorer.run(exp)
    assert e.value.code == "history_too_large" and f"{limits.MAX_HISTORY}" in e.value.en
    assert f"{limits.MAX_HISTORY}" in e.value.zh


@pytest.mark.parametrize("kwargs", [dict(tensors=[1]), dict(trainable=5), dict(tensors="w"),
                                    dict(tensors={"w": [1, 2]}), dict(trainable=(None,))])
def test_malformed_experiments_raise_only_explorer_error(kwargs):
    with pytest.raises(ExplorerError):
        explorer.run(Experiment(**{"tensors": {"w": "[1.]"}, "trainable": ("w",), "loss": "w * 2", **kwargs}))


def test_graph_forward_matches_the_training_forward():
    """Training uses compiled closures, graphs the checked interpreter: they must agree exactly."""
    for name, exp in PRESETS.items():
        run = explorer.run(exp)
        for k in {1, len(run.history)}:
            out = next(n for n in run.graph_at(k).nodes if n.kind == "output")
            assert out.value.item() == run.history[k - 1].loss or \
                (math.isnan(out.value.item()) and math.isnan(run.history[k - 1].loss)), name
