"""Backward, one step at a time, in words: the chain rule with the real numbers of this graph.

Each step says which node autograd ran, the gradient that arrived from above, the node's local
derivative, and what it sent to each input: sent = local derivative x arriving gradient.
"""
from __future__ import annotations

import torch

from .errors import fullwidth
from .graph import Graph, Node, Preview
from .lang.ops import rules
from .render import SMALL_NUMEL, fmt_tensor

# grad_fn class name -> (English, Chinese) local-derivative rule, from the op table
RULES: dict[str, tuple[str, str]] = rules()
_GENERIC = ("Local derivative of this operation times the arriving gradient.", "本运算的局部导数乘以传来的梯度。")

_WORDS = {
    "en": dict(step="Step {k} of {n}", start="Step 0 of {n}: backward starts at the loss",
               seed="d {loss}/d {loss} = 1: that is the gradient every backward pass starts with.",
               arrives="Gradient arriving from above (d {loss} / d output)", rule="Local derivative",
               sends="Sent to {to}", chain="chain rule: sent = local derivative × arriving gradient",
               leaf="`{name}` is a leaf: AccumulateGrad adds the arriving gradient to `{name}.grad`.",
               total="`{name}.grad` is now", computes="computes", none="nothing (this input needs no gradient)",
               end="No step {k}: this graph has {n} backward steps.",
               check="Check: a float64 central difference (L(w + ε) − L(w − ε)) / 2ε estimates d {loss}/d {name} "
                     "as **{est}**; the largest difference from autograd's gradient is {err}{part}.",
               part=" (over {k} of {n} elements)", nocheck="Check: not run, this loss is too big to evaluate twice "
                                                              "per element.",
               detached="Nothing is sent to {name}: a detached value is a constant to autograd (it has no "
                        "grad_fn and no edge back to where it came from), so the gradient path is cut there."),
    "zh": dict(step="第 {k} 步(共 {n} 步)", start="第 0 步(共 {n} 步):反向传播从损失开始",
               seed="d {loss}/d {loss} = 1:每次反向传播都从这个梯度开始。",
               arrives="从上游传来的梯度(d {loss} / d 输出)", rule="局部导数",
               sends="传给 {to}", chain="链式法则:传下去的梯度 = 局部导数 × 传来的梯度",
               leaf="`{name}` 是叶子张量:AccumulateGrad 把传来的梯度累加到 `{name}.grad`。",
               total="`{name}.grad` 现在是", computes="计算", none="无(该输入不需要梯度)",
               end="没有第 {k} 步:这个图共有 {n} 步反向传播。",
               check="检验：用 float64 中心差分 (L(w + ε) − L(w − ε)) / 2ε 估计 d {loss}/d {name}，得到 **{est}**；"
                     "与 autograd 梯度的最大差为 {err}{part}。",
               part="（检验了 {n} 个元素中的 {k} 个）", nocheck="检验：没有进行，这个损失太大，无法为每个元素各算两次。",
               detached="不向 {name} 传梯度:detach 之后的值对 autograd 来说是常数(没有 grad_fn,也没有指回来源的边),"
                        "梯度路径在这里被切断。"),
}


def fmt(t) -> str:
    """The graph's own number format, plus the shape where only the first values are shown."""
    if isinstance(t, (torch.Tensor, Preview)) and t.numel() > SMALL_NUMEL:
        return f"{fmt_tensor(t)} ({'×'.join(map(str, t.shape))})"
    return fmt_tensor(t) if isinstance(t, (torch.Tensor, Preview)) or t is None else str(t)


def _label(node: Node) -> str:
    if node.kind == "op":
        return f"`{node.name} = {node.label}`" if node.name else f"`{node.label}`"
    return f"`{node.label}`"


def explain_step(graph: Graph, k: int, lang: str = "en", check=None) -> str:
    """Markdown explaining backward step k (0 = the start at the loss); Chinese sentences get
    full-width punctuation, as every message of the app does. With `check` (a gradcheck Report of
    the same epoch), a leaf's step also gives the finite-difference estimate of its gradient."""
    text = _explain(graph, k, lang, check)
    return fullwidth(text) if lang == "zh" else text


