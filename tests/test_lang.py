"""The safe language: what a student may type, what nobody may type, and what every error says.

Positive cases are checked against plain PyTorch: the same text is run as real Python over real
torch tensors (the test's own oracle; the app never does this) and the loss and gradients of epoch
1 must agree. Escape attempts must end in ExplorerError, quickly, with a message in English and
Chinese that names the limit when a limit is hit. Hypothesis then throws arbitrary text at both
fields.
"""
from __future__ import annotations

import ast
import math
import re
import time

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer import Experiment, ExplorerError, lang
from explorer import limits as L

pytestmark = pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors")

CJK = re.compile(r"[\u3400-\u9fff]")
AST_NAMES = {n for n in dir(ast) if isinstance(getattr(ast, n), type) and issubclass(getattr(ast, n), ast.AST)}

# the tensors most cases use: w, b trainable; x, y data (y in [0, 1] so BCE works)
W = "[[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]"                      # (2, 3)
B = "[0.1, -0.2, 0.3]"                                             # (3,)
X = "[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [-1.0, 0.5]]"            # (4, 2)
Y = "[[0.2, 0.8, 0.5], [0.9, 0.1, 0.4], [0.3, 0.3, 0.6], [1.0, 0.0, 0.7]]"   # (4, 3)
TENSORS = {"w": W, "b": B, "x": X, "y": Y}
SMALL = {"w": "[1., 2.]", "v": "[3., 4.]"}      # w trainable, v data


def experiment(loss, tensors=None, trainable=("w",), **kw) -> Experiment:
    return Experiment(tensors=TENSORS if tensors is None else tensors, trainable=trainable, loss=loss, **kw)


ZH_WITHOUT_CHINESE: set = set()


def check_message(e: ExplorerError, text: str | None = None) -> None:
    """Every error reads well in both languages and names the limit it hit."""
    assert isinstance(e, ExplorerError)
    assert e.en.strip() and e.zh.strip(), e.code
    assert CJK.search(e.zh) or e.code in ZH_WITHOUT_CHINESE, e.zh
    assert str(e) == e.en
    leaked = [n for n in AST_NAMES if f"'{n}'" in e.en and (text is None or n not in text)]
    assert not leaked, f"message names a Python syntax-tree class {leaked}: {e.en}"
    limit = LIMITS.get(e.code)
    if limit is not None:
        shown = [s for s in limit if s in e.en and s in e.zh]
        assert shown, f"{e.code}: neither message quotes the limit {limit}: {e.en} / {e.zh}"


LIMITS = {   # code -> the limit values one of which the message must quote, as the message prints them
    "too_long": (str(L.MAX_TEXT),), "too_deep": (str(L.MAX_DEPTH),), "too_many_lines": (str(L.MAX_LINES),),
    "too_many_ops": (str(L.MAX_NODES),), "literal_too_large": (f"{L.MAX_LITERAL:g}", f"{L.MAX_CONSTANT:g}"),
    "exponent_too_large": (str(L.MAX_EXPONENT),), "too_many_elements": (str(L.MAX_ELEMENTS), str(L.MAX_INTERMEDIATE)),
    "too_many_dims": (str(L.MAX_DIMS),), "epochs_range": (str(L.MAX_EPOCHS),),
    "too_many_tensors": (str(L.MAX_TENSORS),),
    "bad_name": (str(L.MAX_NAME),), "lr_range": (str(L.LR_RANGE[0]),),
}


def rejects(exp_or_call, code=None, text=None) -> ExplorerError:
    """Run (an Experiment, or a zero-argument callable) and return the ExplorerError it must raise."""
    start = time.perf_counter()
    with pytest.raises(ExplorerError) as info:
        exp_or_call() if callable(exp_or_call) else explorer.run(exp_or_call)
    assert time.perf_counter() - start < 1.0, "rejecting took too long"
    e = info.value
    check_message(e, text)
    if code is not None:
        assert e.code == code, (e.code, e.en)
    return e


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    """torch's first backward takes about a second; keep that out of the timed checks."""
    explorer.run(experiment("(w * w).sum()"))


# ---------------------------------------------------------------- the oracle: the same text in real PyTorch

BARE = {**{n: getattr(torch, n) for n in lang.FUNCTIONS}, **{n: getattr(F, n) for n in lang.LOSSES},
        **{c: getattr(torch.nn, c) for c in lang.LOSS_CLASSES}}


def reference(run, text):
    """Loss (summed if not a scalar) and gradients of `text` run as Python on epoch 1's tensors."""
    first = run.history[0]
    env = {n: t.clone().requires_grad_(True) for n, t in first.params.items()}
    env.update({n: t.clone() for n, t in run.data.items()})
    ns = {"torch": torch, "F": F, "nn": torch.nn, **BARE, **env}
    *body, last = ast.parse(text).body
    exec(compile(ast.Module(body, []), "<reference>", "exec"), ns)       # test oracle on fixed strings
    if isinstance(last, ast.Expr):
        loss = eval(compile(ast.Expression(last.value), "<reference>", "eval"), ns)
    else:
        exec(compile(ast.Module([last], []), "<reference>", "exec"), ns)
        loss = ns[last.targets[0].id]
    total = loss.sum() if loss.dim() else loss
    total.backward()
    return total.item(), {n: env[n].grad for n in first.params}


def assert_same_as_torch(loss, tensors=None, trainable=("w",), lr=0.1):
    run = explorer.run(experiment(loss, tensors, trainable, lr=lr, epochs=1))
    want_loss, want_grads = reference(run, loss)
    first = run.history[0]
    assert math.isfinite(want_loss), "the case itself is ill-posed"
    assert first.loss == pytest.approx(want_loss, rel=1e-6, abs=1e-6)
    for name, grad in want_grads.items():
        if grad is None:
            assert first.grads[name] is None
        else:
            torch.testing.assert_close(first.grads[name], grad)
            torch.testing.assert_close(first.next_params[name], first.params[name] - lr * grad)
    return run


# ---------------------------------------------------------------- 1. what the language accepts

UNARY_ARG = {"log": "w * w + 0.5", "sqrt": "w * w + 0.5"}
UNARY = ("abs", "exp", "log", "sqrt", "square", "sin", "cos", "tanh", "sigmoid", "relu")
LOSS_ARGS = {"binary_cross_entropy": "torch.sigmoid(z), y"}
CLASS_ARGS = {"BCELoss": "torch.sigmoid(z), y"}
Z = "z = x @ w + b\n"

