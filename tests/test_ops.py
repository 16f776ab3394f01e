"""The op table: every entry's examples mean what PyTorch means, are sized in the dry run, and
every grad_fn they produce has an explanation in English and Chinese."""
import ast

import pytest
import torch
import torch.nn.functional as F

import explorer
from explorer import Experiment, ExplorerError, lang, limits as L, plan
from explorer.explain import RULES
from explorer.lang.ops import KINDS, OPS

NAMES = ("w", "v", "x", "u")
EXAMPLES = [(op.name, ex) for op in OPS.values() for ex in op.examples]


def tensors():
    g = torch.Generator().manual_seed(0)
    return {"w": torch.randn(2, 3, generator=g), "v": torch.randn(3, generator=g),
            "x": torch.randn(3, 2, generator=g), "u": torch.randn(2, 3, generator=g)}


def ours(text, base):
    env = {n: t.clone().requires_grad_() for n, t in base.items()}
    prog = lang.parse_loss(text, "loss", NAMES)
    lang.Evaluator(check=True).run(prog, {n: t.to("meta").requires_grad_() for n, t in base.items()})
    out, _ = lang.Evaluator(keep=True).run(prog, env)
    fast = lang.compile_program(prog)({n: t.clone().requires_grad_() for n, t in base.items()})
    assert torch.equal(out, fast)
    out.sum().backward()
    return prog, out, env


# typed as the course would, written as PyTorch accepts it (a number bound beside a tensor bound becomes a tensor)
AS_PYTORCH = {"torch.clamp(w, min=v.sum(), max=1).sum()": "torch.clamp(w, min=v.sum(), max=torch.tensor(1.0)).sum()"}


def theirs(text, base, seed=0):
    """The example run as plain Python on real torch tensors (the test's oracle; the app never does this),
    after torch.manual_seed(seed) as an exported script starts: dropout draws the same masks."""
    env = {n: t.clone().requires_grad_() for n, t in base.items()}
    scope = {"torch": torch, "F": F, "len": len, **env}
    *body, last = ast.parse(AS_PYTORCH.get(text, text)).body
    torch.manual_seed(seed)
    exec(compile(ast.Module(body, []), "<reference>", "exec"), scope)           # the examples are plain PyTorch
    if isinstance(last, ast.Expr):
        out = eval(compile(ast.Expression(last.value), "<reference>", "eval"), scope)
    else:
        exec(compile(ast.Module([last], []), "<reference>", "exec"), scope)
        out = scope[(last.target if isinstance(last, ast.AugAssign) else last.targets[0]).id]
    out.sum().backward()
    return out, env


