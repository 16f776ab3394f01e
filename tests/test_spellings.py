"""Issue 14: the loss language speaks everyday PyTorch. Every spelling the issue found refused (and the
ones it asked for) gives PyTorch's values and gradients, exports exactly, passes the gradient check and
every view; in-place changes behave as PyTorch's, and are refused as PyTorch refuses them, by line.

The oracle is the same text run as Python over real torch tensors (the test's own; the app never does
this), after `torch.manual_seed(seed)` as an exported script starts, so dropout draws the same masks.
"""
from __future__ import annotations

import ast
import math
import os
import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer import Experiment, ExplorerError, engine, lang
from explorer.explain import explain_step
from explorer.export import export_script

from test_crashes import every_view, leaks
from test_export import mismatch, run_scripts

CJK = re.compile(r"[\u3400-\u9fff]")
# w, v trainable; u, x data; t class indices as float data (the app keeps every tensor float32)
TENSORS = {"w": "[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]", "v": "[0.1, -0.2, 0.3]",
           "u": "[[0.2, 0.8, -0.5], [0.9, -0.1, 0.4]]", "x": "[[1.0, 2.0], [3.0, -1.0], [0.5, 0.25]]", "t": "[2., 0.]"}
TRAINABLE = ("w", "v")
SEED = 5

SPELLINGS = [
    # augmented assignment, as micrograd's own tests write it (scalars a, b below) and as courses do
    ("augment_self", "c = w * 1\nc += c + 1\nloss = c.sum()"),
    ("augment_loss", "loss = F.mse_loss(w, u)\nloss += 0.01 * (w ** 2).sum()"),
    ("augment_times", "loss = (w ** 2).sum()\nloss *= 3"),
    ("augment_all", "y = w * 1\ny -= u\ny /= 2\ny **= 2\nloss = y.sum()"),
    ("augment_number", "k = 2\nk += 1\nloss = (w * k).sum()"),
    ("augment_size", "n = len(w)\nn *= 2\nloss = w.sum() / n"),
    ("augment_constant", "k = torch.ones(3)\nk *= 2\nloss = (w * k).sum()"),
    ("augment_view", "y = w * 1\nz = y[0]\nz += v\nloss = (y ** 2).sum()"),
    ("in_place_methods", "y = w * 1\ny.add_(u)\ny.mul_(2)\ny.clamp_(min=-1, max=3)\nloss = (y ** 2).sum()"),
    ("in_place_relu", "h = F.relu(w - 0.3, inplace=True)\nloss = (h * u).sum()"),
    ("in_place_saved_not_needed", "y = w * 2\nz = y * w\ny += 1\nloss = y.sum()"),
    # methods and conversions
    ("mul_method", "loss = w.mul(u).sum() + w.add(1).sub(v).div(2).sum()"),
    ("float_clone_contiguous", "m = (u > 0).float()\nloss = (w.clone() * m).sum() + w.t().contiguous().sum()"),
    ("to_dtype", "loss = (w.to(torch.float32) * (u > 0).to(dtype=torch.float)).sum()"),
    ("sizes", "loss = w.sum() / w.numel() + w.sum() / len(w) + (w * w.size(1)).sum() / w.shape[-1]"),
    # indexing
    ("pick_classes", "p = torch.softmax(w, dim=1)\nloss = -torch.log(p[torch.arange(2), t.long()]).mean()"),
    ("mask", "z = w * u\nloss = z[z > 0].sum() + (w ** 2).sum()"),
    ("new_axis", "loss = (w[:, None, :] * u[None]).sum()"),
    ("ellipsis", "loss = (w[..., 0] * u[..., 1]).sum() + w[...].sum()"),
    ("gather", "loss = w.gather(1, t.long().unsqueeze(1)).sum() + w.index_select(1, torch.tensor([0, 2])).sum()"),
    # keywords PyTorch documents
    ("huber_delta", "loss = F.huber_loss(w, u, delta=0.5) + F.smooth_l1_loss(w, u, beta=0.3)"),
    ("label_smoothing", "loss = F.cross_entropy(w, t.long(), label_smoothing=0.1)"),
    ("pos_weight", "loss = F.binary_cross_entropy_with_logits(w, torch.sigmoid(u), pos_weight=torch.tensor([1., 2., 0.5]))"),
    ("ignore_index", "loss = F.cross_entropy(w, torch.tensor([-100, 1]), weight=torch.tensor([1., 2., 3.]))"),
    ("tuple_dim", "loss = w.mean(dim=(0, 1)) + w.amax(dim=(0, 1)) + torch.sum(w, (1,)).sum()"),
    # functions
    ("addmm", "loss = torch.addmm(v, x, w).sum() + v.addmm(x, w, beta=0.5, alpha=2).sum()"),
    ("trace", "loss = torch.trace(x @ w) + torch.diag(w).sum() + torch.tril(w).sum() - w.triu(1).sum()"),
    ("outer", "loss = (torch.outer(v, v) * (x @ w)).sum()"),
    ("cosine", "loss = F.cosine_similarity(w, u).sum() + F.pairwise_distance(w, u).sum()"),
    ("dropout_zero", "loss = F.dropout(w, p=0).sum()"),
    ("dropout", "h = F.dropout(w, 0.5)\nloss = (h * u).sum() + (w ** 2).sum()"),
    ("einsum", "loss = torch.einsum('ij,jk->ik', w, x).sum() + torch.einsum('i,i->', v, v)"),
    ("linalg_norm", "loss = torch.linalg.norm(w) + torch.linalg.vector_norm(v, ord=1)"),
]
# micrograd's engine tests, on 0-dimensional tensors a and b
MICROGRAD = {"a": "-4.", "b": "2."}
SPELLINGS_MICROGRAD = [
    ("micrograd_sanity", "z = 2 * a + 2 + a\nq = z.relu() + z * a\nh = (z * z).relu()\nloss = h + q + q * a"),
    ("micrograd_more_ops", "c = a + b\nd = a * b + b ** 3\nc += c + 1\nc += 1 + c + (-a)\nd += d * 2 + (b + a).relu()\n"
                           "d += 3 * d + (b - a).relu()\ne = c - d\nf = e ** 2\ng = f / 2.0\ng += 10.0 / f"),
]


