"""The op table against PyTorch's own metadata. For every row and every spelling of it (torch.f, F.f,
torch.linalg.f, x.f(), x.f_() in place, torch.nn.NameLoss()), the keywords the language accepts are
keywords PyTorch has for that function, and every keyword PyTorch documents is accepted or refused on
purpose, with its reason, in the one list `explorer.lang.REFUSED`.

What PyTorch documents is read from PyTorch itself: `inspect.signature` where the function is Python,
else the signatures its ATen operator registers (`torch._C._jit_get_schemas_for_operator`, `self`
being `input` in the function spellings) and the signature lines of its docstring.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import re

import pytest
import torch
import torch.nn.functional as F

import explorer
from explorer import Experiment, ExplorerError
from explorer.lang import OPS, REFUSED

MODULES = {"t": torch, "f": F, "m": torch.Tensor, "l": torch.linalg, "b": builtins}
FIRSTS = {"self", "input", "condition", "tensors", "equation", "x1"}
SIGNATURE_LINE = re.compile(r"^\s*(\w+)\((.*)\)\s*->")


def _python(fn) -> set[str] | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return {p.name for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and not p.name.startswith("_")}


def _schemas(aten: str) -> set[str]:
    out = set()
    for s in torch._C._jit_get_schemas_for_operator(f"aten::{aten}"):
        args = s.arguments
        if not args or args[0].name not in FIRSTS or "Tensor" not in str(args[0].type) or any(a.is_out for a in args):
            continue                                  # the overloads on numbers and lists, and the out= variants
        out |= {a.name for a in args}
    return out


def _docstring(fn, name) -> set[str]:
    out = set()
    for line in (getattr(fn, "__doc__", None) or "").splitlines()[:12]:
        m = SIGNATURE_LINE.match(line)
        if m and m[1] == name:
            try:
                tree = ast.parse(f"def f({m[2]}): pass")
            except SyntaxError:
                continue
            a = tree.body[0].args
            out |= {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    return out


def documented(op, spelling: str, inplace: bool = False) -> set[str]:
    """The keywords PyTorch has for one spelling of a row (the first argument's name among them)."""
    name = (op.name.partition(".")[2] or op.name) + ("_" if inplace else "")
    fn = getattr(MODULES[spelling], name)
    names = _python(fn)
    if names is None:                                 # a C function: its operator's schemas, else its docstring
        names = _schemas(f"linalg_{name}" if spelling == "l" else name) or _docstring(fn, name)
        names = {"input" if n == "self" else n for n in names}
    if spelling == "m":
        names -= {"self", "input"}
    return {n for n in names if not n.startswith("_")}


SPELLINGS = [(op, s, False) for op in OPS.values() for s in op.spell if s in "tfmlb"] + \
    [(op, "m", True) for op in OPS.values() if op.inplace]


@pytest.mark.parametrize("op,spelling,inplace", SPELLINGS,
                         ids=[f"{s}:{op.name}{'_' if i else ''}" for op, s, i in SPELLINGS])
def test_accepted_keywords_are_pytorch_s_and_the_rest_are_refused_with_a_reason(op, spelling, inplace):
    ours = set(op.param_names(spelling))
    theirs = documented(op, spelling, inplace)
    assert ours <= theirs, f"accepted but not PyTorch's: {sorted(ours - theirs)}"
    missing = theirs - ours - set(REFUSED)
    assert not missing, f"PyTorch documents {sorted(missing)}: accept them, or refuse them in REFUSED with a reason"


@pytest.mark.parametrize("op", [op for op in OPS.values() if op.module], ids=lambda op: op.module)
def test_loss_modules_accept_their_class_s_keywords(op):
    theirs = _python(getattr(torch.nn, op.module).__init__) - {"self"}
    ours = set(op.module_keywords if op.module_keywords is not None else op.keywords)
    assert ours <= theirs and not theirs - ours - set(REFUSED), (sorted(ours), sorted(theirs))


def test_every_refusal_is_of_a_keyword_pytorch_documents_and_has_a_reason_in_both_languages():
    every = set().union(*(documented(op, s, i) for op, s, i in SPELLINGS))
    every |= set().union(*(_python(getattr(torch.nn, op.module).__init__) for op in OPS.values() if op.module))
    assert set(REFUSED) <= every, sorted(set(REFUSED) - every)
    for key, (en, zh) in REFUSED.items():
        assert en and re.search(r"[\u3400-\u9fff]", zh), key


@pytest.mark.parametrize("loss,name", [
    ("torch.sum(w, dim=0, out=w).sum()", "out"), ("w.softmax(1, dtype=torch.float64).sum()", "dtype"),
    ("F.cross_entropy(w, torch.tensor([0, 1]), reduce=True)", "reduce"), ("w.clone(memory_format=1).sum()", "memory_format"),
    ("w.gather(1, torch.tensor([[0], [1]]), sparse_grad=True).sum()", "sparse_grad"),
    ("torch.nn.MSELoss(size_average=True)(w, w * 2)", "size_average"), ("w.to(device='cpu').sum()", "device"),
])
def test_a_refused_keyword_says_why_in_both_languages(loss, name):
    with pytest.raises(ExplorerError) as e:
        explorer.plan(Experiment(tensors={"w": "torch.ones(2, 2)"}, trainable=("w",), loss=loss))
    assert e.value.code == "refused_keyword" and f"{name}=" in e.value.en and f"{name}=" in e.value.zh
    assert REFUSED[name][0] in e.value.en and REFUSED[name][1] in e.value.zh


def test_every_keyword_a_row_accepts_is_taken_by_its_examples_or_a_spelling_test():
    """Keywords are not only listed: each row's own examples use a good part of them, and the parser
    accepts every one of them (value kinds are checked by the tests of test_ops and test_lang)."""
    used = {k for op in OPS.values() for ex in op.examples for k in re.findall(r"(\w+)=", ex)}
    accepted = {k for op in OPS.values() for s in op.spell if s in "tfml" for k in op.param_names(s)}
    assert len(used & accepted) >= 0.6 * len(accepted - {"input", "x1", "condition", "tensors"}), sorted(accepted - used)