ACCEPTED = [
    # numbers, names, ( ), unary -, the six operators
    ("numbers", "(w * 2.5 + 3).sum()"),
    ("int_and_float", "(w * 2 - 0.5 / 4 + 1e-3).sum()"),
    ("unary_minus", "-(-w).sum()"),
    ("unary_plus", "(+w).sum()"),
    ("parentheses", "((w + 1) * (w - 1)).sum()"),
    ("divide", "(w / (b + 2)).sum()"),
    ("power", "(w ** 2).sum() + (w ** -1).sum() + (2 ** w).sum()"),
    ("power_right_assoc", "(w ** 2 ** 2).sum()"),
    ("matmul_operator", "(x @ w).sum()"),
    ("max_exponent", f"((w / 10 + 1) ** {L.MAX_EXPONENT}).sum() + ((w / 10 + 1) ** -{L.MAX_EXPONENT}).sum()"),
    # indexing and slicing with literals
    ("index", "w[0].sum()"),
    ("index_scalar", "w[1, 2]"),
    ("index_chain", "w[1][2]"),
    ("slice_column", "w[:, 1].sum()"),
    ("slice_rows_last", "w[0:2, -1].sum()"),
    ("slice_step", "w[:, ::2].sum()"),
    ("negative_index", "w[-1].sum()"),
    # lines
    ("lines", "z = x @ w + b\nerr = z - y\nerr.pow(2).mean()"),
    ("lines_named_loss", "z = x @ w + b\nloss = ((z - y) ** 2).mean()"),
    ("last_line_other_name", "z = x @ w + b\ncost = z.sum()"),
    ("reuse_line_name", "z = x @ w\nz = z + b\nz.sum()"),
    ("number_line", "k = 3\nn = k - 2\n(w * k).sum() + w[n].sum() + (w ** k).sum()"),
    ("blank_lines", "\n\nz = x @ w\n\n\nloss = z.sum()\n\n"),
    ("crlf", "z = x @ w\r\nloss = z.sum()\r\n"),
    ("line_continuation", "loss = (w +\n        b).sum()"),
    ("backslash_continuation", "loss = w.sum() + \\\n    b.sum()"),
    ("trailing_tab", "loss = w.sum()\t"),
    # comments, in Chinese as the course writes them
    ("chinese_comments", "# 前向传播\nz = x @ w + b  # 线性层\nloss = F.mse_loss(z, y)  # 损失（均方误差），"),
    ("comment_only_lines", "# 损失\n# loss\nw.sum()"),
    # the course's examples
    ("course_single_step", "loss = 2 * w ** 2"),
    ("course_linear_layer", "z = x.matmul(w) + b\nloss = torch.nn.MSELoss()(z, y)"),
    ("course_loss_fn", "loss_fn = torch.nn.MSELoss()\nz = x.matmul(w) + b\nloss = loss_fn(z, y)"),
    # keywords
    ("sum_dim", "w.sum(dim=0).sum()"),
    ("sum_dim_keepdim", "(w - w.mean(dim=1, keepdim=True)).pow(2).sum()"),
    ("torch_sum_dim", "torch.sum(w, dim=1).sum() + torch.mean(w, 0).sum() + torch.sum(w, 0, ).sum()"),
    ("norm_dim", "w.norm(dim=1, keepdim=True).sum()"),
    ("clamp_kw", "w.clamp(min=-0.5, max=1.0).sum() + torch.clamp(w, min=0).sum() + torch.clamp(w, max=0).sum()"),
    ("clamp_positional", "w.clamp(-0.5, 1.0).sum() + torch.clamp(w, -0.5, 1.0).sum()"),
    ("clamp_tensor_bound", "torch.clamp(w, min=b).sum()"),
    ("reduction_sum", Z + "F.mse_loss(z, y, reduction='sum')"),
    ("reduction_none", Z + "F.l1_loss(z, y, reduction='none')"),
    ("reduction_class", Z + "torch.nn.MSELoss(reduction=\"sum\")(z, y)"),
    ("reduction_loss_fn", "loss_fn = nn.L1Loss(reduction='mean')\nz = x @ w + b\nloss_fn(z, y)"),
    # tensor methods
    ("method_matmul", "x.matmul(w).sum()"),
    ("method_mm", "x.mm(w).sum()"),
    ("method_sum_mean", "w.sum() + w.mean()"),
    ("method_pow", "w.pow(3).sum() + (w * w + 1).pow(b).sum()"),
    ("method_exp_log", "w.exp().sum() + (w * w + 1).log().sum()"),
    ("method_abs_sqrt", "w.abs().sqrt().sum()"),
    ("method_square", "w.square().sum()"),
    ("method_sigmoid_tanh_relu", "w.sigmoid().sum() + w.tanh().sum() + w.relu().sum()"),
    ("method_t", "(w.t() @ w).sum()"),
    ("attribute_T", "(w.T @ w).sum() + w.T.T.sum()"),
    ("method_reshape", "w.reshape(3, 2).sum(0).pow(2).sum() + w.reshape(-1).sum() + w.reshape((6,)).sum()"),
    ("method_view", "w.view(6).pow(2).sum() + w.view(3, 2)[0].sum() + w.view(-1, 1, 1).sum()"),
    ("method_flatten", "w.flatten().pow(2).sum()"),
    ("method_squeeze_unsqueeze",
     "w.unsqueeze(0).squeeze(0).sum() + w.unsqueeze(-1).squeeze().sum() + w.squeeze().sum()"),
    ("method_neg", "w.neg().sum()"),
    ("method_norm", "w.norm()"),
    ("method_clamp", "w.clamp(min=0).sum()"),
    ("method_chain", "(x @ w + b).sigmoid().mean(dim=0).pow(2).sum()"),
    ("method_on_parenthesis", "(w + 1).sum()"),
    ("four_dims", "w.reshape(1, 2, 3, 1).sum()"),
    ("broadcast_same_rank", "(w + b).sum()"),
    ("matmul_vector", "(w @ b).sum()"),
    ("scalar_loss_via_index", "(x @ w + b)[0, 0]"),
    ("non_scalar_loss", "w * 2"),
]
ACCEPTED += [(f"{p}{f}", f"{p}{f}({UNARY_ARG.get(f, 'w - 0.3')}).sum()") for f in UNARY for p in ("", "torch.")]
ACCEPTED += [(f"{p}sum_mean", f"{p}sum(w) + {p}mean(w)") for p in ("", "torch.")]
ACCEPTED += [(f"{p}matmul", f"{p}matmul(x, w).sum()") for p in ("", "torch.")]
ACCEPTED += [(f"{p}clamp", f"{p}clamp(w, -0.5, 0.5).sum()") for p in ("", "torch.")]
ACCEPTED += [(f"{p or 'bare.'}{f}", Z + f"{p}{f}({LOSS_ARGS.get(f, 'z, y')})")
             for f in lang.LOSSES for p in ("", "F.", "torch.nn.functional.")]
ACCEPTED += [(f"{p}{c}", Z + f"{p}{c}()({CLASS_ARGS.get(c, 'z, y')})")
             for c in lang.LOSS_CLASSES for p in ("torch.nn.", "nn.")]
ACCEPTED += [(f"loss_fn.{c}", f"loss_fn = torch.nn.{c}()\n" + Z + f"loss = loss_fn({CLASS_ARGS.get(c, 'z, y')})")
             for c in lang.LOSS_CLASSES]