def experiment(text, tensors=TENSORS, trainable=TRAINABLE, **kw) -> Experiment:
    return Experiment(tensors=tensors, trainable=trainable, loss=text, lr=kw.pop("lr", 0.01), epochs=kw.pop("epochs", 6),
                      seed=SEED, **kw)


CASES = [experiment(text) for _, text in SPELLINGS] + \
    [experiment(text, MICROGRAD, ("a", "b"), lr=1e-5) for _, text in SPELLINGS_MICROGRAD]
IDS = [i for i, _ in SPELLINGS] + [i for i, _ in SPELLINGS_MICROGRAD]


def pytorch(exp: Experiment):
    """The loss and gradients of `exp.loss` run as Python on epoch 1's tensors, after torch.manual_seed."""
    env = {n: lang.parse_tensor(text).make() for n, text in exp.tensors}
    for n in exp.trainable:
        env[n].requires_grad_(True)
    scope = {"torch": torch, "F": F, "len": len, **env}
    torch.manual_seed(exp.seed)
    tree = ast.parse(exp.loss)
    *body, last = tree.body
    exec(compile(ast.Module(body, []), "<reference>", "exec"), scope)
    if isinstance(last, ast.Expr):
        loss = eval(compile(ast.Expression(last.value), "<reference>", "eval"), scope)
    else:
        exec(compile(ast.Module([last], []), "<reference>", "exec"), scope)
        loss = scope[(last.target if isinstance(last, ast.AugAssign) else last.targets[0]).id]
    total = loss.sum() if loss.dim() else loss
    total.backward()
    return total.detach(), {n: env[n].grad for n in exp.trainable}


@pytest.mark.parametrize("exp", CASES, ids=IDS)
def test_every_spelling_gives_pytorch_s_values_and_gradients(exp):
    run = explorer.run(exp)
    loss, grads = pytorch(exp)
    first = run.history[0]
    assert first.loss == loss.item()                           # the same float32 ops: the same bits
    for name, g in grads.items():
        assert (first.grads[name] is None) == (g is None) and (g is None or torch.equal(first.grads[name], g)), name


