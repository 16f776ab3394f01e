"""The loss over the weights with the run's path on it, in the run's own float32."""
import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer import PRESETS, Experiment, ExplorerError
from explorer.landscape import GROWTH, MARGIN, REACH, in_view

from test_crashes import every_view
from test_export import mismatch, run_script_here
from test_lang import PROGRAMS


def test_one_weight_the_course_curve_its_path_and_the_slope_that_is_the_gradient():
    run = explorer.run(PRESETS["multi_epoch"])
    land = explorer.landscape(run, epoch=3)
    assert land.coords == ("w",) and not land.is_slice
    (w,) = land.grid
    assert w.dim() == 1 and land.loss.shape == w.shape
    assert torch.equal(land.loss, w ** 2 + 20)                  # the same float32 ops as the run
    assert land.path.shape == (501, 1) and torch.equal(land.path[:, 0], run.history.params["w"])
    assert land.slope == float(run.history.grads["w"][2])         # d loss / d w at epoch 3
    assert float(w[0]) < float(land.path.min()) and float(w[-1]) > float(land.path.max())


def test_two_weights_a_surface():
    run = explorer.run(Experiment(tensors={"a": "torch.tensor(1.0)", "b": "torch.tensor(-2.0)"}, trainable=("a", "b"),
                                  loss="loss = a ** 2 + 3 * b ** 2", epochs=50, lr=0.05))
    land = explorer.landscape(run, epoch=10)
    assert land.coords == ("a", "b") and land.slope is None and not land.is_slice
    a, b = land.grid
    assert land.loss.shape == (len(a), len(b))
    assert torch.equal(land.loss, a[:, None] ** 2 + 3 * b[None, :] ** 2)
    assert land.path.shape == (51, 2) and land.path[0].tolist() == [1.0, -2.0]


def test_more_weights_a_slice_through_the_two_that_moved_most():
    run = explorer.run(PRESETS["mlp"])
    land = explorer.landscape(run, epoch=len(run.history))
    assert land.is_slice and len(land.coords) == 2 and land.loss.dim() == 2
    assert land.path.shape == (len(run.history) + 1, 2) and torch.isfinite(land.loss).all()
    with pytest.raises(ExplorerError):
        explorer.landscape(run, epoch=0)


def test_random_directions_a_plane_centred_on_the_epoch_filter_normalised_and_seeded():
    run = explorer.run(PRESETS["mlp"])
    k = 40
    land = explorer.landscape(run, epoch=k, directions="random")
    assert land.is_slice and land.directions == "random" and land.coords == ("d1", "d2") and land.slope is None
    a, b = land.grid
    m = len(a) // 2
    assert float(a[m]) == 0.0 and float(b[m]) == 0.0
    assert float(land.loss[m, m]) == float(run.history.losses[k - 1])     # the centre is epoch k's weights
    assert land.path[k - 1].tolist() == [0.0, 0.0]                        # and the path passes through it there
    assert land.path.shape == (len(run.history) + 1, 2) and torch.isfinite(land.loss).all()
    again = explorer.landscape(run, epoch=k, directions="random")
    assert torch.equal(again.loss, land.loss) and torch.equal(again.path, land.path)
    d1, d2 = explorer.landscape_directions(run, k)
    for d in (d1, d2):
        for name in run.history.names:
            w = run.history.params[name][k - 1]
            rows, w_rows = (d[name], w) if w.dim() >= 2 else (d[name].reshape(1, -1), w.reshape(1, -1))
            assert torch.allclose(rows.norm(dim=1), w_rows.norm(dim=1), rtol=1e-5)
    other_seed = explorer.run(PRESETS["mlp"].replace(seed=1))
    assert not torch.equal(explorer.landscape_directions(other_seed, k)[0]["b1"], d1["b1"])


def test_random_directions_the_plane_is_the_stated_combination():
    run = explorer.run(PRESETS["linear_layer"].replace(epochs=5))
    land = explorer.landscape(run, epoch=3, directions="random")
    d1, d2 = explorer.landscape_directions(run, 3)
    i, j = 2, len(land.grid[1]) - 1
    a, b = land.grid[0][i], land.grid[1][j]
    h = run.history
    w = h.params["w"][2] + a * d1["w"] + b * d2["w"]
    bias = h.params["b"][2] + a * d1["b"] + b * d2["b"]
    z = torch.ones(2, 5) @ w + bias
    assert float(land.loss[i, j]) == float(torch.nn.MSELoss()(z, torch.zeros(2, 3)))