@pytest.mark.parametrize("loss", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted_loss_means_what_torch_means(loss):
    assert_same_as_torch(loss, trainable=("w", "b"))


def test_course_single_step_numbers():
    """The course: w = [10, 20], loss = 2 * w ** 2, loss.sum().backward(), w - 0.01 * grad."""
    run = explorer.run(explorer.PRESETS["single_step"])
    first = run.history[0]
    assert first.loss == 2 * 10 ** 2 + 2 * 20 ** 2
    assert torch.equal(first.grads["w"], torch.tensor([40.0, 80.0]))
    assert torch.allclose(first.next_params["w"], torch.tensor([10 - 0.01 * 40, 20 - 0.01 * 80]))
    assert [n.code for n in run.notes] == ["loss_summed"]


def test_course_linear_layer_matches_hand_written_torch():
    run = explorer.run(explorer.PRESETS["linear_layer"])
    w = torch.tensor(eval(explorer.presets.SEED_W), requires_grad=True)    # a literal list: test-side only
    b = torch.tensor(eval(explorer.presets.SEED_B), requires_grad=True)
    loss = torch.nn.MSELoss()(torch.ones(2, 5).matmul(w) + b, torch.zeros(2, 3))
    loss.backward()
    first = run.history[0]
    assert first.loss == pytest.approx(loss.item(), rel=1e-6)
    torch.testing.assert_close(first.grads["w"], w.grad)
    torch.testing.assert_close(first.grads["b"], b.grad)


def test_several_epochs_follow_gradient_descent():
    run = explorer.run(experiment("loss = ((x @ w + b - y) ** 2).mean()", trainable=("w", "b"), lr=0.05, epochs=5))
    w = run.history[0].params["w"].clone().requires_grad_(True)
    b = run.history[0].params["b"].clone().requires_grad_(True)
    x, y = run.data["x"], run.data["y"]
    for epoch in run.history:
        loss = ((x @ w + b - y) ** 2).mean()
        w.grad = b.grad = None
        loss.backward()
        assert epoch.loss == pytest.approx(loss.item(), rel=1e-6)
        with torch.no_grad():
            w -= 0.05 * w.grad
            b -= 0.05 * b.grad
    torch.testing.assert_close(run.history[-1].next_params["w"], w.detach())


def test_comment_only_line_after_code_is_ignored():
    prog = lang.parse_loss("loss = w.sum()  # 损失\n# 完", "loss", ("w",))
    assert prog.lines == (("loss", lang.Method(lang.Ref("w"), "sum", ())),)


def test_number_lines_are_folded_like_typed_numbers():
    prog = lang.parse_loss("k = 2\nloss = w ** k", "loss", ("w",))
    assert prog.lines[-1] == ("loss", lang.BinOp("**", lang.Ref("w"), lang.Num(2)))


T = torch.tensor
ACCEPTED_TENSORS = [
    ("list_ints_become_float", "[10, 20]", T([10.0, 20.0])),
    ("nested", "[[1, 2], [3, 4]]", T([[1.0, 2.0], [3.0, 4.0]])),
    ("negative_numbers", "[-1, -2.5, +3]", T([-1.0, -2.5, 3.0])),
    ("scalar", "3.5", T(3.5)),
    ("negative_scalar", "-2", T(-2.0)),
    ("tuple", "(1, 2)", T([1.0, 2.0])),
    ("four_dims", "[[[[1, 2]]]]", T([[[[1.0, 2.0]]]])),
    ("course_line", "torch.tensor([10, 20], requires_grad=True, dtype=torch.float)", T([10.0, 20.0])),
    ("course_scalar", "torch.tensor(10, requires_grad=True, dtype=torch.float)", T(10.0)),
    ("tensor_bare", "tensor([1, 2])", T([1.0, 2.0])),
    ("float32", "torch.tensor([1, 2], dtype=torch.float32)", T([1.0, 2.0])),
    ("requires_grad_false", "torch.tensor([1, 2], requires_grad=False)", T([1.0, 2.0])),
    ("named", "w = torch.tensor([1, 2])", T([1.0, 2.0])),
    ("ones", "torch.ones(2, 3)", torch.ones(2, 3)),
    ("ones_bare_tuple", "ones((2, 3))", torch.ones(2, 3)),
    ("ones_list", "torch.ones([2, 3])", torch.ones(2, 3)),
    ("zeros", "zeros(4)", torch.zeros(4)),
    ("full", "torch.full((2, 2), 7)", torch.full((2, 2), 7.0)),
    ("full_bare", "full((3,), -1.5)", torch.full((3,), -1.5)),
    ("eye", "torch.eye(3)", torch.eye(3)),
    ("eye_rect", "eye(2, 3)", torch.eye(2, 3)),
    ("arange_float", "arange(5)", T([0.0, 1.0, 2.0, 3.0, 4.0])),
    ("arange_start_end", "torch.arange(1, 4)", T([1.0, 2.0, 3.0])),
    ("arange_step", "torch.arange(0, 1, 0.25)", T([0.0, 0.25, 0.5, 0.75])),
    ("arange_down", "torch.arange(3, 0, -1)", T([3.0, 2.0, 1.0])),
    ("linspace", "torch.linspace(0, 1, 5)", torch.linspace(0, 1, 5)),
    ("linspace_bare", "linspace(-1, 1, 3)", T([-1.0, 0.0, 1.0])),
    ("dtype_float_on_factory", "torch.ones(2, dtype=torch.float)", torch.ones(2)),
    ("chinese_comment", "[1, 2]  # 权重", T([1.0, 2.0])),
    ("comment_line_first", "# 初始权重\ntorch.tensor([1, 2])", T([1.0, 2.0])),
    ("at_element_limit", f"torch.ones({L.MAX_ELEMENTS})", torch.ones(L.MAX_ELEMENTS)),
    ("at_literal_limit", f"[{L.MAX_LITERAL:g}, -{L.MAX_LITERAL:g}]", T([L.MAX_LITERAL, -L.MAX_LITERAL])),
]


@pytest.mark.parametrize("text,want", [c[1:] for c in ACCEPTED_TENSORS], ids=[c[0] for c in ACCEPTED_TENSORS])
def test_accepted_tensor_is_the_torch_tensor(text, want):
    run = explorer.run(Experiment(tensors={"w": text}, trainable=("w",), loss="(w * w).sum()", lr=0.5))
    got = run.history[0].params["w"]
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(run.history[0].grads["w"], 2 * want)


@pytest.mark.parametrize("factory", ["rand", "randn"])
@pytest.mark.parametrize("prefix", ["", "torch."])
def test_random_tensors_follow_the_seed(factory, prefix):
    text = f"{prefix}{factory}(2, 3)"
    run = explorer.run(Experiment(tensors={"x": text, "w": "torch.ones(3)"}, trainable=("w",),
                                  loss="(x @ w).sum()", seed=7))
    g = torch.Generator().manual_seed(7)
    torch.testing.assert_close(run.data["x"], getattr(torch, factory)(2, 3, generator=g))


def test_parse_tensor_api():
    spec = lang.parse_tensor("torch.tensor([10, 20], requires_grad=True, dtype=torch.float)", "tensor w")
    assert spec.shape == (2,) and spec.requires_grad is True and spec.dtype == "torch.float"
    assert lang.parse_tensor("arange(5)", "t").make().dtype == torch.float32
    assert lang.parse_tensor("[[1, 2, 3]]", "t").shape == (1, 3)


# ---------------------------------------------------------------- 2. escape attempts

HUGE_X = {"w": "[1., 2.]", "x": "torch.ones(10000)"}
EMPTY_WIDE = {"w": "[1., 2.]", "z": "torch.zeros(0, 10000)"}     # 0 elements, a wide second dimension

# (id, field, text[, expected code]); field "loss" runs with SMALL tensors, "tensor" defines tensor t
ESCAPES = [
    # dunders and introspection
    ("dunder_class", "loss", "w.__class__"),
    ("dunder_mro", "loss", "w.__class__.__mro__"),
    ("dunder_subclasses", "loss", "().__class__.__bases__[0].__subclasses__()"),
    ("dunder_dict", "loss", "w.__dict__"),
    ("dunder_import", "loss", "__import__('os')"),
    ("dunder_builtins", "loss", "__builtins__"),
    ("dunder_name_alone", "loss", "__name__"),
    ("dunder_method_call", "loss", "w.__add__(w)"),
    ("dunder_on_function", "loss", "torch.relu.__globals__"),
    ("dunder_on_function_call", "loss", "torch.relu.__call__(w)"),
    ("dunder_on_loss_module", "loss", "torch.nn.MSELoss().__class__"),
    ("dunder_call_on_loss_module", "loss", "torch.nn.MSELoss().__call__(w, v)"),
    ("dunder_on_loss_fn", "loss", "f = torch.nn.MSELoss()\nf.__dict__"),
    ("dunder_init", "loss", "torch.nn.MSELoss.__init__()"),
    ("dunder_on_result", "loss", "(w + 1).__class__"),
    ("dunder_in_index", "loss", "w[w.__len__()]"),
    ("dunder_kwarg", "loss", "w.sum(__class__=1)"),
    ("underscore_name", "loss", "_ = w\n_"),
    ("underscore_attr", "loss", "w._version"),
    ("underscore_method", "loss", "w._grad_fn()"),
    ("F_dict", "loss", "F.__dict__"),
    ("torch_version", "loss", "torch.__version__"),
    ("torch_ops", "loss", "torch.ops.aten.add(w, w)"),
    ("torch_private", "loss", "torch._C._get_tracing_state()"),
    ("globals", "loss", "globals()"),
    ("locals", "loss", "locals()"),
    ("vars", "loss", "vars(w)"),
    ("dir", "loss", "dir(w)"),
    ("getattr", "loss", "getattr(w, 'data')"),
    ("setattr", "loss", "setattr(w, 'data', v)"),
    ("type", "loss", "type(w)"),
    ("print", "loss", "print(w)"),
    ("help", "loss", "help()"),
    ("exit", "loss", "exit()"),
    ("input", "loss", "input()"),
    ("builtin_sum_of_range", "loss", "sum(range(1000000000))"),
    ("bytearray", "loss", "bytearray(1000000000)"),
    # imports and code execution
    ("import", "loss", "import os"),
    ("from_import", "loss", "from os import system"),
    ("import_as", "loss", "import torch as t"),
    ("eval", "loss", "eval('1')"),
    ("exec", "loss", "exec('import os')"),
    ("compile", "loss", "compile('1', 'x', 'eval')"),
    ("breakpoint", "loss", "breakpoint()"),
    ("torch_compile", "loss", "torch.compile(w)"),
    ("torch_jit", "loss", "torch.jit.script(w)"),
    ("torch_hub", "loss", "torch.hub.load('x', 'y')"),
    ("cpp_extension", "loss", "torch.utils.cpp_extension.load('x', 'y')"),
    ("nn_module", "loss", "torch.nn.Module()"),
    ("nn_linear", "loss", "torch.nn.Linear(2, 1)(w)"),
    ("cuda", "loss", "torch.cuda.is_available()"),
    ("set_num_threads", "loss", "torch.set_num_threads(64)"),
    ("manual_seed", "loss", "torch.manual_seed(0)"),
    ("module_alone", "loss", "torch"),
    ("module_F_alone", "loss", "F"),
    ("module_attr", "loss", "torch.nn"),
    ("function_uncalled", "loss", "torch.relu"),
    ("F_dropout2d_not_listed", "loss", "F.dropout2d(w).sum()"),
    # files and storage
    ("open", "loss", "open('/etc/passwd')"),
    ("storage", "loss", "w.storage()"),
    ("untyped_storage", "loss", "w.untyped_storage()"),
    ("torch_load", "loss", "torch.load('x')"),
    ("torch_save", "loss", "torch.save(w, 'x')"),
    ("data_ptr", "loss", "w.data_ptr()"),
    ("from_file", "loss", "torch.from_file('x')"),
    ("numpy", "loss", "w.numpy()"),
    ("tolist", "loss", "w.tolist()"),
    ("item", "loss", "w.item()"),
    ("tensor_to_device", "loss", "w.to('meta')"),
    ("method_cuda", "loss", "w.cuda()"),
    ("share_memory", "loss", "w.share_memory_()"),
    ("apply_", "loss", "w.apply_(print)"),
    ("register_hook", "loss", "w.register_hook(print)"),
    ("reduce_ex", "loss", "w.__reduce_ex__(2)"),
    # autograd from inside the loss
    ("backward", "loss", "w.sum().backward()"),
    ("grad", "loss", "w.grad"),
    ("grad_sum", "loss", "w.grad.sum()"),
    ("data", "loss", "w.data"),
    ("detach", "loss", "w.detach()"),
    ("requires_grad_", "loss", "w.requires_grad_()"),
    ("requires_grad_attr", "loss", "w.requires_grad"),
    ("retain_grad", "loss", "w.retain_grad()"),
    ("grad_fn", "loss", "w.sum().grad_fn"),
    ("autograd_grad", "loss", "torch.autograd.grad(w.sum(), w)"),
    ("no_grad", "loss", "torch.no_grad()"),
    ("expand", "loss", "w.expand(100000, 100000).sum()"),
    ("repeat", "loss", "w.repeat(100000, 100000).sum()"),
    ("new_empty", "loss", "w.new_empty(1000000000)"),
    ("inplace", "loss", "w.add_(1)"),
    ("augassign", "loss", "w += 1"),
    ("setitem", "loss", "w[0] = 1"),
    ("setattr_statement", "loss", "w.data = v"),
    # huge shapes and intermediates
    ("huge_tensor", "tensor", "torch.ones(100000, 100000)", "too_many_elements"),
    ("huge_tensor_tuple", "tensor", "torch.zeros((100000, 100000))", "too_many_elements"),
    ("huge_eye", "tensor", "torch.eye(1000000000)", "too_many_elements"),
    ("huge_arange", "tensor", "torch.arange(1000000000)", "too_many_elements"),
    ("tiny_step_arange", "tensor", "torch.arange(0, 1, 0.000000001)", "too_many_elements"),
    ("huge_linspace", "tensor", "torch.linspace(0, 1, 1000000000)", "too_many_elements"),
    ("huge_full", "tensor", "torch.full((100000, 100000), 1)", "too_many_elements"),
    ("five_dims_tensor", "tensor", "torch.ones(1, 1, 1, 1, 1)", "too_many_dims"),
    ("five_dims_list", "tensor", "[[[[[1]]]]]", "too_many_dims"),
    ("outer_product", HUGE_X, "(x.reshape(-1, 1) * x.reshape(1, -1)).sum() * w.sum()", "too_many_elements"),
    ("outer_matmul", HUGE_X, "(x.reshape(-1, 1) @ x.reshape(1, -1)).sum() * w.sum()", "too_many_elements"),
    ("outer_broadcast_3d", HUGE_X, "(x.reshape(-1, 1, 1) + x.reshape(1, -1, 1)).sum() * w.sum()", "too_many_elements"),
    ("empty_tensor_reduced_to_huge", EMPTY_WIDE, "(z.sum(0).reshape(-1, 1) * z.sum(0).reshape(1, -1)).sum() + w.sum()",
     "too_many_elements"),
    ("empty_tensor_matmul_to_huge", EMPTY_WIDE, "(z.T @ z).sum() + w.sum()", "too_many_elements"),
    ("reshape_many_dims", "loss", "w.reshape(1, 1, 1, 1, 1, 2)"),
    ("reshape_tuple_many_dims", {"w": "[1.]"}, "w.reshape((1, 1, 1, 1, 1, 1)).sum()", "too_many_dims"),
    ("unsqueeze_five_dims", "loss", "w.unsqueeze(0).unsqueeze(0).unsqueeze(0).unsqueeze(0).sum()", "too_many_dims"),
    ("index_five_items", "loss", "w[0, 0, 0, 0, 0]", "too_many_dims"),
    # huge exponents and numbers
    ("exponent_power_tower", "loss", "w ** 10 ** 10", "exponent_too_large"),
    ("constant_power_tower", "loss", "9 ** 9 ** 9", "exponent_too_large"),
    ("float_exponent", "loss", "w ** 1e300", "literal_too_large"),
    ("pow_method", "loss", "w.pow(100000)", "exponent_too_large"),
    ("negative_exponent", "loss", "w ** -1000", "exponent_too_large"),
    ("folded_exponent", "loss", "w ** (2 ** 7)", "exponent_too_large"),
    ("exponent_via_unary", "loss", "w ** -(-65)", "exponent_too_large"),
    ("exponent_via_line", "loss", "e = 100\nloss = w ** e", "exponent_too_large"),
    ("pow_via_line", "loss", "e = 100\nloss = w.pow(e)", "exponent_too_large"),
    ("power_tower_via_lines", "loss", "e = 9\nf = e ** e\ng = e ** f\nloss = w * g", "exponent_too_large"),
    ("growth_via_lines", "loss", "a = 1000000000\nb = a * a * a * a * a\nloss = w * b", "literal_too_large"),
    ("constant_overflow", "loss", "w * (1e9 * 1e9) ** 64"),
    ("constant_too_large", "loss", "w * 10 ** 64", "literal_too_large"),
    ("fold_beyond_constant", "loss", "w * (2.0 ** 63 * 2.0 ** 63)", "literal_too_large"),
    ("fold_negative_exponent", "loss", "w ** 0.5 ** -1000", "exponent_too_large"),
    ("literal_inf", "loss", "1e400", "literal_too_large"),
    ("literal_inf_times_w", "loss", "w * 1e400", "literal_too_large"),
    ("big_int", "loss", "10**400"),
    ("big_int_literal", "loss", "w * " + "9" * 400, "literal_too_large"),
    ("underscore_literal", "loss", "w * 1_000_000_000_000", "literal_too_large"),
    ("hex_literal", "loss", "w * 0xffffffffffffffff", "literal_too_large"),
    ("complex", "loss", "w * 1j"),
    ("divide_by_zero_constant", "loss", "w * (1 / 0)"),
    ("tensor_literal_inf", "tensor", "[1e400]", "literal_too_large"),
    ("tensor_literal_big", "tensor", "torch.tensor(1e10)", "literal_too_large"),
    ("tensor_full_big", "tensor", "torch.full((2,), 1e10)", "literal_too_large"),
    ("index_big", "loss", "w[9999999999]", "literal_too_large"),
    # syntax outside the language
    ("lambda", "loss", "lambda: w"),
    ("lambda_called", "loss", "(lambda: w)()"),
    ("list_comprehension", "loss", "[v for v in w]"),
    ("set_comprehension", "loss", "{v for v in w}"),
    ("dict_comprehension", "loss", "{v: v for v in w}"),
    ("generator", "loss", "sum(v for v in w)"),
    ("f_string", "loss", "f'{w}'"),
    ("f_string_nested", "loss", "f'{w.__class__}'"),
    ("walrus", "loss", "(y := w)"),
    ("conditional", "loss", "w if w else v"),
    ("comparison", "loss", "w < 1"),
    ("chained_comparison", "loss", "0 < w < 1"),
    ("and_or", "loss", "w and v"),
    ("not", "loss", "not w"),
    ("invert", "loss", "~w"),
    ("floor_div", "loss", "w // 2"),
    ("modulo", "loss", "w % 2"),
    ("shift", "loss", "w << 2"),
    ("bitwise", "loss", "w | v"),
    ("string", "loss", "'abc'"),
    ("string_where_tensor", "loss", "torch.relu('abc')"),
    ("string_kwarg", "loss", "w.clamp(min='a')"),
    ("bad_reduction", "loss", "F.mse_loss(w, v, reduction='batchmean')"),
    ("reduction_tensor", "loss", "F.mse_loss(w, v, reduction=w)"),
    ("reduction_dunder", "loss", "F.mse_loss(w, v, reduction='__class__')"),
    ("bytes", "loss", "b'x'"),
    ("raw_string", "loss", "r'x'"),
    ("none", "loss", "None"),
    ("true", "loss", "True * w"),
    ("index_with_tensor", "loss", "w[v]"),
    ("float_index", "loss", "w[0.5]"),
    ("list", "loss", "[w, v]"),
    ("tuple", "loss", "(w, v)"),
    ("dict", "loss", "{'a': w}"),
    ("set", "loss", "{w}"),
    ("starred", "loss", "torch.sum(*w)"),
    ("double_star", "loss", "torch.sum(**w)"),
    ("starred_method", "loss", "w.reshape(*v)"),
    ("double_star_dict", "loss", "w.sum(**{'dim': 0})"),
    ("keyword_not_allowed", "loss", "torch.relu(w, out=v)"),
    ("keyword_on_loss_call", "loss", "torch.nn.MSELoss()(w, v, reduction='sum')", "bad_keyword"),
    ("keyword_on_loss_fn_call", "loss", "f = nn.MSELoss()\nf(w, v, reduction='sum')", "bad_keyword"),
    ("loss_fn_as_value", "loss", "f = nn.MSELoss()\nf + w"),
    ("loss_fn_alias", "loss", "f = nn.MSELoss()\ng = f\ng(w, v)"),
    ("loss_module_as_loss", "loss", "torch.nn.MSELoss()", "loss_not_tensor"),
    ("loss_module_positional", "loss", "torch.nn.MSELoss(w)(w, v)"),
    ("loss_module_bad_kw", "loss", "torch.nn.MSELoss(size_average=True)(w, v)"),
    ("call_a_tensor", "loss", "w(v)"),
    ("call_a_result", "loss", "w.sum()()"),
    ("call_an_index", "loss", "w[0](v)"),
    ("call_loss_twice", "loss", "torch.nn.MSELoss()(w, v)(w, v)"),
    ("method_on_number", "loss", "(1).sum()"),
    ("matmul_number", "loss", "w @ 2"),
    ("function_on_number", "loss", "torch.relu(2)"),
    ("loss_of_numbers", "loss", "F.mse_loss(1, 2)"),
    ("number_loss", "loss", "3", "loss_not_tensor"),
    ("yield", "loss", "yield w"),
    ("await", "loss", "await w"),
    ("def", "loss", "def f(): pass"),
    ("class", "loss", "class A: pass"),
    ("for", "loss", "for i in w: pass"),
    ("while", "loss", "while True: pass"),
    ("with", "loss", "with open('x') as f: pass"),
    ("try", "loss", "try:\n    w\nexcept Exception:\n    pass"),
    ("raise", "loss", "raise SystemExit"),
    ("assert", "loss", "assert w"),
    ("del", "loss", "del w"),
    ("global", "loss", "global w"),
    ("pass", "loss", "pass"),
    ("match", "loss", "match w:\n    case 1:\n        pass"),
    ("annotation", "loss", "a: int = w"),
    ("tuple_target", "loss", "a, c = w, v\na"),
    ("chained_assign", "loss", "a = c = w\na"),
    ("if_block", "loss", "if 1:\n    w"),
    # non-ASCII look-alikes (code must be ASCII; comments may be anything)
    ("fullwidth_w", "loss", "\uff57", "non_ascii"),
    ("fullwidth_method", "loss", "w.\uff53\uff55\uff4d()", "non_ascii"),
    ("fullwidth_underscores", "loss", "w.\uff3f\uff3fclass\uff3f\uff3f", "non_ascii"),
    ("math_bold_w", "loss", "\U0001d430", "non_ascii"),
    ("cyrillic_a", "loss", "\u0430 = w\n\u0430", "non_ascii"),
    ("chinese_parentheses", "loss", "torch.relu\uff08w\uff09", "non_ascii"),
    ("chinese_comma", "loss", "F.mse_loss(w\uff0c v)", "non_ascii"),
    ("chinese_name", "loss", "\u635f\u5931 = w\n\u635f\u5931", "non_ascii"),
    ("non_breaking_space", "loss", "w\u00a0+ v", "non_ascii"),
    ("zero_width_space", "loss", "w\u200b", "non_ascii"),
    ("bidi_override", "loss", "w \u202e+ v", "non_ascii"),
    ("line_separator", "loss", "w\u2028", "non_ascii"),
    ("chinese_fullwidth_tensor", "tensor", "[1\uff0c 2]", "non_ascii"),
    ("fullwidth_bracket_tensor", "tensor", "\uff3b1, 2\uff3d", "non_ascii"),
    # a lone \r ends a line for Python but not for tokenize: comments must not hide code
    ("cr_hides_fullwidth", "loss", "a = w\rloss = w.\uff53\uff55\uff4d()\n# xxxxxxxxxxxxxxxxxxxxxxxx", "non_ascii"),
    ("cr_hides_cyrillic", "loss", "a = w\r\u0430 = w\n# xxxxxxxxxxxxxxxx", "non_ascii"),
    ("cr_hides_in_tensor", "tensor", "t = [1]\r\uff34\n# xxxxxxxxxx", "non_ascii"),
    # several statements
    ("semicolon_import", "loss", "w; import os"),
    ("newline_import", "loss", "w\nimport os"),
    ("exec_after_loss", "loss", "loss = w\nexec('x')"),
    ("semicolons", "loss", "a = w; b = v; a + b; a"),
    ("reassign_tensor", "loss", "w = 1", "reserved_name"),
    ("reassign_tensor_later", "loss", "a = w\nv = a\nv", "reserved_name"),
    ("shadow_function", "loss", "relu = w\nrelu", "bad_name"),
    ("shadow_torch", "loss", "torch = w\ntorch", "bad_name"),
    ("shadow_F", "loss", "F = w\nF", "bad_name"),
    ("long_name", "loss", "abcdefghijklmnopq = w\nabcdefghijklmnopq", "bad_name"),
    ("use_before_define", "loss", "a = c\nc = w\na", "unknown_name"),
    ("unknown_name", "loss", "q", "unknown_name"),
    ("loss_not_last", "loss", "w\nloss = w.sum()"),
    ("carriage_return_statements", "loss", "w\r+v"),
    # control characters, whitespace and emptiness
    ("null_byte", "loss", "w\x00", "non_ascii"),
    ("null_byte_in_comment_line", "loss", "w.sum()\n\x00# x", "non_ascii"),
    ("bell", "loss", "w\x07", "non_ascii"),
    ("escape", "loss", "w\x1b[2J", "non_ascii"),
    ("form_feed", "loss", "\x0cw", "non_ascii"),
    ("vertical_tab", "loss", "w\x0b", "non_ascii"),
    ("del_char", "loss", "w\x7f", None),
    ("indented_second_line", "loss", "a = w\n    loss = a.sum()", "syntax"),
    ("tab_space_mix", "loss", "if 1:\n\tw\n        w"),
    ("empty", "loss", "", "empty"),
    ("spaces", "loss", "   \n\t\n", "empty"),
    ("only_comment", "loss", "# 损失", "empty"),
    ("only_comments", "loss", "# a\n# b\n", "empty"),
    ("tensor_empty", "tensor", "", "empty"),
    ("tensor_only_comment", "tensor", "# 张量", "empty"),
    ("syntax_error", "loss", "w +", "syntax"),
    ("unclosed", "loss", "(w", "syntax"),
    ("unclosed_string", "loss", "'abc", "syntax"),
    # length and depth
    ("too_long", "loss", "w" + " " * L.MAX_TEXT, "too_long"),
    ("too_long_tensor", "tensor", "[1]" + " " * L.MAX_TEXT, "too_long"),
    ("deep_parentheses", "loss", "(" * 500 + "w" + ")" * 500),
    ("deep_negation", "loss", "-(" * 300 + "w" + ")" * 300),
    ("deep_unary", "loss", "-" * 1900 + "w", "too_deep"),
    ("long_sum", "loss", "+".join(["1"] * 900), "too_deep"),
    ("long_tensor_sum", "loss", "+".join(["w"] * 500), "too_deep"),
    ("long_method_chain", "loss", "w" + ".abs()" * 300, "too_deep"),
    ("long_index_chain", "loss", "w" + "[0]" * 400, "too_deep"),
    ("many_statements", "loss", "a=w\n" * 300 + "a", "too_many_ops"),
    ("deep_list", "tensor", "[" * 60 + "1" + "]" * 60, "too_deep"),
    ("deep_tensor_unary", "tensor", "-" * 500 + "1", "too_deep"),
    ("deep_tensor_parentheses", "tensor", "(" * 400 + "1" + ")" * 400),
    # tensor definitions: only literal data and the listed factories
    ("tensor_import", "tensor", "__import__('os')"),
    ("tensor_open", "tensor", "torch.tensor(open('/etc/passwd').read())"),
    ("tensor_load", "tensor", "torch.load('x')"),
    ("tensor_from_file", "tensor", "torch.from_file('x', size=10)"),
    ("tensor_numpy", "tensor", "torch.tensor([1, 2]).numpy()"),
    ("tensor_dunder", "tensor", "torch.ones(2).__class__"),
    ("tensor_number_dunder", "tensor", "(1).__class__"),
    ("tensor_empty_factory", "tensor", "torch.empty(3)"),
    ("tensor_Tensor", "tensor", "torch.Tensor(3)"),
    ("tensor_parameter", "tensor", "torch.nn.Parameter(torch.ones(2))"),
    ("tensor_cuda", "tensor", "torch.ones(2).cuda()"),
    ("tensor_device", "tensor", "torch.ones(2, device='cuda')"),
    ("tensor_out", "tensor", "torch.ones(2, out=w)"),
    ("tensor_generator", "tensor", "torch.randn(2, generator=1)"),
    ("tensor_double_star", "tensor", "torch.ones(**{'size': 2})"),
    ("tensor_double_star_empty", "tensor", "torch.ones(**{})"),
    ("tensor_starred", "tensor", "torch.ones(*[2, 3])"),
    ("tensor_name_ref", "tensor", "torch.tensor(w)"),
    ("tensor_name_in_list", "tensor", "[w, 1]"),
    ("tensor_arithmetic", "tensor", "torch.ones(2) + 1"),
    ("tensor_list_arithmetic", "tensor", "[0] * 1000000000"),
    ("tensor_size_arithmetic", "tensor", "torch.ones(10 ** 10)"),
    ("tensor_index", "tensor", "torch.ones(2)[0]"),
    ("tensor_string", "tensor", "'[1, 2]'"),
    ("tensor_string_data", "tensor", "torch.tensor(['a'])"),
    ("tensor_bytes", "tensor", "b'[1]'"),
    ("tensor_bool", "tensor", "[True, False]"),
    ("tensor_none", "tensor", "torch.tensor([None])"),
    ("tensor_complex", "tensor", "[1j]"),
    ("tensor_dict", "tensor", "{1: 2}"),
    ("tensor_set", "tensor", "{1, 2}"),
    ("tensor_comprehension", "tensor", "[i for i in range(3)]"),
    ("tensor_lambda", "tensor", "(lambda: 1)()"),
    ("tensor_two_statements", "tensor", "torch.ones(2)\ntorch.ones(3)"),
    ("tensor_semicolon_import", "tensor", "t = torch.ones(2); import os"),
    ("tensor_newline_import", "tensor", "[1, 2]\nimport os"),
    ("tensor_chained_assign", "tensor", "t = u = [1]"),
    ("tensor_augassign", "tensor", "t += [1]"),
    ("tensor_annotation", "tensor", "t: int = [1]"),
    ("tensor_wrong_name", "tensor", "v = [1]", "name_mismatch"),
    ("tensor_ragged", "tensor", "[[1, 2], [3]]", "ragged"),
    ("tensor_negative_size", "tensor", "torch.ones(-1)"),
    ("tensor_fractional_size", "tensor", "torch.ones(2.5)"),
    ("tensor_no_size", "tensor", "torch.ones()"),
    ("tensor_randn_no_size", "tensor", "torch.randn()"),
    ("tensor_eye_negative", "tensor", "torch.eye(-1)"),
    ("tensor_arange_backwards", "tensor", "torch.arange(5, 0)"),
    ("tensor_arange_negative_end", "tensor", "torch.arange(-5)"),
    ("tensor_arange_wrong_step", "tensor", "torch.arange(0, 1, -1)"),
    ("tensor_arange_zero_step", "tensor", "torch.arange(0, 1, 0)"),
    ("tensor_linspace_negative", "tensor", "torch.linspace(0, 1, -1)"),
    ("tensor_full_no_value", "tensor", "torch.full((2,))"),
    ("tensor_dtype_float64", "tensor", "torch.tensor([1.], dtype=torch.float64)", "bad_dtype"),
    ("tensor_dtype_python", "tensor", "torch.tensor([1.], dtype=float)", "bad_dtype"),
    ("tensor_dtype_getattr", "tensor", "torch.tensor([1.], dtype=getattr(torch, 'float'))", "bad_dtype"),
    ("tensor_requires_grad_int", "tensor", "torch.tensor([1.], requires_grad=1)"),
    ("tensor_requires_grad_name", "tensor", "torch.tensor([1.], requires_grad=w)"),
    ("tensor_unknown_keyword", "tensor", "torch.ones(2, pin_memory=True)"),
]


def _escape_experiment(where, text):
    if where == "loss":
        return Experiment(tensors=SMALL, trainable=("w",), loss=text)
    if where == "tensor":
        return Experiment(tensors={"w": "[1., 2.]", "t": text}, trainable=("w",), loss="w.sum()")
    return Experiment(tensors=where, trainable=("w",), loss=text)


@pytest.mark.parametrize("where,text,code", [(c[1], c[2], c[3] if len(c) > 3 else None) for c in ESCAPES],
                         ids=[c[0] for c in ESCAPES])
def test_escape_attempt_is_rejected(where, text, code):
    rejects(_escape_experiment(where, text), code, text)


def test_escape_ids_are_unique():
    ids = [c[0] for c in ESCAPES]
    assert len(ids) == len(set(ids))


def test_every_rejected_syntax_has_a_readable_name():
    """Whatever statement or expression a student types, the message names it in words, not as 'ast.X'."""
    kinds = ast.stmt.__subclasses__() + ast.expr.__subclasses__()
    handled = {"Slice"}                      # only valid inside [ ], where _Subscript reads it
    missing = [k.__name__ for k in kinds if k.__name__ not in set(lang._READABLE) | handled
               and not hasattr(lang._Expr, "_" + k.__name__)]
    assert not missing


def test_bad_argument_message_has_chinese():
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="w.reshape(1, 1, 1, 1, 1, 2)"), "bad_argument")
    assert CJK.search(e.zh), e.zh