def test_micrograd_s_numbers():
    """micrograd's own expected values (computed there in float64), here in float32."""
    run = explorer.run(CASES[IDS.index("micrograd_more_ops")])
    first = run.history[0]
    assert first.loss == pytest.approx(24.70408163265306, rel=1e-5)
    assert first.grads["a"].item() == pytest.approx(138.83381924198252, rel=1e-5)
    assert first.grads["b"].item() == pytest.approx(645.5772594752186, rel=1e-5)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    exps = [e.replace(optimizer=o) for e in CASES for o in ("gd", "adam")]
    results = run_scripts([explorer.export_script(e) for e in exps], tmp_path_factory.mktemp("spellings"))
    return dict(zip(exps, results))


def test_every_spelling_exports_exactly(printed):
    """The exported script runs the same (in-place) code and prints the run's numbers bit for bit."""
    failures = [f"{e.loss!r} ({e.optimizer}): {mismatch(e, r)}" for e, r in printed.items() if mismatch(e, r)]
    assert not failures, "\n".join(failures)
    script = explorer.export_script(CASES[IDS.index("augment_self")])
    assert "    c += c + 1\n" in script
    assert "    y.clamp_(min=-1, max=3)\n" in explorer.export_script(CASES[IDS.index("in_place_methods")])
    assert "torch.manual_seed(5)" in explorer.export_script(CASES[IDS.index("dropout")])


@pytest.mark.parametrize("exp", CASES, ids=IDS)
def test_every_spelling_passes_the_gradient_check_and_every_view(exp):
    racers = every_view(exp, explain=False)
    assert racers is not None
    run = racers[exp.optimizer]
    for k in (1, len(run.history)):
        graph = run.trace(k)
        assert graph.nodes[0].value.item() == run.history[k - 1].loss           # epoch k rebuilt exactly
        rep = explorer.gradcheck_report(run, k)
        if rep.kinks or rep.detached:
            continue
        for c in rep.checks:
            if c.reached:
                assert c.max_error <= 1e-3 * max([1.0] + [abs(r.autograd) for r in c.rows]), (exp.loss, k, c.name)


# ------------------------------------------------------------------ in place, refused as PyTorch refuses

def pytorch_refuses(text, tensors=TENSORS, trainable=TRAINABLE) -> str:
    try:
        pytorch(experiment(text, tensors, trainable))
    except lang.TORCH_ERRORS as e:
        return str(e)
    return ""


def refused(text, code, tensors=TENSORS, trainable=TRAINABLE) -> ExplorerError:
    with pytest.raises(ExplorerError) as info:
        explorer.run(experiment(text, tensors, trainable))
    e = info.value
    assert e.code == code, (e.code, e.en)
    assert CJK.search(e.zh) and not leaks(e)
    return e


def test_a_value_saved_for_backward_changed_in_place_is_refused_with_the_version_counter():
    text = "y = w.sigmoid()\ny += 1\nloss = y.sum()"
    assert "modified by an inplace operation" in pytorch_refuses(text)
    e = refused(text, "inplace_saved")
    for part in ("line 2 (`y += 1`)", "line 1 (`y = w.sigmoid()`)", "SigmoidBackward0", "its own output",
                 "version counter", "version 0", "version 1", "`y = y + 1`"):
        assert part in e.en, part
    for part in ("第 2 行", "第 1 行", "`y += 1`", "版本计数器", "第 0 版", "第 1 版", "`y = y + 1`", "它自己的输出"):
        assert part in e.zh, part
    e = refused("y = w.exp()\nz = y * 3\ny.mul_(2)\nloss = (z + y).sum()", "inplace_saved")
    assert "line 3 (`y.mul_(2)`)" in e.en and "ExpBackward0" in e.en and "`y = y.mul(2)`" in e.en


def test_a_saved_value_changed_in_place_is_refused_only_where_backward_needs_it():
    """z = y * w saves y; changing y is PyTorch's error only if the loss's backward reaches z."""
    assert not pytorch_refuses("y = w * 2\nz = y * w\ny += 1\nloss = y.sum()")
    text = "y = w * 2\nz = y * w\ny += 1\nloss = (y + z).sum()"
    assert "modified by an inplace operation" in pytorch_refuses(text)
    e = refused(text, "inplace_saved")
    assert "line 2 (`z = y * w`)" in e.en and "MulBackward0" in e.en and "its input" in e.en


