"""Inputs that once raised something other than ExplorerError, or said something a student should
not read (C++ locations, our own class names)."""
import inspect
import json
import math
import os
import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
import explorer.explain
from explorer import Experiment, ExplorerError, lang, render
from explorer.lang import interpret, nodes, noise, parse, program, tensors
from explorer.lang.ops import OPS


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


def test_an_assert_inside_torch_s_meta_decompositions_is_explained():
    """F.nll_loss of a 2-D target fails the dry run with torch's own AssertionError."""
    with pytest.raises(ExplorerError) as e:
        explorer.run(Experiment(tensors={"w": "[0.5, 1.0]"}, trainable=("w",),
                                loss="loss = F.nll_loss(w, torch.full((2, 2), 0.5)).sum()"))
    assert e.value.code == "op_failed" and "F.nll_loss" in e.value.en and "target" in e.value.en


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
    (W, "loss = (w * 2).sum()\nw.grad.data.zero_()", "zero_grad_by_app"),
    (W, "h = w * 2\nh.zero_()\nloss = (h * h).sum()", "zero_tensor"),     # not a gradient: no such lesson
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


# ------------------------------------------------------------------ every view of a run raises only ExplorerError

OP_TENSORS = {"w": "torch.randn(2, 3)", "v": "torch.randn(3)", "x": "torch.randn(3, 2)", "u": "torch.randn(2, 3)"}
OP_EXAMPLES = [ex for op in OPS.values() for ex in op.examples]


def test_autograd_agrees_with_the_estimate_on_every_example_of_the_op_table():
    """`view` on a transposed gradient crashed the check for `(w.t() * x).sum()` and its kind."""
    for text in OP_EXAMPLES:
        run = explorer.run(Experiment(tensors=OP_TENSORS, trainable=tuple(OP_TENSORS), loss=text))
        rep = explorer.gradcheck_report(run, 1)
        for c in rep.checks:
            assert len(c.rows) == c.numel and all(r.sided == "central" for r in c.rows), (text, c.name)
            if c.reached and not rep.detached:
                assert c.max_error <= 1e-3 * max(1.0, *(abs(r.autograd) for r in c.rows)), (text, c.name)


def test_the_check_of_a_transposed_trainable():
    run = explorer.run(Experiment(tensors={"w": "[[1., 2.], [3., 4.]]", "x": "[[5., 6.], [7., 8.]]"},
                                  trainable=("w",), loss="loss = (w.t() * x).sum()"))
    (check,) = explorer.gradcheck_report(run, 1).checks
    assert [r.autograd for r in check.rows] == [5.0, 7.0, 6.0, 8.0]
    assert [r.estimate for r in check.rows] == pytest.approx([5.0, 7.0, 6.0, 8.0], abs=1e-6)


@pytest.mark.parametrize("tensors, loss, expected", [
    ({"w": "[3., 4.]"}, "loss = torch.dot(w, torch.tensor([1., 2.]))", [1.0, 2.0]),
    ({"w": "[3., 4.]"}, "loss = torch.dot(w, torch.tensor([1., 2.], dtype=torch.float32))", [1.0, 2.0]),
    ({"w": "[3., 4.]"}, "loss = (w * torch.ones(2) * torch.full((2,), 0.5)).sum()", [0.5, 0.5]),
    ({"z": "[0., 0.]"}, "loss = F.binary_cross_entropy(torch.sigmoid(z), torch.tensor([1., 0.]))", [-0.25, 0.25]),
    ({"z": "[[0., 0., 0.], [0., 0., 0.]]"}, "loss = F.cross_entropy(z, torch.tensor([0, 2]))",     # integer targets
     [-1 / 3, 1 / 6, 1 / 6, 1 / 6, 1 / 6, -1 / 3]),
    ({"w": "[3., 4.]"}, "loss = torch.clamp(w, min=w.sum() - 10, max=3.5).sum()", [1.0, 0.0]),
])
def test_the_check_makes_typed_constants_float64_like_the_weights(tensors, loss, expected):
    run = explorer.run(Experiment(tensors=tensors, trainable=tuple(tensors), loss=loss))
    (check,) = explorer.gradcheck_report(run, 1).checks
    assert [r.estimate for r in check.rows] == pytest.approx(expected, abs=1e-6)
    assert check.max_error < 1e-6