@pytest.mark.parametrize("text", ["w.__class__", "import os", "torch.ones(100000, 100000)", "w ** 10 ** 10",
                                  "\uff57", ""])
def test_escape_attempt_rejected_by_the_parsers_directly(text):
    rejects(lambda: lang.parse_loss(text, "loss", ("w",)))
    rejects(lambda: lang.parse_tensor(text, "tensor t"))


@pytest.mark.parametrize("bad", [None, 42, b"w", ["w"], 1.5])
def test_non_text_input_is_rejected(bad):
    rejects(lambda: lang.parse_loss(bad, "loss", ("w",)), "not_allowed")
    rejects(lambda: lang.parse_tensor(bad, "tensor t"), "not_allowed")
    rejects(Experiment(tensors=SMALL, trainable=("w",), loss=bad), "not_allowed")
    rejects(Experiment(tensors={"w": bad}, trainable=("w",), loss="w.sum()"), "not_allowed")


def test_errors_name_the_field_at_fault():
    assert rejects(_escape_experiment("tensor", "torch.load('x')")).field == "tensor t"
    e = rejects(_escape_experiment("loss", "w.__class__"))
    assert e.field == "loss" and "'loss'" in e.en and "「损失」" in e.zh


def test_comments_may_hold_anything_but_code_may_not():
    ok = "# ｗ（）， 𝐰 а \x85 \u2028\nloss = w.sum()  # 损失（均方误差）"
    assert explorer.run(Experiment(tensors=SMALL, trainable=("w",), loss=ok)).history[0].loss == 3.0
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="# 损失\nloss = w.sum() + \uff57"), "non_ascii")
    assert "\uff57" in e.en and "\uff57" in e.zh


