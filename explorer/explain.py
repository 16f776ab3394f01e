"""Backward, one step at a time, in words: the chain rule with the real numbers of this graph.

Each step says which node autograd ran, the gradient that arrived from above, the node's local
derivative, and what it sent to each input: sent = local derivative x arriving gradient.
"""
from __future__ import annotations

import torch

from .graph import Graph, Node, Preview
from .render import SMALL_NUMEL, fmt_tensor

# op class name -> (English, Chinese) local-derivative rule
RULES: dict[str, tuple[str, str]] = {
    "AddBackward0": ("d(a + b)/da = 1 and d(a + b)/db = 1: addition passes the gradient on unchanged "
                     "(summed over any broadcast dimension).",
                     "d(a + b)/da = 1,d(a + b)/db = 1:加法把梯度原样传下去(广播的维度上求和)。"),
    "SubBackward0": ("d(a - b)/da = 1 and d(a - b)/db = -1.", "d(a - b)/da = 1,d(a - b)/db = -1。"),
    "MulBackward0": ("d(a * b)/da = b and d(a * b)/db = a: each input gets the gradient times the other input.",
                     "d(a * b)/da = b,d(a * b)/db = a:每个输入得到「梯度 × 另一个输入」。"),
    "DivBackward0": ("d(a / b)/da = 1/b and d(a / b)/db = -a/b².", "d(a / b)/da = 1/b,d(a / b)/db = -a/b²。"),
    "PowBackward0": ("d(xⁿ)/dx = n·xⁿ⁻¹.", "d(xⁿ)/dx = n·xⁿ⁻¹。"),
    "PowBackward1": ("d(aᵇ)/da = b·aᵇ⁻¹ and d(aᵇ)/db = aᵇ·ln a.", "d(aᵇ)/da = b·aᵇ⁻¹,d(aᵇ)/db = aᵇ·ln a。"),
    "NegBackward0": ("d(-x)/dx = -1.", "d(-x)/dx = -1。"),
    "SumBackward0": ("d(sum x)/dxᵢ = 1: the gradient is copied to every element.",
                     "d(sum x)/dxᵢ = 1:梯度被复制给每一个元素。"),
    "SumBackward1": ("d(sum x)/dxᵢ = 1 along the summed dimension.", "沿求和的维度 d(sum x)/dxᵢ = 1。"),
    "MeanBackward0": ("d(mean x)/dxᵢ = 1/N: every element gets an equal share.",
                      "d(mean x)/dxᵢ = 1/N:每个元素分到相同的一份。"),
    "MeanBackward1": ("d(mean x)/dxᵢ = 1/N along the averaged dimension.", "沿求平均的维度 d(mean x)/dxᵢ = 1/N。"),
    "MmBackward0": ("Z = X·W: dL/dX = dL/dZ · Wᵀ and dL/dW = Xᵀ · dL/dZ.",
                    "Z = X·W:dL/dX = dL/dZ · Wᵀ,dL/dW = Xᵀ · dL/dZ。"),
    "MvBackward0": ("z = M·v: dL/dM = dL/dz · vᵀ and dL/dv = Mᵀ · dL/dz.",
                    "z = M·v:dL/dM = dL/dz · vᵀ,dL/dv = Mᵀ · dL/dz。"),
    "DotBackward0": ("z = a·b: dL/da = dL/dz · b and dL/db = dL/dz · a.", "z = a·b:dL/da = dL/dz · b,dL/db = dL/dz · a。"),
    "AddmmBackward0": ("Z = B + X·W: as a matrix product, plus the bias gets the gradient summed over rows.",
                       "Z = B + X·W:与矩阵乘法相同,偏置得到按行求和的梯度。"),
    "TanhBackward0": ("d tanh(x)/dx = 1 - tanh²(x).", "d tanh(x)/dx = 1 - tanh²(x)。"),
    "SigmoidBackward0": ("dσ(x)/dx = σ(x)·(1 - σ(x)).", "dσ(x)/dx = σ(x)·(1 - σ(x))。"),
    "ReluBackward0": ("d relu(x)/dx = 1 where x > 0, else 0.", "x > 0 时 d relu(x)/dx = 1,否则为 0。"),
    "ExpBackward0": ("d eˣ/dx = eˣ.", "d eˣ/dx = eˣ。"),
    "LogBackward0": ("d ln(x)/dx = 1/x.", "d ln(x)/dx = 1/x。"),
    "SqrtBackward0": ("d √x/dx = 1/(2√x).", "d √x/dx = 1/(2√x)。"),
    "AbsBackward0": ("d |x|/dx = sign(x).", "d |x|/dx = sign(x)。"),
    "SinBackward0": ("d sin(x)/dx = cos(x).", "d sin(x)/dx = cos(x)。"),
    "CosBackward0": ("d cos(x)/dx = -sin(x).", "d cos(x)/dx = -sin(x)。"),
    "ClampBackward1": ("1 where x is inside [min, max], 0 where it was clamped.", "x 在 [min, max] 内为 1,被截断处为 0。"),
    "ClampMinBackward0": ("1 where x ≥ min, 0 where it was clamped.", "x ≥ min 处为 1,被截断处为 0。"),
    "ClampMaxBackward0": ("1 where x ≤ max, 0 where it was clamped.", "x ≤ max 处为 1,被截断处为 0。"),
    "NormBackward1": ("d‖x‖/dx = x / ‖x‖.", "d‖x‖/dx = x / ‖x‖。"),
    "LinalgVectorNormBackward0": ("d‖x‖/dx = x / ‖x‖.", "d‖x‖/dx = x / ‖x‖。"),
    "MseLossBackward0": ("mse = mean((z - y)²), so d mse/dz = 2·(z - y)/N.",
                         "mse = mean((z - y)²),所以 d mse/dz = 2·(z - y)/N。"),
    "BinaryCrossEntropyBackward0": ("bce = -mean(y·ln p + (1-y)·ln(1-p)), so d bce/dp = (p - y) / (p·(1 - p)) / N.",
                                    "bce = -mean(y·ln p + (1-y)·ln(1-p)),所以 d bce/dp = (p - y) / (p·(1 - p)) / N。"),
    "BinaryCrossEntropyWithLogitsBackward0": ("With logits z: d bce/dz = (σ(z) - y)/N.",
                                              "对 logits z:d bce/dz = (σ(z) - y)/N。"),
    "SmoothL1LossBackward0": ("d/dz = (z - y)/β where |z - y| < β, else sign(z - y); divided by N.",
                              "|z - y| < β 时 d/dz = (z - y)/β,否则为 sign(z - y);再除以 N。"),
    "HuberLossBackward0": ("d/dz = (z - y) where |z - y| < δ, else δ·sign(z - y); divided by N.",
                           "|z - y| < δ 时 d/dz = z - y,否则为 δ·sign(z - y);再除以 N。"),
    "LogSoftmaxBackward0": ("d log_softmax(z)/dz = g - softmax(z)·sum(g).", "d log_softmax(z)/dz = g - softmax(z)·sum(g)。"),
    "NllLossBackward0": ("nll picks -log p of the target class: gradient -1/N there, 0 elsewhere.",
                         "nll 取目标类别的 -log p:该处梯度为 -1/N,其余为 0。"),
}
_SHAPE_ONLY = ("ViewBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0", "TBackward0", "PermuteBackward0",
               "SqueezeBackward0", "SqueezeBackward1", "UnsqueezeBackward0", "SelectBackward0", "SliceBackward0",
               "ExpandBackward0", "CloneBackward0", "SqueezeBackward2", "SqueezeBackward3")
