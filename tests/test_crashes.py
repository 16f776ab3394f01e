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
    ("torch.zeros(0, 3)", "loss = v.sum() + w.reshape(0, 1000000000).sum()", "bad_argument"),
    ("torch.ones(2)", "loss = v.sum() + w.reshape(-2 ** 63).sum()", "bad_argument"),
    ("torch.arange(1, 2, 5e-324)", "loss = v.sum()", "too_many_elements"),
    ("torch.ones(2)", "loss = (v * 1000000000 ** 35).sum()", "literal_too_large"),
])
def test_overflows_are_explained(tensor, loss, code):
    exp = Experiment(tensors={"w": tensor, "v": "torch.ones(2, requires_grad=True)"}, loss=loss)
    with pytest.raises(ExplorerError) as e:
        explorer.run(exp)
    assert e.value.code == code and e.value.zh


def test_a_loss_pasted_from_inside_a_function_keeps_its_indentation():
    run = explorer.run(Experiment(tensors={"w": "torch.tensor([1.0, 2.0], requires_grad=True)"},
                                  loss="    z = w * 2\n    loss = z.sum()"))
    assert run.history.losses.tolist() == [6.0]


@pytest.mark.parametrize("loss, line", [
    ("loss = w ** 2 / 0", "loss = w ** 2 / 0"),
    ("a = torch.sqrt(-w)\nb = a * 2\nloss = b.sum() + w.sum()", "a = torch.sqrt(-w)"),
])
def test_a_loss_that_is_not_finite_from_the_start_says_where_not_diverged(loss, line):
    run = explorer.run(Experiment(tensors={"w": "torch.tensor([1.0, 2.0], requires_grad=True)"}, loss=loss, epochs=5))
    note = run.notes[-1]
    assert note.code == "loss_not_finite" and line in note.en and line in note.zh
    assert "learning rate will not help" in note.en and "学习率" in note.zh
    assert not any(n.code == "diverged" for n in run.notes)


@pytest.mark.parametrize("loss, shown", [
    ("loss = (w * (-1) ** 0.5).sum()", "(-1) ** 0.5 is not a real number"),
    ("loss = -torch.nn.MSELoss()", "torch.nn.MSELoss() in arithmetic"),
    ("f = torch.nn.MSELoss()\nloss = f * 2", "using the loss function 'f' as a value"),
])
def test_messages_name_the_students_code_not_internals(loss, shown):
    with pytest.raises(ExplorerError) as e:
        explorer.run(Experiment(tensors={"w": "torch.tensor([1.0, 2.0], requires_grad=True)"}, loss=loss))
    assert shown in e.value.en
    for text in (e.value.en, e.value.zh):
        assert "LossModule" not in text and "Unary" not in text and ".cpp" not in text
    assert "Call it" not in e.value.zh


def test_torch_source_paths_are_cut_from_torch_messages():
    from explorer.lang import clean_error
    err = RuntimeError("/__w/pytorch/pytorch/build/aten/src/ATen/RegisterMeta_0.cpp:12860: sizes must be concrete")
    assert clean_error(err) == "sizes must be concrete"


W = {"w": "torch.tensor([1.0, 2.0], requires_grad=True)"}


@pytest.mark.parametrize("tensors, loss, code", [
    (W, "loss = (w * 2).sum()\nloss.sum().backward()", "backward_by_app"),
    (W, "loss = (w * w.grad).sum()", "grad_on_graph"),
    (W, "loss = (w * 2).sum()\nw.grad.zero_()", "zero_grad_by_app"),
    (W, "loss = w.sum()\noptimizer.step()", "step_by_app"),
    ({"w": "torch.tensor([10, 20], requires_grad=True)"}, "loss = w.sum()", "int_requires_grad"),
])
def test_what_the_course_writes_around_the_loss_gets_its_own_lesson(tensors, loss, code):
    with pytest.raises(ExplorerError) as e:
        explorer.run(Experiment(tensors=tensors, loss=loss))
    assert e.value.code == code and "allowed" not in e.value.en.lower()
    if code == "int_requires_grad":
        assert "dtype=torch.float" in e.value.en and "dtype=torch.float" in e.value.zh
    explorer.run(Experiment(tensors={"w": "torch.tensor([10, 20], requires_grad=True, dtype=torch.float)"},
                            loss="loss = w.sum()"))


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_a_comment_ended_by_any_line_break_cannot_carry_look_alike_code(newline):
    with pytest.raises(ExplorerError) as e:
        explorer.run(Experiment(tensors=W, loss=f"# 损失{newline}loss = ｗ.ｓｕｍ()"))
    assert e.value.code == "non_ascii"
    explorer.run(Experiment(tensors=W, loss=f"# 损失{newline}loss = w.sum()"))