def test_rejections_are_fast_even_in_bulk():
    start = time.perf_counter()
    for _id, where, text, *_ in ESCAPES:
        with pytest.raises(ExplorerError):
            explorer.run(_escape_experiment(where, text))
    assert time.perf_counter() - start < 10.0


# ---------------------------------------------------------------- 3. bounds, each named in its message

def test_text_length_limit():
    at = "w.sum()" + " " * (L.MAX_TEXT - len("w.sum()"))
    assert len(at) == L.MAX_TEXT
    explorer.run(Experiment(tensors=SMALL, trainable=("w",), loss=at))
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss=at + " "), "too_long")
    assert e.details == {"length": L.MAX_TEXT + 1, "limit": L.MAX_TEXT}


def test_depth_limit():
    explorer.run(Experiment(tensors=SMALL, trainable=("w",), loss="-" * 10 + "w.sum()"))
    explorer.run(Experiment(tensors=SMALL, trainable=("w",), loss="(" * 100 + "w.sum()" + ")" * 100))
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="-" * (L.MAX_DEPTH + 1) + "w.sum()"), "too_deep")
    assert e.details["limit"] == L.MAX_DEPTH


def test_line_limit():
    lines = [f"a{i} = w" for i in range(L.MAX_LINES - 1)]
    explorer.run(Experiment(tensors=SMALL, trainable=("w",), loss="\n".join(lines + ["a1.sum()"])))
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="\n".join(lines + ["b = w", "b.sum()"])),
                "too_many_lines")
    assert e.details["limit"] == L.MAX_LINES