def test_few_weights_ignore_the_directions_and_bad_ones_are_refused():
    run = explorer.run(PRESETS["multi_epoch"])
    assert explorer.landscape(run, 3, directions="random").coords == ("w",)
    with pytest.raises(ExplorerError):
        explorer.landscape(run, 3, directions="sideways")


def test_other_runs_in_the_same_coordinates_widen_the_grid_within_reach():
    exp = PRESETS["multi_epoch"]
    runs = explorer.compare(exp, ("gd", "momentum", "adam"))
    alone = explorer.landscape(runs["gd"], epoch=3)
    land = explorer.landscape(runs["gd"], epoch=3, others=list(runs.values()))
    assert alone.others == () and torch.equal(land.path, alone.path) and land.slope == alone.slope
    assert [tuple(o.shape) for o in land.others] == [(501, 1)] * 3
    assert torch.equal(land.others[1][:, 0], runs["momentum"].history.params["w"])
    (w,) = land.grid
    momentum = runs["momentum"].history.params["w"]
    assert float(w[0]) < float(momentum.min()) < float(alone.grid[0][0])   # momentum overshoots below zero
    diverging = explorer.run(exp.replace(lr=1.5, epochs=200))
    far = explorer.landscape(runs["gd"], epoch=3, others=[diverging])
    span = float(alone.path.max() - alone.path.min())
    most = (1 + 2 * REACH) * (1 + 2 * MARGIN) * span                     # a diverging racer is cut off
    assert 2 * span < float(far.grid[0][-1] - far.grid[0][0]) <= most * 1.0001
    with pytest.raises(ExplorerError):
        explorer.landscape(runs["gd"], epoch=3, others=[explorer.run(PRESETS["single_step"])])


def test_random_plane_places_other_runs_by_least_squares():
    run = explorer.run(PRESETS["mlp"])
    racers = explorer.compare(run.experiment, ("adam", "momentum"))
    land = explorer.landscape(run, epoch=10, directions="random", others=list(racers.values()))
    assert torch.equal(land.others[0], land.path)          # the adam racer is the run itself
    assert land.others[1].shape == land.path.shape and land.others[1][0].tolist() == land.path[0].tolist()


def test_a_diverging_run_is_viewed_up_to_the_shown_step_a_converging_one_whole():
    run = explorer.run(PRESETS["lr_too_large"])                   # w: 10, -20, 40, -80, ... inf at epoch 62
    w_run = run.history.params["w"]
    land = explorer.landscape(run, epoch=3)
    assert land.path.shape == (len(run.history) + 1, 1) and torch.equal(land.path[:, 0], w_run)   # all of it
    (w,) = land.grid
    shown = w_run[:4]                                             # epoch 3's step ends at path[3] = -80
    assert float(w[0]) < float(shown.min()) and float(w[-1]) > float(shown.max())
    assert not float(w[0]) <= float(w_run[40]) <= float(w[-1])    # epoch 40's weight (~1e13) is off the grid
    assert float(w[-1] - w[0]) < 4 * float(shown.max() - shown.min())
    assert torch.equal(land.loss, w ** 2 + 20)                    # still the run's own float32
    again = explorer.landscape(run, epoch=3)
    assert torch.equal(again.grid[0], w) and torch.equal(again.loss, land.loss)
    for k in range(1, len(run.history) + 1):                      # the view follows; inf never reaches the grid
        g = explorer.landscape(run, epoch=k).grid[0]
        assert torch.isfinite(g).all() and float(g[0]) < float(w_run[k]) < float(g[-1])
    converging = explorer.run(PRESETS["multi_epoch"])
    (w,) = explorer.landscape(converging, epoch=3).grid
    path = converging.history.params["w"]
    assert float(w[0]) < float(path.min()) and float(w[-1]) > float(path.max())


def test_in_view_cuts_only_a_blow_up():
    losses = torch.tensor([1.0, 0.5, 0.4, 0.3, 0.2])
    slow = torch.tensor([[10.0], [9.9], [9.0], [5.0], [0.5], [0.4]])   # steps grow 45x, but downhill: whole
    assert in_view(slow, losses, 1) == 6
    climbing = torch.tensor([1.0, 4.0, 16.0, 64.0])
    bouncing = torch.tensor([[1.0], [-2.0], [4.0], [-8.0], [16.0]])
    assert in_view(bouncing, climbing, 1) == 2 and in_view(bouncing, climbing, 3) == 4
    assert in_view(bouncing, climbing, 4) == 5
    broken = torch.tensor([[1.0], [-2.0], [float("inf")], [float("nan")], [0.0]])
    assert in_view(broken, torch.tensor([1.0, 4.0, float("inf"), float("nan")]), 4) == 2
    assert GROWTH > 1