def test_at_a_domain_edge_the_estimate_is_one_sided_and_the_report_says_where():
    run = explorer.run(Experiment(tensors={"w": "[0.5, 1.0]", "y": "[1., 0.]"}, trainable=("w",),
                                  loss="loss = F.binary_cross_entropy(w, y)"))
    rep = explorer.gradcheck_report(run, 1)
    (check,) = rep.checks
    assert [r.sided for r in check.rows] == ["central", "backward"]         # w + eps leaves [0, 1]
    assert check.rows[0].estimate == pytest.approx(-1.0, abs=1e-6)
    assert check.rows[1].estimate > 1e6 and check.rows[1].autograd > 1e6      # log clamped at -100: steep
    (note,) = rep.notes
    assert note.code == "gradcheck_one_sided" and "w[1]" in note.en and "w[0]" not in note.en
    assert "one side" in note.en and "w[1]" in note.zh and "单侧" in note.zh
    auto, numeric, err = explorer.gradcheck(run)["w"]
    assert torch.isfinite(numeric).all() and err == check.max_error


def test_where_neither_side_is_defined_there_is_no_estimate_and_a_note():
    run = explorer.run(Experiment(tensors={"w": "[0., 0.5]", "y": "[1., 0.]"}, trainable=("w",),
                                  loss="loss = F.binary_cross_entropy(1 + w * w - torch.tensor([0., 0.5]), y)"))
    rep = explorer.gradcheck_report(run, 1)
    (check,) = rep.checks
    assert [r.sided for r in check.rows] == ["none", "central"] and math.isnan(check.rows[0].estimate)
    assert check.max_error == pytest.approx(check.rows[1].diff)               # over the estimated elements only
    (note,) = rep.notes
    assert note.code == "gradcheck_undefined" and "w[0]" in note.en and "nan" in note.en and "w[0]" in note.zh
    graph = run.trace(1)
    leaf = next(k for k in range(1, graph.steps + 1) if graph.step(k).label == "w")
    for lang_ in ("en", "zh"):
        assert note.message(lang_) in explorer.explain.explain_step(graph, leaf, lang_, check=rep)


def test_sqrt_at_zero_is_estimated_from_the_side_where_it_is_defined():
    run = explorer.run(Experiment(tensors={"w": "[0., 4.]"}, trainable=("w",), loss="loss = torch.sqrt(w).sum()"))
    (check,) = explorer.gradcheck_report(run, 1).checks
    assert [r.sided for r in check.rows] == ["forward", "central"]
    assert check.rows[0].estimate == pytest.approx(1000.0, rel=1e-6)           # sqrt(eps) / eps


BCE = Experiment(tensors={"w": "[0.05, 0.6, 0.97]", "y": "[1., 0., 1.]"}, trainable=("w",),
                 loss="loss = F.binary_cross_entropy(w, y)", lr=0.02, epochs=5)     # w[2] leaves [0, 1] in epoch 6