def _explain(graph: Graph, k: int, lang: str, check=None) -> str:
    w = _WORDS["zh" if lang == "zh" else "en"]
    n = graph.steps
    out = next(x for x in graph.nodes if x.kind == "output")
    loss = out.label
    if k == 0:
        return f"**{w['start'].format(n=n)}** — {_label(out)} = {fmt(out.value)}\n\n{w['seed'].format(loss=loss)}"
    node = graph.step(k)
    if node is None:
        return w["end"].format(k=k, n=n)
    lines = [f"**{w['step'].format(k=k, n=n)}: {_label(node)}**", ""]
    lines.append(f"- {w['arrives'].format(loss=loss)}: **{fmt(_arriving(graph, node))}**")
    if node.kind == "leaf":
        lines.append(f"- {w['leaf'].format(name=node.label)}")
        lines.append(f"- {w['total'].format(name=node.label)} **{fmt(node.grad)}**")
        c = next((c for c in check.checks if c.name == node.label), None) if check else None
        if c is not None and c.reached:
            lines.append(f"- {_check(c, w, loss)}")
        return "\n".join(lines)
    i = 1 if lang == "zh" else 0
    rule = RULES.get(node.op) or _GENERIC
    attrs = ", ".join(f"{a}={v}" for a, v in node.attrs)
    lines.append(f"- {w['rule']}: {rule[i]}" + (f" ({attrs})" if attrs else ""))
    incoming = node.grad
    for e in graph.inputs(node.id):
        src = graph.node(e.src)
        sent = fmt(e.grad) if e.grad is not None else w["none"]
        local = _local(e.grad, incoming)
        product = f"{local} × {fmt(incoming)} = " if local else ""
        lines.append(f"- {w['sends'].format(to=_label(src))}: {product}**{sent}**")
    for e in graph.inputs(node.id, "saved"):
        if e.label == "detached":
            lines.append(f"- {w['detached'].format(name=_label(graph.node(e.src)))}")
    lines.append(f"\n_{w['chain']}_")
    return "\n".join(lines)


def _check(c, w: dict, loss: str) -> str:
    """The leaf's estimated gradient, shaped like it when every element was checked."""
    if not c.rows:
        return w["nocheck"]
    if len(c.rows) == c.numel <= SMALL_NUMEL:      # ten digits: an estimate, close to autograd's but not equal
        est = _digits(torch.tensor([r.estimate for r in c.rows], dtype=torch.float64).reshape(c.shape).tolist())
        part = ""
    elif len(c.rows) == c.numel:
        est = fmt(torch.tensor([r.estimate for r in c.rows], dtype=torch.float64).reshape(c.shape))
        part = ""
    else:
        est = ", ".join(f"{c.name}{r.index} ≈ {r.estimate:.10g}" for r in c.rows[:3]) + ", …"
        part = w["part"].format(k=len(c.rows), n=f"{c.numel:,}")
    return w["check"].format(loss=loss, name=c.name, est=est, err=f"{c.max_error:.2e}", part=part)


def _digits(v) -> str:
    return "[" + ", ".join(_digits(x) for x in v) + "]" if isinstance(v, list) else f"{v:.10g}"


def _arriving(graph: Graph, node: Node):
    """What arrived at this node on this pass (for a leaf: the edge's gradient, not the accumulated .grad)."""
    if node.kind != "leaf":
        return node.grad
    grads = [e.grad for e in graph.consumers(node.id) if e.grad is not None]
    if not grads:
        return None
    return grads[0] if len(grads) == 1 else sum(grads[1:], grads[0] + 0)


def _local(sent, incoming) -> str:
    """sent ÷ arriving, where that is element-wise and well defined: the number the rule produced."""
    if sent is None or incoming is None or sent.numel() > 6 or sent.shape != incoming.shape:
        return ""
    if not bool((incoming != 0).all()):
        return ""
    return fmt(sent / incoming)