def test_operation_limit():
    line = " + ".join(["w"] * 12)
    text = "\n".join(f"a{i} = {line}" for i in range(L.MAX_LINES - 1)) + "\na0.sum()"
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss=text), "too_many_ops")
    assert e.details["limit"] == L.MAX_NODES


@pytest.mark.parametrize("text", [f"torch.ones({L.MAX_ELEMENTS + 1})", f"torch.arange({L.MAX_ELEMENTS + 1})",
                                  f"torch.linspace(0, 1, {L.MAX_ELEMENTS + 1})", "torch.eye(101)",
                                  f"torch.full(({L.MAX_ELEMENTS + 1},), 1)", "torch.rand(100, 101)",
                                  "torch.randn((10, 10, 10, 11))"])
def test_elements_per_tensor(text):
    e = rejects(_escape_experiment("tensor", text), "too_many_elements")
    assert e.details["limit"] == L.MAX_ELEMENTS and e.details["count"] > L.MAX_ELEMENTS


def test_elements_per_intermediate_boundary():
    tensors = {"w": "[1., 2.]", "x": "torch.ones(1000)"}
    n = L.MAX_INTERMEDIATE // 1000
    at = f"(x.reshape(-1, 1) * x[0:{n}].reshape(1, -1)).sum() * w.sum()"
    explorer.run(Experiment(tensors=tensors, trainable=("w",), loss=at))
    over = f"(x.reshape(-1, 1) * x[0:{n + 1}].reshape(1, -1)).sum() * w.sum()"
    e = rejects(Experiment(tensors=tensors, trainable=("w",), loss=over), "too_many_elements")
    assert e.details == {"what": "'*'", "count": 1000 * (n + 1), "limit": L.MAX_INTERMEDIATE}