_RESHAPE = ("Only moves values around (view, transpose, index): the gradient is moved back to where each "
            "value came from, unchanged; positions that were not used get 0.",
            "只移动数值(变形、转置、索引):梯度被原样送回每个值原来的位置,没有用到的位置得到 0。")
_GENERIC = ("Local derivative of this operation times the arriving gradient.", "本运算的局部导数乘以传来的梯度。")

_WORDS = {
    "en": dict(step="Step {k} of {n}", start="Step 0 of {n}: backward starts at the loss",
               seed="d {loss}/d {loss} = 1: that is the gradient every backward pass starts with.",
               arrives="Gradient arriving from above (d {loss} / d output)", rule="Local derivative",
               sends="Sent to {to}", chain="chain rule: sent = local derivative × arriving gradient",
               leaf="`{name}` is a leaf: AccumulateGrad adds the arriving gradient to `{name}.grad`.",
               total="`{name}.grad` is now", computes="computes", none="nothing (this input needs no gradient)",
               end="No step {k}: this graph has {n} backward steps."),
    "zh": dict(step="第 {k} 步(共 {n} 步)", start="第 0 步(共 {n} 步):反向传播从损失开始",
               seed="d {loss}/d {loss} = 1:每次反向传播都从这个梯度开始。",
               arrives="从上游传来的梯度(d {loss} / d 输出)", rule="局部导数",
               sends="传给 {to}", chain="链式法则:传下去的梯度 = 局部导数 × 传来的梯度",
               leaf="`{name}` 是叶子张量:AccumulateGrad 把传来的梯度累加到 `{name}.grad`。",
               total="`{name}.grad` 现在是", computes="计算", none="无(该输入不需要梯度)",
               end="没有第 {k} 步:这个图共有 {n} 步反向传播。"),
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


def explain_step(graph: Graph, k: int, lang: str = "en") -> str:
    """Markdown explaining backward step k (0 = the start at the loss)."""
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
        return "\n".join(lines)
    i = 1 if lang == "zh" else 0
    rule = RULES.get(node.op) or (_RESHAPE if node.op in _SHAPE_ONLY else _GENERIC)
    attrs = ", ".join(f"{a}={v}" for a, v in node.attrs)
    lines.append(f"- {w['rule']}: {rule[i]}" + (f" ({attrs})" if attrs else ""))
    incoming = node.grad
    for e in graph.inputs(node.id):
        src = graph.node(e.src)
        sent = fmt(e.grad) if e.grad is not None else w["none"]
        local = _local(e.grad, incoming)
        product = f"{local} × {fmt(incoming)} = " if local else ""
        lines.append(f"- {w['sends'].format(to=_label(src))}: {product}**{sent}**")
    lines.append(f"\n_{w['chain']}_")
    return "\n".join(lines)


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