@pytest.mark.parametrize("directions", ["moved", "random"])
def test_a_landscape_outside_the_loss_s_domain_has_gaps_and_says_so(directions, monkeypatch):
    run = explorer.run(BCE)
    land = explorer.landscape(run, 2, directions=directions)
    gaps = land.loss.isnan()
    assert gaps.any() and not gaps.all()
    (note,) = land.notes
    assert note.code == "landscape_domain" and "outside the loss's domain" in note.en and "定义域" in note.zh
    assert torch.isfinite(land.loss[~gaps]).all()
    with monkeypatch.context() as m:                  # point by point: a torch error at a point is a gap too
        m.setattr(torch.func, "vmap", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no batching")))
        slow = explorer.landscape(run, 2, directions=directions)
    assert torch.equal(slow.loss.isnan(), gaps)
    assert torch.allclose(slow.loss[~gaps], land.loss[~gaps], rtol=1e-5, atol=1e-6)
    text = render.landscape_json(land, run.history.losses.tolist(), 2, lang="zh")
    assert "定义域" in json.loads(text)["layout"]["title"]["text"]
    assert explorer.landscape(explorer.run(PRESETS_MULTI), 3).notes == ()


PRESETS_MULTI = explorer.PRESETS["multi_epoch"]


@pytest.mark.parametrize("tensors, directions", [
    ({"w": "torch.zeros(0)"}, "moved"), ({"w": "torch.zeros(0)"}, "random"),
    ({"w": "torch.zeros(0, 3)", "v": "torch.zeros(3, 0)"}, "random"),
])
def test_a_trainable_without_elements_gives_a_landscape_with_nothing_to_draw(tensors, directions):
    exp = Experiment(tensors=tensors, trainable=tuple(tensors), loss=" + ".join(f"{n}.sum()" for n in tensors), epochs=3)
    run = explorer.run(exp)
    racers = explorer.compare(exp, optimizers=explorer.OPTIMIZERS)
    land = explorer.landscape(run, 2, directions=directions, others=list(racers.values()))
    assert land.coords == () and land.loss.numel() == 0 and land.path.shape == (4, 0) and len(land.others) == 4
    (note,) = land.notes
    assert note.code == "landscape_empty" and "no elements" in note.en and "没有元素" in note.zh
    for lang_ in ("en", "zh"):
        fig = json.loads(render.landscape_json(land, run.history.losses.tolist(), 2, lang=lang_))
        assert fig["data"] == [] and note.message(lang_) in fig["layout"]["title"]["text"]
        racing = [(o, None, r.history.losses.numpy(), r.diverged_at) for o, r in racers.items()]
        assert json.loads(render.race_landscape_json(land, racing, 2, lang=lang_))["data"] == []


def test_random_directions_with_an_empty_tensor_beside_others():
    run = explorer.run(Experiment(tensors={"e": "torch.zeros(0, 3)", "v": "[1., 2., 3.]"}, trainable=("e", "v"),
                                  loss="loss = e.sum() + (v ** 2).sum()", epochs=3, lr=0.1))
    land = explorer.landscape(run, 2, directions="random")
    assert land.coords == ("d1", "d2") and torch.isfinite(land.loss).all() and land.notes == ()


CRASHES = [
    Experiment(tensors={"w": "[[1., 2.], [3., 4.]]", "x": "[[5., 6.], [7., 8.]]"}, trainable=("w",),
               loss="loss = (w.t() * x).sum()", epochs=5),
    Experiment(tensors={"w": "[3., 4., 5.]"}, trainable=("w",), loss="loss = torch.dot(w, torch.tensor([1., 2., 3.]))",
               epochs=5),
    Experiment(tensors={"z": "[0.5, -1., 2.]"}, trainable=("z",), epochs=5,
               loss="loss = F.binary_cross_entropy(torch.sigmoid(z), torch.tensor([1., 0., 1.]))"),
    BCE, Experiment(tensors={"w": "[0.5, 1.0]", "y": "[1., 0.]"}, trainable=("w",), epochs=5,
                    loss="loss = F.binary_cross_entropy(w, y)"),
    Experiment(tensors={"w": "torch.zeros(0)"}, trainable=("w",), loss="loss = w.sum()", epochs=5),
    Experiment(tensors={"w": "torch.zeros(0)", "v": "[1., 2.]"}, trainable=("w", "v"), epochs=5,
               loss="loss = w.sum() + (v ** 2).sum()"),
]


@pytest.mark.parametrize("exp", CRASHES, ids=[e.loss for e in CRASHES])
def test_every_view_of_the_crashes_raises_nothing(exp):
    racers = explorer.compare(exp, optimizers=explorer.OPTIMIZERS)
    for run in racers.values():
        for k in sorted({1, len(run.history)}):
            explorer.gradcheck_report(run, k)
            _explain_all(run, k)
            for directions in ("moved", "random"):
                explorer.landscape(run, k, directions=directions, others=list(racers.values()))
    compile(explorer.export_script(exp), "exported.py", "exec")


def every_view(exp: Experiment, explain: bool = True) -> dict | None:
    """The race of `exp` under every optimizer, and for its own run at the first and last epoch the
    gradient check, the trace and each step's explanation, both landscapes (the random one with the
    racers on it) and their figures: {optimizer: Run}, or None where the run itself is refused.
    Only ExplorerError may come out of any of them, with a clean message."""
    try:
        racers = explorer.compare(exp, optimizers=explorer.OPTIMIZERS)
    except ExplorerError as e:
        assert not leaks(e), (exp.loss, e.en, e.zh)
        return None
    run = racers[exp.optimizer]
    losses = run.history.losses.tolist()
    for k in sorted({1, len(run.history)}):
        views = [lambda: explorer.gradcheck_report(run, k),
                 lambda: render.landscape_json(explorer.landscape(run, k), losses, k, lang="zh"),
                 lambda: explorer.landscape(run, k, directions="random", others=list(racers.values()))]
        if explain:
            views.append(lambda: _explain_all(run, k))
        for view in views:
            try:
                view()
            except ExplorerError as e:
                assert not leaks(e), (exp.loss, e.en, e.zh)
    return racers


def _explain_all(run, k):
    graph, rep = run.trace(k), explorer.gradcheck_report(run, k)
    for step in range(graph.steps + 1):
        explorer.explain.explain_step(graph, step, "zh", check=rep)


# ------------------------------------------------------------------ messages: no C++ and none of our classes

OUR_CLASSES = sorted(n for m in (interpret, nodes, noise, parse, program, tensors) for n, c in inspect.getmembers(m, inspect.isclass)
                     if c.__module__ == m.__name__ and n not in ("Saved", "Record"))
_OURS = "|".join(OUR_CLASSES)
# A class name as code: quoted, in an argument list, before "object", or one that is no English word
# ("Call it on two tensors" is prose; "min=LossModule" and "'Call' object" are not).
LEAKS = re.compile(r"\.(?:cpp|cc|h|hpp|cu)\b|enforce fail|"
                   rf"[=(,'\[]\s*(?:{_OURS})\b|\b(?:{_OURS})\s*[)=,'\]]|\b(?:{_OURS})\s+object|"
                   r"\b(?:LossModule|BinOp|TensorSpec|_Expr|Unary|Num|Str|Ref|Seq|Attr)\b")


def leaks(e: ExplorerError) -> list:
    return [m for text in (e.en, e.zh) for m in LEAKS.findall(text)]


@pytest.mark.parametrize("message, cleaned", [
    ("[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: not enough memory: you tried to allocate "
     "80000000000 bytes.", "not enough memory: you tried to allocate 80000000000 bytes."),
    ("name.cpp:123: something broke", "something broke"),
    ("something broke at TensorShape.cpp:4321", "something broke"),
    ("something broke (Triggered internally at /__w/pytorch/aten/src/ATen/native/TensorShape.cpp:4321.)",
     "something broke"),
    ("C:\\build\\aten\\Copy.cpp:12: copy failed", "copy failed"),
    ("clamp() received an invalid combination of arguments - got (Tensor, min=LossModule), but expected one of:",
     "clamp() received an invalid combination of arguments - got (Tensor, min=expression), but expected one of:"),
])
def test_clean_error_cuts_cpp_locations_and_our_class_names(message, cleaned):
    assert lang.clean_error(RuntimeError(message)) == cleaned
    e = ExplorerError("op_failed", "loss", op="torch.clamp", detail=lang.clean_error(RuntimeError(message)))
    assert not leaks(e), (e.en, e.zh)
    if "memory" in message:
        assert "内存不足" in e.zh


MODULE_ARGUMENTS = [
    "loss = torch.clamp(w, min=torch.nn.MSELoss()).sum()", "loss = w.clamp(max=torch.nn.L1Loss()).sum()",
    "loss = torch.cat([w, torch.nn.MSELoss()]).sum()", "loss = torch.where(w > 0, w, torch.nn.HuberLoss()).sum()",
    "f = torch.nn.MSELoss()\nloss = torch.maximum(w, f).sum()", "loss = torch.nn.MSELoss().sum()",
    "loss = torch.nn.MSELoss()[0]", "loss = torch.nn.MSELoss().T", "loss = F.mse_loss(w, torch.nn.MSELoss())",
    "loss = torch.nn.MSELoss()(w, torch.nn.L1Loss())", "loss = torch.dot(torch.nn.MSELoss(), w)",
    "loss = torch.nn.NLLLoss()(w, torch.nn.MSELoss())",
]


@pytest.mark.parametrize("loss", MODULE_ARGUMENTS)
def test_a_loss_module_where_a_tensor_belongs_is_named_as_the_student_wrote_it(loss):
    with pytest.raises(ExplorerError) as e:
        explorer.run(Experiment(tensors={"w": "[1., 2.]"}, trainable=("w",), loss=loss))
    shown = "'f'" if loss.startswith("f =") else "torch.nn."
    assert e.value.code == "not_allowed" and shown in e.value.en and shown in e.value.zh
    assert "Call it" in e.value.en and "调用" in e.value.zh and not leaks(e.value)


ODD_PIECES = ["w", "v", "torch.nn.MSELoss()", "torch.nn.L1Loss(reduction='sum')", "torch.tensor([1., 2.])",
              "torch.tensor([0, 1])", "torch.zeros(0)", "2", "-0.0", "torch.ones(2, 2)", "w[()]", "w.reshape(())"]
ODD_CALLS = ["torch.clamp({}, min={})", "torch.where({} > 0, {}, w)", "torch.cat([{}, {}])", "F.mse_loss({}, {})",
             "torch.dot({}, {})", "({}) ** ({})", "({}).reshape({})", "torch.maximum({}, {})", "({})[{}]",
             "F.cross_entropy({}, {})", "torch.nn.BCELoss()({}, {})", "({}) @ ({})", "torch.stack([{}, {}]).max()",
             "F.binary_cross_entropy({}, {})", "({}).expand(3, {})", "torch.mm({}, {})", "torch.log({} - {})"]


@settings(deadline=None, max_examples=int(os.environ.get("MESSAGE_EXAMPLES", "150")), database=None,
          derandomize="MESSAGE_EXAMPLES" not in os.environ, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(ODD_CALLS), st.sampled_from(ODD_PIECES), st.sampled_from(ODD_PIECES),
       st.sampled_from([".sum()", ".mean()", ""]))
def test_fuzz_no_message_names_cpp_or_our_classes(call, a, b, tail):
    """Odd programs (modules as arguments, typed constants, empty tensors, mixed dtypes): whatever the
    run, check, landscape or race says, it never quotes C++ or one of our classes. MESSAGE_EXAMPLES=N
    draws N fresh ones."""
    exp = Experiment(tensors={"w": "[1., 2.]", "v": "[[0.5, -1.], [2., 0.]]"}, trainable=("w", "v"), epochs=2,
                     loss=f"loss = ({call.format(a, b)}){tail}")
    try:
        run = explorer.run(exp)
        explorer.gradcheck_report(run, 1)
        explorer.landscape(run, 1, directions="random")
    except ExplorerError as e:
        assert not leaks(e), (exp.loss, e.en, e.zh)
        return
    for note in run.notes:
        assert not LEAKS.search(note.en) and not LEAKS.search(note.zh), (exp.loss, note)