def test_intermediates_are_checked_before_allocation():
    """(z.T @ z) would be 10**8 floats made from two empty tensors: the meta device answers before allocating."""
    start = time.perf_counter()
    e = rejects(Experiment(tensors=EMPTY_WIDE, trainable=("w",), loss="(z.T @ z).sum() + w.sum()"),
                "too_many_elements")
    assert e.details["count"] == 10 ** 8
    assert time.perf_counter() - start < 0.5


def test_intermediate_check_runs_before_any_real_tensor(monkeypatch):
    """plan() dry-runs on 'meta': no real tensor is ever made for a loss that is then rejected."""
    made = []
    real_make = lang.TensorSpec.make

    def spy(self, generator=None, device=None):
        made.append(device)
        return real_make(self, generator, device)

    monkeypatch.setattr(lang.TensorSpec, "make", spy)
    rejects(Experiment(tensors=HUGE_X, trainable=("w",), loss="(x.reshape(-1, 1) * x.reshape(1, -1)).sum()"),
            "too_many_elements")
    assert made and set(made) == {"meta"}


def test_rank_limit():
    explorer.run(_escape_experiment("tensor", "torch.ones(1, 1, 1, 1)"))
    for where, text in [("tensor", "torch.ones(1, 1, 1, 1, 1)"), ("tensor", "[[[[[1]]]]]"),
                        ("loss", "w.reshape(1, 1, 1, 2).unsqueeze(0).sum()"), ("loss", "w[0, 0, 0, 0, 0]")]:
        e = rejects(_escape_experiment(where, text), "too_many_dims")
        assert e.details["limit"] == L.MAX_DIMS and e.details["count"] == L.MAX_DIMS + 1


def test_literal_limit():
    explorer.run(Experiment(tensors=SMALL, trainable=("w",), loss=f"(w * {L.MAX_LITERAL:g}).sum()"))
    for text in ["(w * 1.5e9).sum()", "(w + 2000000000).sum()", "w[0] * -1e10"]:
        e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss=text), "literal_too_large")
        assert e.details["limit"] == f"{L.MAX_LITERAL:g}"
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="(w * (1e9 * 1e9 * 1e9 * 1e9)).sum()"),
                "literal_too_large")
    assert e.details["limit"] == f"{L.MAX_CONSTANT:g}"
    e = rejects(_escape_experiment("tensor", "[1, 1.5e9]"), "literal_too_large")
    assert e.details["limit"] == f"{L.MAX_LITERAL:g}"


@pytest.mark.parametrize("text", [f"w ** {L.MAX_EXPONENT + 1}", f"w ** -{L.MAX_EXPONENT + 1}",
                                  f"w.pow({L.MAX_EXPONENT + 1})", f"k = {L.MAX_EXPONENT + 1}\nw ** k"])
def test_exponent_limit(text):
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss=text), "exponent_too_large")
    assert e.details["limit"] == L.MAX_EXPONENT


def test_epoch_limit():
    explorer.plan(Experiment(tensors=SMALL, trainable=("w",), loss="w.sum()", epochs=L.MAX_EPOCHS))
    for bad in (L.MAX_EPOCHS + 1, 0, -1, 1.5, True, "10", None):
        e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="w.sum()", epochs=bad), "epochs_range")
        assert e.details["limit"] == L.MAX_EPOCHS


def test_lr_range():
    lo, hi = L.LR_RANGE
    for ok in (lo, hi, 0.01):
        explorer.plan(Experiment(tensors=SMALL, trainable=("w",), loss="w.sum()", lr=ok))
    for bad in (0, lo / 10, hi * 1.1, -0.1, float("nan"), float("inf"), True, "0.1", None):
        e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="w.sum()", lr=bad), "lr_range")
        assert str(lo) in e.en and str(hi) in e.en and str(lo) in e.zh and str(hi) in e.zh


def test_tensor_count_and_name_limits():
    many = {f"t{i}": "[1.]" for i in range(L.MAX_TENSORS + 1)}
    rejects(Experiment(tensors=many, trainable=("t0",), loss="t0.sum()"), "too_many_tensors")
    long = "a" * (L.MAX_NAME + 1)
    rejects(Experiment(tensors={long: "[1.]"}, trainable=(long,), loss=f"{long}.sum()"), "bad_name")
    for bad in ("_w", "1w", "w-1", "torch", "relu", "mse_loss", "MSELoss", "ones", "ｗ", "", 3):
        rejects(Experiment(tensors={bad: "[1.]"}, trainable=(bad,), loss="w.sum()"), "bad_name")


# ---------------------------------------------------------------- 4. teaching errors and notes

def test_integer_dtype_on_trainable_tensor():
    e = rejects(Experiment(tensors={"w": "torch.tensor([1, 2], dtype=torch.long, requires_grad=True)"},
                           trainable=("w",), loss="w.sum()"), "int_dtype")
    assert "torch.long" in e.en and "dtype=torch.float" in e.en and "torch.long" in e.zh


def test_integer_dtype_on_data_tensor_is_a_note():
    run = explorer.run(Experiment(tensors={"w": "[1., 2.]", "k": "torch.tensor([1, 2], dtype=torch.long)"},
                                  trainable=("w",), loss="(w * k).sum()"))
    assert run.data["k"].dtype == torch.float32
    assert "int_data" in [n.code for n in run.notes]


def test_loss_that_ignores_every_trainable_tensor():
    e = rejects(Experiment(tensors=SMALL, trainable=("w",), loss="v.sum()"), "loss_ignores_trainable")
    assert "w" in e.details["names"]


def test_shape_mismatch_names_both_shapes():
    e = rejects(Experiment(tensors={"w": "[1., 2.]", "v": "[1., 2., 3.]"}, trainable=("w",), loss="(w + v).sum()"),
                "shape_mismatch")
    assert "[2]" in e.en and "[3]" in e.en and "[2]" in e.zh and "[3]" in e.zh
    e = rejects(Experiment(tensors={"w": "torch.ones(2, 3)", "v": "torch.ones(2, 3)"}, trainable=("w",),
                           loss="(w @ v).sum()"), "shape_mismatch")
    assert "[2, 3]" in e.en and "[2, 3]" in e.zh


def test_loss_function_shape_mismatch():
    e = rejects(Experiment(tensors={"z": "torch.ones(2, 3)", "y": "torch.ones(3)"}, trainable=("z",),
                           loss="F.mse_loss(z, y)"), "loss_shape_mismatch")
    assert "[2, 3]" in e.en and "[3]" in e.en and "[2, 3]" in e.zh
    rejects(Experiment(tensors={"z": "torch.ones(2, 3)", "y": "torch.ones(3)"}, trainable=("z",),
                       loss="torch.nn.MSELoss()(z, y)"), "loss_shape_mismatch")


def test_unused_trainable_tensor_is_a_note_and_gets_no_gradient():
    run = explorer.run(Experiment(tensors={"w": "[1., 2.]", "u": "[5.]"}, trainable=("w", "u"), loss="w.sum()"))
    notes = {n.code: n for n in run.notes}
    assert "unused_trainable" in notes and "'u'" in notes["unused_trainable"].en
    assert CJK.search(notes["unused_trainable"].zh)
    assert run.history[0].grads["u"] is None
    assert torch.equal(run.history[0].grads["w"], torch.ones(2))
    assert torch.equal(run.history[0].next_params["u"], torch.tensor([5.0]))


def test_silent_broadcasting_is_a_note():
    run = explorer.run(Experiment(tensors={"a": "torch.ones(3, 1)", "b": "[1., 2., 3.]"}, trainable=("a",),
                                  loss="((a - b) ** 2).mean()"))
    notes = [n for n in run.notes if n.code == "broadcast"]
    assert len(notes) == 1
    assert "[3, 1]" in notes[0].en and "[3]" in notes[0].en and "[3, 3]" in notes[0].en
    a = torch.ones(3, 1, requires_grad=True)
    loss = ((a - torch.tensor([1.0, 2.0, 3.0])) ** 2).mean()
    loss.backward()
    assert run.history[0].loss == pytest.approx(loss.item())
    torch.testing.assert_close(run.history[0].grads["a"], a.grad)