@pytest.mark.parametrize("text", ["w += 1\nloss = w.sum()", "w.add_(1)\nloss = w.sum()", "w[0].mul_(2)\nloss = w.sum()",
                                  "loss = F.relu(w, inplace=True).sum()"])
def test_a_leaf_that_requires_grad_changed_in_place_is_refused_as_pytorch_refuses(text):
    assert "leaf Variable that requires grad" in pytorch_refuses(text)
    e = refused(text, "inplace_leaf")
    assert "line 1" in e.en and "w.grad" in e.en and "leaf" in e.en and "第 1 行" in e.zh and "叶子张量" in e.zh


@pytest.mark.parametrize("text,name", [("x += 1\nloss = (w @ x).sum()", "x"), ("d = w.detach()\nd.mul_(2)\nloss = w.sum()", "w"),
                                       ("y = u.float()\ny -= 1\nloss = (w * y).sum()", "u"),
                                       ("z = u[0]\nz.clamp_(min=0)\nloss = (w * u).sum()", "u")])
def test_the_experiment_s_own_tensors_stay_as_they_are(text, name):
    """PyTorch would change them for every later epoch; the app refuses and says why."""
    e = refused(text, "inplace_input")
    assert f"changes {name} in place" in e.en and "every later epoch" in e.en and "之后的每一轮" in e.zh


def test_the_graph_shows_an_in_place_change_as_autograd_records_it_and_explains_it():
    run = explorer.run(experiment("y = w * 2\ny += 1\nz = y[0]\nz *= 3\nloss = (y * u).sum()"))
    g = run.trace(2)
    add = next(n for n in g.nodes if n.op == "AddBackward0")
    copy = next(n for n in g.nodes if n.op == "CopySlices")
    mul = next(n for n in g.nodes if n.op == "MulBackward0" and n.name == "y" and n is not add)
    assert add.name == copy.name == "y" and ("in_place", "y += 1 (version 0 → 1)") in add.attrs
    assert ("in_place", "z *= 3 (version 1 → 2)") in copy.attrs
    w = run.history[1].params["w"]
    assert torch.equal(mul.value, w * 2) and torch.equal(add.value, w * 2 + 1)      # each node's value then
    y = w * 2 + 1
    y[0] *= 3
    assert torch.equal(copy.value, y)
    step = next(k for k in range(1, g.steps + 1) if g.step(k) is add)
    assert "version counter went from 0 to 1" in explain_step(g, step, "en")
    assert "版本计数器从 0 变成 1" in explain_step(g, step, "zh")


# ------------------------------------------------------------------ dropout, lessons, the adapter, bounds

def test_dropout_is_seeded_by_the_experiment_s_seed():
    exp = CASES[IDS.index("dropout")]
    a, b = explorer.run(exp), explorer.run(exp)
    assert torch.equal(a.history.losses, b.history.losses) and torch.equal(a.history.params["w"], b.history.params["w"])
    other = explorer.run(exp.replace(seed=SEED + 1))
    assert not torch.equal(a.history.losses, other.history.losses)
    fixed = a.noise_at(4)
    masks = [m.clone() for m in fixed.masks]
    assert masks and all(torch.equal(m, n) for m, n in zip(masks, a.noise_at(4).masks))
    assert not all(torch.equal(m, n) for m, n in zip(masks, a.noise_at(5).masks))     # each epoch its own


@pytest.mark.parametrize("method", ["item", "numpy", "tolist"])
def test_leaving_the_graph_is_refused_with_a_lesson(method):
    e = refused(f"loss = w.sum().{method}()", "leaves_graph")
    assert "autograd cannot follow" in e.en and f".{method}()" in e.en and "梯度路径" in e.zh