def test_a_diverging_run_in_a_race_and_on_a_random_plane_is_viewed_the_same_way():
    exp = PRESETS["lr_too_large"]
    runs = explorer.compare(exp, ("gd", "adam"))                   # gd diverges, adam converges
    land = explorer.landscape(runs["gd"], epoch=3, others=list(runs.values()))
    (w,) = land.grid
    adam = runs["adam"].history.params["w"]
    assert torch.isfinite(w).all() and float(w[-1] - w[0]) < 1000
    assert float(w[0]) < float(adam.min()) and float(w[-1]) > float(adam.max())
    big = explorer.run(Experiment(tensors={"w": "torch.tensor([10.0, -4.0, 3.0])"}, trainable=("w",),
                                  loss="loss = (w ** 2).sum()", lr=1.5, epochs=100))
    plane = explorer.landscape(big, epoch=3, directions="random")
    a, _ = plane.grid
    reach = float(a[-1])
    assert torch.isfinite(plane.loss).all() and torch.isfinite(a).all()
    assert float(plane.path[:4].abs().max()) < reach < float(plane.path[40].abs().max())


def test_a_path_near_float32s_limit_still_gives_a_finite_grid():
    from explorer.landscape import _axis, _symmetric_reach
    edge = torch.tensor([-3e38, 3e38, float("inf")])
    assert torch.isfinite(_axis(edge, 41)).all()
    assert _symmetric_reach(edge[:, None], []) <= float(torch.finfo(torch.float32).max) / 4


def _point_by_point(monkeypatch):
    def refuse(*a, **k):
        raise RuntimeError("batching refused for the test")
    monkeypatch.setattr(torch.func, "vmap", refuse)


def test_batched_landscape_is_the_point_by_point_one(monkeypatch):
    """One batched call (vmap) gives the numbers the program gives point by point: bit for bit where the
    ops are elementwise, within float32 rounding where a batched reduction adds in another order."""
    for name in ("multi_epoch", "linear_layer", "mlp", "logistic_regression", "detach_target"):
        run = explorer.run(explorer.PRESETS[name])
        for directions in ("moved", "random"):
            fast = explorer.landscape(run, 1, directions=directions)
            with monkeypatch.context() as m:
                _point_by_point(m)
                slow = explorer.landscape(run, 1, directions=directions)
            assert torch.equal(fast.grid[0], slow.grid[0])
            assert torch.allclose(fast.loss, slow.loss, rtol=1e-5, atol=1e-6, equal_nan=True), (name, directions)
    run = explorer.run(explorer.PRESETS["multi_epoch"])
    w = explorer.landscape(run, 3).grid[0]
    assert torch.equal(explorer.landscape(run, 3).loss, w ** 2 + 20)


FUZZ_TENSORS = {"w": "[[1., -2., 3.], [4., 5., -6.]]", "v": "[1., 2., 3.]", "s": "2.", "x": "torch.ones(3, 2)"}
FUZZ_EXAMPLES = int(os.environ.get("LANDSCAPE_EXAMPLES", "40"))    # LANDSCAPE_EXAMPLES=N: N programs, drawn afresh


@settings(deadline=None, max_examples=FUZZ_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(PROGRAMS, st.sampled_from([("s",), ("v",), ("w", "v")]), st.sampled_from(explorer.OPTIMIZERS))
def test_fuzz_batched_landscape_matches_point_by_point(text, trainable, optimizer):
    """Any program of the language: the batched landscape is the point-by-point one, or the fallback runs;
    every other view of the run (the race, the gradient check, the random plane, the explanations) raises
    only ExplorerError, and the exported script prints the run's own numbers."""
    exp = Experiment(tensors=FUZZ_TENSORS, trainable=trainable, loss=text, epochs=2, optimizer=optimizer)
    try:
        run = explorer.run(exp)
    except explorer.ExplorerError:
        return
    every_view(exp)
    problem = mismatch(exp, run_script_here(explorer.export_script(exp)))
    assert problem is None, (text, problem)
    try:
        fast = explorer.landscape(run, 1)
    except explorer.ExplorerError:
        return
    with pytest.MonkeyPatch.context() as m:
        _point_by_point(m)
        slow = explorer.landscape(run, 1)
    same = torch.isclose(fast.loss, slow.loss, rtol=1e-4, atol=1e-5, equal_nan=True)
    assert bool(same.all()), (text, trainable)