def test_non_scalar_loss_is_summed_with_a_note():
    run = explorer.run(Experiment(tensors={"w": "[[1., 2.], [3., 4.]]"}, trainable=("w",), loss="w ** 2", lr=0.1))
    assert "loss_summed" in [n.code for n in run.notes]
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (w ** 2).sum()
    loss.backward()
    assert run.history[0].loss == loss.item() == 30.0
    torch.testing.assert_close(run.history[0].grads["w"], w.grad)


def test_notes_read_well_in_both_languages():
    run = explorer.run(Experiment(tensors={"a": "torch.ones(3, 1)", "b": "[1., 2., 3.]", "u": "[1.]"},
                                  trainable=("a", "u"), loss="a - b"))
    assert {"broadcast", "unused_trainable", "loss_summed"} <= {n.code for n in run.notes}
    for note in run.notes:
        assert note.en.strip() and CJK.search(note.zh)


# ---------------------------------------------------------------- 5. fuzzing: nothing but ExplorerError, quickly

TOKENS = (
    # names, modules, dunders
    ["w", "v", "x", "y", "a", "e", "loss", "loss_fn", "z", "T", "_", "torch", "F", "nn", "torch.nn",
     "torch.nn.functional", "__class__", "__dict__", "__import__", "__globals__", "__subclasses__", "__builtins__",
     "os", "open", "eval", "exec", "import", "from", "lambda", "if", "else", "for", "in", "not", "and", "yield",
     "print", "getattr", "True", "None", "'mean'", "'sum'", "'none'", "'x'", "b''", "f'{w}'"]
    + list(lang.FUNCTIONS) + list(lang.LOSSES) + list(lang.LOSS_CLASSES) + list(lang.METHODS)
    + [f"torch.{f}" for f in lang.FACTORIES]
    + ["storage", "numpy", "backward", "grad", "data", "detach", "item", "requires_grad_"]
    # numbers
    + ["0", "1", "2", "-1", "0.5", "3", "9", "64", "65", "1e9", "1e10", "1e400", "10**9", "1_000", "0x10", "1j"]
    # operators and punctuation
    + ["+", "-", "*", "/", "**", "@", "//", "%", "<", "==", ":=", "~", ",", ".", ":", ";", "=", "(", ")", "[", "]",
       "{", "}", "*", "**", "...", "\\"]
    # keywords the language knows
    + ["reduction=", "dim=", "keepdim=", "min=", "max=", "requires_grad=True", "dtype=torch.float", "dtype=torch.long"]
    # whitespace, comments, line breaks and look-alikes
    + [" ", " ", " ", "\n", "\r", "\r\n", "\t", "#", "# 损失", "\x00", "\uff57", "\uff08", "\uff09", "\uff0c",
       "\U0001d430", "\u0430", "损失"]
)
SOUP = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
FUZZ = settings(deadline=1000, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
FUZZ_TENSORS = {"w": "[[1., 2., 3.], [4., 5., 6.]]", "v": "[1., 2., 3.]", "x": "torch.ones(3, 2)",
                "y": "[[0., 1., 0.5], [0.5, 0., 1.]]"}


def only_explorer_errors(make_exp):
    start = time.perf_counter()
    exp = make_exp()
    try:
        explorer.run(exp)
    except ExplorerError as e:
        check_message(e, exp.loss + "".join(t for _, t in exp.tensors))
    assert time.perf_counter() - start < 1.0


def _loss_exp(text):
    return Experiment(tensors=FUZZ_TENSORS, trainable=("w",), loss=text)


def _tensor_exp(text):
    return Experiment(tensors={"t": text}, trainable=("t",), loss="t.sum()")


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_any_text_as_loss(text):
    only_explorer_errors(lambda: _loss_exp(text))


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_any_text_as_tensor(text):
    only_explorer_errors(lambda: _tensor_exp(text))


@FUZZ
@given(SOUP)
def test_fuzz_token_soup_as_loss(text):
    only_explorer_errors(lambda: _loss_exp(text))


@FUZZ
@given(SOUP)
def test_fuzz_token_soup_as_tensor(text):
    only_explorer_errors(lambda: _tensor_exp(text))


LINE = st.lists(st.sampled_from(["w", "v", "a", "loss", " ", "=", "+", ".", "sum()", "#", " x", "\uff53", "\u0430",
                                 "损", "(", ")"]), max_size=8).map("".join)
BREAK = st.sampled_from(["\n", "\r", "\r\n"])


@FUZZ
@given(st.lists(st.tuples(LINE, BREAK), min_size=1, max_size=5))
def test_fuzz_accepted_code_is_ascii_outside_comments(parts):
    """Whatever parses, every non-ASCII character sits after a # on its own line (as Python splits lines)."""
    text = "".join(a + b for a, b in parts)
    try:
        lang.parse_loss(text, "loss", ("w", "v"))
    except ExplorerError:
        return
    for line in re.split(r"\r\n|\r|\n", text):
        code = line.split("#", 1)[0]
        assert code.isascii(), f"non-ASCII code accepted: {text!r}"


@settings(deadline=1000, max_examples=150)
@given(st.sampled_from([c[2] for c in ESCAPES]), st.sampled_from([c[2] for c in ESCAPES]),
       st.sampled_from(["\n", "; ", " + ", "(", ")", ".", ", ", "\r"]))
def test_fuzz_escapes_spliced_together(a, b, glue):
    only_explorer_errors(lambda: _loss_exp(a + glue + b))
    only_explorer_errors(lambda: _tensor_exp(a + glue + b))


@settings(deadline=1000, max_examples=200)
@given(st.sampled_from([c[1] for c in ACCEPTED]), st.integers(0, 10_000), st.sampled_from(TOKENS))
def test_fuzz_mutated_accepted_losses(text, pos, token):
    """One token inserted anywhere into a valid loss: still ExplorerError or a run, never a crash."""
    pos %= len(text) + 1
    mutated = text[:pos] + token + text[pos:]
    only_explorer_errors(lambda: Experiment(tensors=TENSORS, trainable=("w", "b"), loss=mutated))


# a grammar of the language itself: valid programs that reach the evaluator, backward and the optimizers
GRAMMAR_TENSORS = {"w": "[[1., -2., 3.], [4., 5., -6.]]", "v": "[1., 2., 3.]", "s": "2.", "e": "torch.zeros(0, 3)",
                   "x": "torch.ones(3, 2)", "q": "torch.rand(2, 3, 1, 2)"}
_LEAF = st.sampled_from(list(GRAMMAR_TENSORS) + ["0", "1", "2", "-1", "0.5", "64", "1e9"])
_SMALL_INT = st.sampled_from(["0", "1", "-1", "2", "3"])
_KWARGS = ["", "dim=0", "dim=-1", "keepdim=True", "min=0", "max=1", "reduction='sum'"]


def _grow(child):
    arg = st.one_of(_SMALL_INT, child)
    return st.one_of(
        st.tuples(child, st.sampled_from(["+", "-", "*", "/", "**", "@"]), child).map(lambda t: f"({' '.join(t)})"),
        child.map(lambda a: f"-{a}"),
        st.tuples(st.sampled_from(["", "torch."]), st.sampled_from(list(lang.FUNCTIONS)), child,
                  st.lists(arg, max_size=2), st.sampled_from(_KWARGS)).map(
            lambda t: f"{t[0]}{t[1]}({', '.join([t[2], *t[3], *([t[4]] if t[4] else [])])})"),
        st.tuples(child, st.sampled_from(lang.METHODS), st.lists(arg, max_size=3), st.sampled_from(_KWARGS)).map(
            lambda t: f"({t[0]}).{t[1]}({', '.join([*t[2], *([t[3]] if t[3] else [])])})"),
        st.tuples(child, st.lists(st.sampled_from(["0", "-1", ":", "0:1", "1:", "::2", "5"]), min_size=1,
                                  max_size=3)).map(lambda t: f"({t[0]})[{', '.join(t[1])}]"),
        st.tuples(st.sampled_from(list(lang.LOSSES)), child, child).map(lambda t: f"F.{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(list(lang.LOSS_CLASSES)), child, child).map(
            lambda t: f"nn.{t[0]}()({t[1]}, {t[2]})"),
        child.map(lambda a: f"({a}).T"),
    )


PROGRAMS = st.tuples(st.lists(st.recursive(_LEAF, _grow, max_leaves=6), max_size=2),
                     st.recursive(_LEAF, _grow, max_leaves=6)).map(
    lambda t: "\n".join([f"a{i} = {e}" for i, e in enumerate(t[0])] + [t[1]]))


@settings(deadline=1000, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(PROGRAMS, st.sampled_from(["gd", "adam"]), st.booleans(), st.sampled_from([("w",), ("w", "v"), ("q", "e", "s")]))
def test_fuzz_programs_of_the_language(text, optimizer, zero_grad, trainable):
    only_explorer_errors(lambda: Experiment(tensors=GRAMMAR_TENSORS, trainable=trainable, loss=text, epochs=3,
                                            optimizer=optimizer, zero_grad=zero_grad))