def test_the_private_backward_call_falls_back_to_the_public_one(monkeypatch):
    exp = explorer.PRESETS["mlp"].replace(epochs=50)
    fast = explorer.run(exp)
    monkeypatch.setattr(engine, "RUN_BACKWARD", None)
    public = explorer.run(exp)
    assert torch.equal(fast.history.losses, public.history.losses)
    assert all(torch.equal(fast.history.params[n], public.history.params[n]) for n in fast.history.names)


def test_cross_entropy_s_ignore_index_reads_as_pytorch_s_default():
    g = explorer.run(experiment("loss = F.cross_entropy(w, t.long())")).graph
    nll = next(n for n in g.nodes if n.op == "NllLossBackward0")
    assert ("ignore_index", "-100") in nll.attrs


@pytest.mark.parametrize("text,code", [
    ("loss = w.sum() * len(w) ** len(v)", None), ("n = len(u)\nloss = w.sum() * n ** (n * 40)", "exponent_too_large"),
    ("loss = (w ** (len(v) * 30)).sum()", "exponent_too_large"),
    ("loss = torch.einsum('" + "i" * 70 + "', v)", "bad_argument"),
    ("loss = torch.einsum('i,i,i,i,i,i,i,i,i->', v, v, v, v, v, v, v, v, v)", "bad_argument"),
    ("loss = F.dropout(w, p=1.5).sum()", "op_failed"), ("loss = torch.linalg.norm(w, ord=2)", "bad_argument"),
    ("loss = w.to(torch.float64).sum()", "loss_dtype"), ("loss = w.sum(dtype=torch.float64)", "refused_keyword"),
    ("loss = F.mse_loss(w, u, size_average=True)", "refused_keyword"), ("loss = w.shape", "bad_argument"),
    ("loss = w.size()", "bad_argument"), ("y = w[0]\ny[0] += 1\nloss = y", "inplace_leaf"),
])
def test_sizes_and_new_spellings_stay_bounded(text, code):
    if code is None:
        assert explorer.run(experiment(text)).history[0].loss == pytest.approx(
            float(torch.tensor(eval(TENSORS["w"])).sum()) * 2 ** 3)
        return
    e = refused(text, code)
    if code == "exponent_too_large":
        assert "64" in e.en and "64" in e.zh
    if code == "refused_keyword":
        assert "PyTorch" in e.en and "不使用" in e.zh


def test_a_mask_is_sized_as_selecting_everything_before_anything_runs():
    p = explorer.plan(Experiment(tensors={"w": "torch.randn(100, 100)"}, trainable=("w",), loss="loss = w[w > 0].sum()"))
    assert p.cost.unbatched == p.cost.ops and p.cost.elements >= 2 * 100 * 100
    with pytest.raises(ExplorerError) as e:
        explorer.plan(Experiment(tensors={"w": "torch.randn(100, 100)"}, trainable=("w",),
                                 loss="m = w.reshape(-1)\nloss = (m[m > 0].unsqueeze(1) * m[m > 0].unsqueeze(0)).sum()"))
    assert e.value.code == "too_many_elements"
    assert math.isfinite(explorer.run(Experiment(tensors={"w": "[1., -2.]"}, trainable=("w",),
                                                 loss="loss = (w[w > 0] ** 2).sum()")).history[0].loss)


# ------------------------------------------------------------------ fuzz: in place, the app refuses exactly what PyTorch refuses

_MAKE = ["{a} * 2", "{a} * w", "torch.sigmoid({a})", "{a}.exp()", "torch.tanh({a})", "F.relu({a})", "{a} * {a}",
         "{a}[0]", "{a}.t()", "{a} + u"]
_CHANGE = ["{a} += 1", "{a} *= {b}", "{a} -= {b} * 0.5", "{a}.add_({b})", "{a}.mul_(2)", "{a}.sigmoid_()", "{a}.exp_()",
           "{a}.clamp_(min=0)", "{a}.relu_()", "{a}.tanh_()"]


@st.composite
def in_place_programs(draw):
    names, lines = ["w"], []
    for i in range(draw(st.integers(1, 5))):
        a = draw(st.sampled_from(names))
        if draw(st.booleans()) or len(names) == 1:
            lines.append(f"h{i} = " + draw(st.sampled_from(_MAKE)).format(a=a))
            names.append(f"h{i}")
        else:
            lines.append(draw(st.sampled_from(_CHANGE)).format(a=a, b=draw(st.sampled_from(names))))
    used = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    lines.append("loss = " + " + ".join(f"({n}).sum()" for n in used))
    return "\n".join(lines)


