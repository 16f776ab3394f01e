"""Inputs that once raised something other than ExplorerError."""
import pytest

import explorer
from explorer import Experiment, ExplorerError


def test_a_loss_that_is_just_a_trainable_trains_and_traces():
    run = explorer.run(Experiment(tensors={"w": "torch.tensor(3.0, requires_grad=True)"}, loss="loss = w", epochs=3))
    g = run.trace(2)
    assert [(n.kind, n.label, n.order) for n in g.nodes] == [("output", "loss", 0), ("leaf", "w", 1)]
    assert g.node("w").grad.item() == 1.0 and g.steps == 1
    assert run.history.params["w"][-1].item() == pytest.approx(2.97)


@pytest.mark.parametrize("tensor, loss, code", [
    ("torch.zeros(0, 1e9, 1e9, 1e9)", "loss = v.sum()", "too_many_elements"),
    ("torch.zeros(0, 3)", "loss = v.sum() + w.reshape(0, 1000000000).sum()", "too_many_elements"),
    ("torch.arange(1, 2, 5e-324)", "loss = v.sum()", "too_many_elements"),
    ("torch.ones(2)", "loss = (v * 1000000000 ** 35).sum()", "literal_too_large"),
])
def test_overflows_are_explained(tensor, loss, code):
    exp = Experiment(tensors={"w": tensor, "v": "torch.ones(2, requires_grad=True)"}, loss=loss)
    with pytest.raises(ExplorerError) as e:
        explorer.run(exp)
    assert e.value.code == code and e.value.zh
