"""The loss over the weights with the run's path on it, in the run's own float32."""
import pytest
import torch

import explorer
from explorer import PRESETS, Experiment, ExplorerError


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