IN_PLACE_EXAMPLES = int(os.environ.get("INPLACE_EXAMPLES", "60"))


@settings(max_examples=IN_PLACE_EXAMPLES, deadline=None, database=None,
          derandomize="INPLACE_EXAMPLES" not in os.environ, suppress_health_check=list(HealthCheck))
@given(in_place_programs())
def test_fuzz_in_place_programs_are_refused_exactly_where_pytorch_refuses(text):
    """Generated programs that change values in place (shapes kept valid): where PyTorch's forward or
    backward refuses, the app refuses before anything runs, naming a line, with PyTorch's reason; where
    PyTorch runs, the app gives its numbers. INPLACE_EXAMPLES=N draws N fresh ones."""
    exp = experiment(text, epochs=2)
    theirs = pytorch_refuses(text)
    try:
        run = explorer.run(exp)
    except ExplorerError as e:
        if e.code in ("op_failed", "shape_mismatch"):     # shapes PyTorch refuses as well, in the forward pass
            assert theirs, (text, e.en)
            return
        assert e.code in ("inplace_leaf", "inplace_saved"), (text, e.code, e.en)
        assert ("leaf Variable" in theirs) == (e.code == "inplace_leaf") and theirs, (text, e.en, theirs)
        assert re.search(r"line \d", e.en) and re.search(r"第 \d+ 行", e.zh)
        return
    assert not theirs, (text, theirs)
    loss, grads = pytorch(exp)
    first = run.history[0]
    assert first.loss == loss.item() or math.isnan(first.loss) and math.isnan(loss.item()), text
    for name, g in grads.items():
        assert (first.grads[name] is None) == (g is None) and (g is None or torch.equal(first.grads[name], g)
                                                               or torch.isnan(g).any()), (text, name)


def _part_changed_by_hand(w):
    """What PyTorch does with `h = w * 2; h[0] += 1; h[1:] *= w[0]; loss = (h * h).sum()`, written out."""
    h = w * 2
    h[0] += 1
    h[1:] *= w[0]
    return (h * h).sum()


def test_changing_part_of_a_tensor_in_place_is_pytorchs_copyslices():
    """`y[i] += v` (-=, *=, /=) changes that part in place, as PyTorch does: autograd records CopySlices on
    the whole; the values, the gradients and the exported line are PyTorch's."""
    loss = "h = w * 2\nh[0] += 1\nh[1:] *= w[0]\nloss = (h * h).sum()"
    exp = Experiment(tensors={"w": "torch.tensor([1., 2., 3.])"}, trainable=("w",), loss=loss, epochs=1)
    r = explorer.run(exp)
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    want = _part_changed_by_hand(w)
    want.backward()
    assert r.history.losses[0].item() == want.item()
    assert torch.equal(r.history.grads["w"][0], w.grad)
    ops = [n.op for n in r.trace(1).nodes if n.kind == "op"]
    assert ops.count("CopySlices") == 2
    script = export_script(exp)
    assert "    h[0] += 1\n" in script and "    h[1:] *= w[0]\n" in script


@pytest.mark.parametrize("text, code", [
    ("h = w * 2\nh[0] = 1\nloss = (h * h).sum()", "part_assign"),
    ("h = w * 2\nh[0] **= 2\nloss = (h * h).sum()", "part_op"),
    ("h = w.sigmoid()\nh[0] += 1\nloss = h.sum()", "inplace_saved"),
    ("w[0] += 1\nloss = (w * w).sum()", "inplace_leaf"),
])
def test_changing_part_of_a_tensor_is_refused_where_pytorch_refuses_or_we_cannot_trace(text, code):
    exp = Experiment(tensors={"w": "torch.tensor([1., 2., 3.])"}, trainable=("w",), loss=text, epochs=1)
    with pytest.raises(ExplorerError) as e:
        explorer.run(exp)
    assert e.value.code == code and e.value.en and e.value.zh
