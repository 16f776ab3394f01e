"""Predict, then reveal: the question each backward step asks before it shows its answer, and a guess
judged against the real float32 value with a diagnosis of where it went wrong.

Watching a demonstration teaches little; predicting first does (the issue that asked for this cites the
studies). At a step that computes a gradient the question is "what gradient does <grad_fn> send to
<input>?"; at a leaf, whose step finishes its gradient, "what is w after this step?" (the update). The
answers come from the run itself, never typed in. A big answer is asked one element at a time: the one
with the largest |value|, which is also the one the explanation works out.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import lang
from .errors import ExplorerError, fullwidth
from .graph import Graph, Node, Preview
from .numbers import SMALL_NUMEL, float32, index, nested, num

RTOL = 1e-3              # a guess within this relative distance of the float32 value is right
ATOL = 1e-6              # ... or within this of it, where the value is (nearly) 0

WORDS = {
    "en": dict(
        grad="What gradient does `{op}` send to {to}?", update="What is {to} after this step?",
        output="the output of `{op}`",
        element="Give element `{at}` (its shape is {shape}).", whole="Shape {shape}.", scalar="A number.",
        right="Right: {answer}.", wrong="Not quite: you gave {guess}, autograd computed {answer}.",
        shape="The shape is off: you gave {got}, the answer has shape {want}.",
        transposed="You gave the transpose: the answer has shape {want}, the shape of `{to}` itself.",
        sign="The sign is flipped: the size is right.",
        scale="Off by a factor of {r}: the pattern is right.",
        arriving="That is the gradient that arrived, passed on unchanged: multiply it by the local derivative.",
        local="That is the local derivative alone: multiply it by the gradient that arrived.",
        constant="You multiplied the arriving gradient by {c}, but the local derivative here is not a constant: {rule}",
        update_grad="That is the gradient; the step moves the weight: {to} − lr·grad (lr = {lr}).",
        update_sign="The step goes the other way: {to} − lr·grad, against the gradient.",
        score="{right} of {asked} right", unknown="a gradient"),
    "zh": dict(
        grad="`{op}` 传给 {to} 的梯度是多少？", update="这一步之后 {to} 是多少？",
        output="`{op}` 的输出",
        element="请给出元素 `{at}`（它的形状是 {shape}）。", whole="形状 {shape}。", scalar="一个数。",
        right="答对了：{answer}。", wrong="不太对：你给的是 {guess}，autograd 算出的是 {answer}。",
        shape="形状不对：你给的是 {got}，答案的形状是 {want}。",
        transposed="你给的是转置：答案的形状是 {want}，也就是 `{to}` 本身的形状。",
        sign="符号反了：大小是对的。", scale="差了 {r} 倍：规律是对的。",
        arriving="这是传来的梯度，原样传下去了：还要乘以局部导数。",
        local="这只是局部导数：还要乘以传来的梯度。",
        constant="你把传来的梯度乘以了 {c}，但这里的局部导数不是常数：{rule}",
        update_grad="这是梯度；这一步要更新权重：{to} − lr·grad（lr = {lr}）。",
        update_sign="方向反了：{to} − lr·grad，沿梯度的反方向走。",
        score="答对 {right} / {asked} 题", unknown="梯度"),
}


@dataclass(frozen=True)
class Question:
    """What step `step` asks, and its answer (never shown before the student has answered)."""
    step: int
    kind: str                           # "grad": what a grad_fn sends an input; "update": a weight after the step
    op: str                             # the grad_fn ("MulBackward0"), or the leaf's AccumulateGrad
    to: str                             # the input or weight, as the student names it
    value: torch.Tensor                 # the float32 answer asked for: the whole value, or one element
    shape: tuple                        # the whole value's shape
    element: tuple | None = None        # the element asked for, when the value is too big to type
    arriving: torch.Tensor | None = None   # the gradient that arrived at the node (for the diagnosis)
    rule: tuple = ("", "")              # the local derivative, in words (en, zh)
    lr: float | None = None             # the update's learning rate
    before: torch.Tensor | None = None  # the weight before the update, and its gradient (for the diagnosis)
    grad: torch.Tensor | None = None
    output: bool = False                # `to` names a grad_fn: the question is about the value it made

    def prompt(self, lang: str = "en") -> str:
        w = WORDS["zh" if lang == "zh" else "en"]
        to = w["output"].format(op=self.to) if self.output else f"`{self.to}`"
        text = w[self.kind].format(op=self.op, to=to)
        if self.element is not None:
            at = index(self.element) if self.output else f"{self.to}{index(self.element)}"
            text += " " + w["element"].format(at=at, shape=_shape(self.shape))
        else:
            text += " " + (w["whole"].format(shape=_shape(self.shape)) if self.shape else w["scalar"])
        return fullwidth(text) if lang == "zh" else text


@dataclass(frozen=True)
class Verdict:
    right: bool
    message: tuple                      # (en, zh)
    why: str = ""                       # "", "shape", "transposed", "sign", "scale", "arriving", "local",
                                        # "constant", "update_grad", "update_sign", "wrong"

    def text(self, lang: str = "en") -> str:
        return self.message[1] if lang == "zh" else self.message[0]


def questions(graph: Graph, run=None, epoch: int = 1) -> dict[int, Question]:
    """{step: Question} for every step of this epoch's backward that computes something to predict:
    an op's gradient to one input (a leaf's path first), or, at a leaf, the weight after the update
    (from `run`'s history; without a run a leaf asks nothing)."""
    out = {}
    for k in range(1, graph.steps + 1):
        node = graph.step(k)
        q = _grad_question(graph, node, k) if node.kind == "op" else \
            _update_question(node, k, run, epoch) if node.kind == "leaf" and run is not None else None
        if q is not None:
            out[k] = q
    return out


def _grad_question(graph: Graph, node: Node, k: int) -> Question | None:
    from .explain import RULES
    edges = [e for e in graph.inputs(node.id) if e.grad is not None]
    if not edges:
        return None
    leafward = sorted(edges, key=lambda e: graph.node(e.src).kind != "leaf")
    e = leafward[0]
    src = graph.node(e.src)
    to = src.label if src.kind == "leaf" else src.name or f"{src.label}"
    if src.kind == "op" and not src.name:
        to = ("", "")        # an unnamed value: said as the output of its grad_fn
    value, element = _asked(e.grad)
    arriving = node.grad if isinstance(node.grad, torch.Tensor) else None
    return Question(k, "grad", node.op or node.label, to if isinstance(to, str) else src.label, value,
                    tuple(e.grad.shape), element, arriving, RULES.get(node.op, ("", "")), output=not isinstance(to, str))


def _update_question(node: Node, k: int, run, epoch: int) -> Question | None:
    h = run.history
    name = node.label
    if name not in h.names or epoch > len(h) or h.grads[name] is None:
        return None
    rec = h[epoch - 1]
    after = rec.next_params[name]
    value, element = _asked(after)
    if element is not None:                 # the element whose gradient the explanation works out
        _, element = _asked(rec.grads[name])
        value = after[element].clone()
    return Question(k, "update", node.op or "AccumulateGrad", name, value, tuple(after.shape), element,
                    lr=run.experiment.lr, before=rec.params[name], grad=rec.grads[name])


def _asked(t) -> tuple[torch.Tensor, tuple | None]:
    """The whole value if it is small enough to type, else its largest-|value| element and where it is."""
    if isinstance(t, Preview):
        if t.top:
            i, v = t.top[0]
            return torch.tensor(v, dtype=torch.float32), tuple(i)
        return t.head[:1].reshape(()), tuple(0 for _ in t.shape)
    t = t.detach()
    if t.numel() <= SMALL_NUMEL:
        return t.clone(), None
    where = tuple(int(v) for v in torch.unravel_index(t.abs().reshape(-1).nan_to_num(0).argmax(), t.shape))
    return t[where].clone(), where


def parse_guess(text: str) -> torch.Tensor:
    """A number or a tensor literal (`[40, 80]`, `torch.tensor([40., 80.])`) as float32, read by the safe
    language: a guess is student text like any other."""
    spec = lang.parse_tensor(text, "guess")
    if spec.random:
        raise ExplorerError("not_allowed", "guess", what=f"torch.{spec.factory}",
                            allowed="Type the numbers themselves, like [40, 80].")
    return spec.make()


def judge(q: Question, text: str) -> Verdict:
    """Right when the shape matches and every value is within RTOL of autograd's float32 value (or ATOL
    of it near 0); wrong with the first diagnosis that fits: shape, transposed, sign, the arriving
    gradient passed on, the local derivative alone, a constant where the derivative is not, a scale."""
    guess = parse_guess(text)
    want = q.value.detach().to(torch.float64)
    g = guess.to(torch.float64)
    answer = float32(q.value.tolist())
    en, zh = WORDS["en"], WORDS["zh"]
    if g.numel() == 1 and want.numel() == 1:
        g = g.reshape(want.shape)
    if g.shape != want.shape:
        if q.element is None and want.dim() == 2 and g.shape == want.T.shape and _close(g.T, want):
            return _wrong("transposed", en["transposed"].format(want=_shape(want.shape), to=q.to),
                          zh["transposed"].format(want=_shape(want.shape), to=q.to))
        got = _shape(tuple(g.shape))
        return _wrong("shape", en["shape"].format(got=got, want=_shape(want.shape)),
                      zh["shape"].format(got=got, want=_shape(want.shape)))
    if _close(g, want):
        return Verdict(True, (en["right"].format(answer=answer), fullwidth(zh["right"].format(answer=answer))))
    why = _diagnose(q, g, want)
    typed = nested(guess.tolist())
    head = (en["wrong"].format(guess=typed, answer=answer), zh["wrong"].format(guess=typed, answer=answer))
    return Verdict(False, (head[0] + (" " + why[1] if why[1] else ""),
                           fullwidth(head[1] + (why[2] if why[2] else ""))), why[0])


def _wrong(why: str, en: str, zh: str) -> Verdict:
    return Verdict(False, (en, fullwidth(zh)), why)


def _close(g: torch.Tensor, want: torch.Tensor) -> bool:
    return bool(torch.isclose(g, want, rtol=RTOL, atol=ATOL).all())


def _diagnose(q: Question, g: torch.Tensor, want: torch.Tensor) -> tuple[str, str, str]:
    en, zh = WORDS["en"], WORDS["zh"]
    if _close(g, -want) and bool((want != 0).any()):
        return "sign", en["sign"], zh["sign"]
    if q.kind == "update":
        grad = _part(q.grad, q.element)
        before = _part(q.before, q.element)
        if grad is not None and _close(g, grad):
            return ("update_grad", en["update_grad"].format(to=q.to, lr=q.lr),
                    zh["update_grad"].format(to=q.to, lr=q.lr))
        if grad is not None and before is not None and _close(g, before + q.lr * grad):
            return "update_sign", en["update_sign"].format(to=q.to), zh["update_sign"].format(to=q.to)
    arriving = _part(q.arriving, q.element) if q.arriving is not None and q.arriving.shape == q.shape else None
    if arriving is not None and arriving.numel() == want.numel():
        a = arriving.to(torch.float64).reshape(want.shape)
        if _close(g, a):
            return "arriving", en["arriving"], zh["arriving"]
        nonzero = a != 0
        if bool(nonzero.all()):
            local = want / a
            if _close(g, local) and not _close(a, torch.ones_like(a)):
                return "local", en["local"], zh["local"]
            c = g / a
            if want.numel() > 1 and _constant(c) and not _constant(local):
                c0 = num(float(c.reshape(-1)[0]))
                return ("constant", en["constant"].format(c=c0, rule=q.rule[0]),
                        zh["constant"].format(c=c0, rule=q.rule[1]))
    nonzero = want != 0
    if bool(nonzero.all()) and bool((g != 0).all()):
        r = g / want
        if _constant(r):
            r0 = num(float(r.reshape(-1)[0]))
            return "scale", en["scale"].format(r=r0), zh["scale"].format(r=r0)
    return "wrong", "", ""


def _constant(t: torch.Tensor) -> bool:
    """Every element the same (a 0-d tensor is)."""
    return _close(t, t.reshape(-1)[0].expand_as(t))


def _part(t, element):
    if t is None or isinstance(t, Preview):
        return None
    t = t.detach().to(torch.float64)
    return t[element] if element is not None else t


def _shape(s: tuple) -> str:
    return "(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")"


def score(right: int, asked: int, lang: str = "en") -> str:
    """"3 of 4 right", in the page's language."""
    return WORDS["zh" if lang == "zh" else "en"]["score"].format(right=right, asked=asked)