def grad_fns(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        g = stack.pop()
        if g is not None and type(g).__name__ not in seen:
            seen.add(type(g).__name__)
            stack += [n for n, _ in g.next_functions]
    return seen - {"AccumulateGrad"}


@pytest.mark.parametrize("name,text", EXAMPLES, ids=[f"{n}:{t}" for n, t in EXAMPLES])
def test_example_means_what_pytorch_means_and_is_explained(name, text):
    base = tensors()
    prog, out, env = ours(text, base)
    ref, ref_env = theirs(text, base)
    assert torch.equal(out, ref)
    for n in NAMES:
        a, b = env[n].grad, ref_env[n].grad
        assert (a is None) == (b is None) and (a is None or torch.equal(a, b)), n
    exported = "\n".join(lang.line_source(n, e) for n, e in prog.lines)
    scope = {"torch": torch, "F": F, **{n: t.clone() for n, t in base.items()}}
    torch.manual_seed(0)
    exec(exported, scope)
    assert torch.equal(scope[prog.loss_name], ref.detach())
    for fn in grad_fns(out):
        en, zh = RULES[fn]
        assert en and zh and en != zh, fn


def test_every_spelled_entry_has_examples_and_checked_keywords():
    for op in OPS.values():
        if op.spell:
            assert op.examples, op.name
        for param in op.params + op.keywords + (op.first,):
            assert param in op.kinds or param in KINDS, (op.name, param)


@pytest.mark.parametrize("loss", [
    "F.relu(w).sum()", "(torch.softmax(w, dim=1) * u).sum()", "w.max()", "torch.where(w > 0, w, 0.1 * w).sum()",
    "torch.cat([w, u]).sum()", "torch.dot(v, v)", "(x @ w.transpose(0, 1)).sum()",
    "torch.clamp(w, min=v.sum(), max=1).sum()", "(w - w.detach()).sum()",
    "F.cross_entropy(w, torch.tensor([0, 2]))", "F.nll_loss(F.log_softmax(w, dim=1), torch.tensor([0, 2]))",
    "F.kl_div(F.log_softmax(w, dim=1), torch.softmax(u, dim=1), reduction='batchmean')",
    "F.mse_loss(w, torch.zeros(2, 3))", "(w * torch.arange(3)).sum() + (w * torch.eye(2, 3)).sum()",
    "(w * torch.full((2, 3), 0.5)).sum() + (v * torch.linspace(0, 1, 3)).sum() + (w * torch.ones(3)).sum()",
])
def test_the_issue_examples_run_and_match_pytorch(loss):
    exp = Experiment(tensors={"w": "torch.randn(2, 3)", "u": "torch.randn(2, 3)", "v": "torch.randn(3)",
                              "x": "torch.randn(4, 3)"}, trainable=("w", "v"), loss=loss, epochs=1)
    run = explorer.run(exp)
    first = run.history[0]
    env = {n: t.clone().requires_grad_(True) for n, t in first.params.items()}
    env.update({n: t.clone() for n, t in run.data.items()})
    ref = eval(AS_PYTORCH.get(loss, loss.replace("max=1)", "max=torch.tensor(1.0))")), {"torch": torch, "F": F, **env})
    assert first.loss == pytest.approx(float(ref.detach().sum()), abs=0)


def test_class_targets_keep_their_integer_dtype():
    prog = lang.parse_loss("F.cross_entropy(w, torch.tensor([0, 1]))", "loss", ("w",))
    target = prog.lines[-1][1].args[1]
    assert target.spec.exact().dtype == torch.int64
    assert lang.to_source(target) == "torch.tensor([0, 1])"


@pytest.mark.parametrize("loss,name", [
    ("torch.cat([x.expand(4, 10000), x.expand(4, 10000), x.expand(4, 10000)]).sum()", "torch.cat"),
    ("torch.stack([x, x, x, x, x, x, x, x, x, x, x]).sum()", "torch.stack"),
    ("x.expand(11, 10000).sum()", ".expand()"), ("(x.reshape(-1, 1) @ x.reshape(1, -1)).sum()", "'@'"),
    ("torch.matmul(x.reshape(-1, 1), x.reshape(1, -1)).sum()", "torch.matmul"),
    ("torch.matmul(x.reshape(100, 1, 1, 100), x.reshape(1, 100, 100, 1)).sum()", "'@' inside"),
    ("(x.reshape(100, 100) > 0).expand(11, 100, 100).sum()", ".expand()"),
])
def test_ops_beyond_the_intermediate_limit_are_refused_by_name(loss, name):
    exp = Experiment(tensors={"w": "[1., 2.]", "x": "torch.ones(10000)"}, trainable=("w",), loss=f"{loss} * w.sum()")
    with pytest.raises(ExplorerError) as e:
        plan(exp)
    assert e.value.code == "too_many_elements" and str(L.MAX_INTERMEDIATE) in e.value.en
    assert name in e.value.en and (name.replace(" inside", "") in e.value.zh)


def test_internal_temporaries_are_charged():
    small = plan(Experiment(tensors={"w": "torch.ones(100, 100)"}, trainable=("w",), loss="w.sum()"))
    soft = plan(Experiment(tensors={"w": "torch.ones(100, 100)"}, trainable=("w",),
                           loss="torch.softmax(w, dim=1).sum()"))
    assert soft.cost.elements > small.cost.elements + 3 * 100 * 100


@pytest.mark.parametrize("loss,code", [
    ("torch.relu(w, out=v).sum()", "refused_keyword"), ("torch.sum(w, dtype='x')", "refused_keyword"),
    ("torch.relu(w, foo=1).sum()", "bad_keyword"), ("torch.softmax(w, (0, 1)).sum()", "not_allowed"),
    ("torch.softmax(w, dim='1').sum()", "not_allowed"), ("w.sum(keepdim=1)", "bad_argument"),
    ("F.gelu(w, approximate='exact').sum()", "bad_argument"), ("F.leaky_relu(w, negative_slope=w).sum()", "bad_argument"),
    ("torch.max(w, dim=1).sum()", "max_dim_pair"), ("w.max().values", "values_need_dim"),
    ("w.sum().indices", "values_need_dim"), ("(0 < w < 1).sum()", "not_allowed"),
    ("torch.cat(w, v).sum()", "bad_argument"), ("[w, v]", "not_allowed"),
    ("torch.ones(3, requires_grad=True).sum() + w.sum()", "bad_keyword"), ("torch.rand(3).sum() + w.sum()", "not_allowed"),
    ("torch.ones(100000, 100000).sum() + w.sum()", "too_many_elements"),
    ("torch.tensor([1], dtype=torch.complex64).sum() + w.sum()", "bad_dtype"),
    ("w.getattr('x')", "unknown_method"), ("relu6(w)", "unknown_function"),
])
def test_keywords_and_arguments_are_checked(loss, code):
    with pytest.raises(ExplorerError) as e:
        plan(Experiment(tensors={"w": "torch.ones(2, 3)", "v": "torch.ones(3)"}, trainable=("w",), loss=loss))
    assert e.value.code == code, (e.value.code, e.value.en)
    assert e.value.en and e.value.zh


def test_comparisons_are_masks_without_gradient():
    prog = lang.parse_loss("m = w > 0\nloss = (w * m).sum()", "loss", ("w",))
    w = torch.tensor([-1.0, 2.0], requires_grad=True)
    loss, named = lang.Evaluator().run(prog, {"w": w})
    assert named["m"].dtype == torch.bool and not named["m"].requires_grad
    assert lang.to_source(lang.parse_loss("((w > 0) * 2).sum()", "loss", ("w",)).lines[-1][1]) \
        == "((w > 0) * 2).sum()"


@pytest.mark.parametrize("loss", ["(w - w.detach()).sum()", "(w * w.detach()).sum()",
                                  "d = w.detach()\nloss = F.mse_loss(w, d)",
                                  "d = w.detach()\nloss = F.mse_loss(w, d[:] * 2 + 1)",
                                  "loss = (w * (w.detach().max() - 1)).sum()"])
def test_detach_cuts_the_gradient_path_and_the_graph_and_explanation_say_so(loss):
    from explorer.explain import explain_step
    from explorer.render import to_dot
    run = explorer.run(Experiment(tensors={"w": "[1., 2., 3.]"}, trainable=("w",), loss=loss, epochs=1))
    g = run.graph
    cut = [n for n in g.nodes if "detach" in n.label]
    assert len(cut) == 1 and cut[0].kind == "data" and cut[0].grad is None
    edge = next(e for e in g.edges if e.src == cut[0].id and e.label == "detached")
    assert edge.kind == "saved" and edge.grad is None
    step = next(k for k in range(1, g.steps + 1) if g.step(k).id == edge.dst)
    assert "constant to autograd" in explain_step(g, step, "en")
    assert "常数" in explain_step(g, step, "zh")
    dot = to_dot(g)
    assert "detach" in dot and "dashed" in dot


def test_explanations_are_read_from_the_table_in_both_languages():
    from explorer.lang.ops import rules
    assert RULES == rules()
    for op in OPS.values():
        for fn, (en, zh) in op.rules.items():
            assert fn.endswith(("Backward0", "Backward1", "Backward2", "Backward3", "Backward4", "_copy")) \
                or fn == "CopySlices", fn
            assert en.strip() and zh.strip() and en != zh, fn


def test_new_function_names_stay_free_as_tensor_names():
    for name in ("t", "where", "cat", "dot", "linear", "prod"):
        assert lang.check_name(name) == name
    run = explorer.run(Experiment(tensors={"t": "[1., 2.]"}, trainable=("t",), loss="(t.t() * t).sum()"))
    assert run.history[0].loss == 5.0


def test_the_table_resolves_every_callable_from_its_own_names():
    for name, op in OPS.items():
        if op.call is not None:                       # the app's own (dropout: the experiment's random stream)
            assert lang.F_FUNCTIONS[name] is op.call
            continue
        if "t" in op.spell:
            assert lang.FUNCTIONS[name] is getattr(torch, name)
        if "f" in op.spell:
            assert lang.F_FUNCTIONS[name] is getattr(F, name)
        if "m" in op.spell:
            assert lang.METHOD_FNS[name] is getattr(torch.Tensor, name)
        if "l" in op.spell:
            assert lang.LINALG[name.partition(".")[2]] is getattr(torch.linalg, name.partition(".")[2])
        if op.inplace:
            assert lang.IN_PLACE[f"{name}_"] is getattr(torch.Tensor, f"{name}_")
