"""Backward, one step at a time, in words: the chain rule with the real numbers of this graph.

Each step says which node autograd ran, the gradient that arrived from above, the node's local
derivative, and what it sent to each input: sent = local derivative x arriving gradient.
"""
from __future__ import annotations

import torch

from .errors import fullwidth
from .graph import Graph, Node
from .lang.ops import rules, worked
from .numbers import SMALL_NUMEL, described, digits, factor, index, num, tensor

# grad_fn class name -> (English, Chinese) local-derivative rule, from the op table
RULES: dict[str, tuple[str, str]] = rules()
WORKED: dict[str, str] = worked()      # grad_fn class name -> "matmul", "mse", "broadcast", "softmax", ...
SMALL_SIDE = 6          # matrices up to 6×6 are written out whole; bigger ones get one element worked out
MAX_TERMS = 6           # terms of a worked sum written out before "…"
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
               part=" (over {k} of {n} elements)",
               cut=" They differ on purpose here: the estimate also moves the value `.detach()` took from a weight, "
                   "which autograd treats as a constant.", nocheck="Check: not run, this loss is too big to evaluate twice "
                                                              "per element.",
               numbers="With the numbers:", largest="the element with the largest |gradient|; the others work "
                                                          "the same way", more="{n} more terms",
               row="the row with the largest |gradient|; the other rows work the same way",
               rows="dL/d{name}, summed over the {n} rows it was broadcast along",
               detached="Nothing is sent to {name}: a detached value is a constant to autograd (it has no "
                        "grad_fn and no edge back to where it came from), so the gradient path is cut there.",
               inplace="In place: `{code}` changed `{name}` itself, and its version counter went from {before} to "
                       "{after}. Autograd recorded the change as this node, on top of `{name}`'s history: the nodes "
                       "below it are how `{name}` was computed before the change."),
    "zh": dict(step="第 {k} 步(共 {n} 步)", start="第 0 步(共 {n} 步):反向传播从损失开始",
               seed="d {loss}/d {loss} = 1:每次反向传播都从这个梯度开始。",
               arrives="从上游传来的梯度(d {loss} / d 输出)", rule="局部导数",
               sends="传给 {to}", chain="链式法则:传下去的梯度 = 局部导数 × 传来的梯度",
               leaf="`{name}` 是叶子张量:AccumulateGrad 把传来的梯度累加到 `{name}.grad`。",
               total="`{name}.grad` 现在是", computes="计算", none="无(该输入不需要梯度)",
               end="没有第 {k} 步:这个图共有 {n} 步反向传播。",
               check="检验：用 float64 中心差分 (L(w + ε) − L(w − ε)) / 2ε 估计 d {loss}/d {name}，得到 **{est}**；"
                     "与 autograd 梯度的最大差为 {err}{part}。",
               part="（检验了 {n} 个元素中的 {k} 个）",
               cut="这里两者本来就不同：数值估计也会改变 `.detach()` 从权重得到的值，而 autograd 把它当作常数。", nocheck="检验：没有进行，这个损失太大，无法为每个元素各算两次。",
               numbers="代入数字：", largest="梯度绝对值最大的那个元素；其余元素同理", more="还有 {n} 项",
               row="梯度绝对值最大的那一行；其余各行同理",
               rows="dL/d{name} 在广播出来的 {n} 行上求和",
               detached="不向 {name} 传梯度:detach 之后的值对 autograd 来说是常数(没有 grad_fn,也没有指回来源的边),"
                        "梯度路径在这里被切断。",
               inplace="原地修改:`{code}` 直接改变了 `{name}` 本身,它的版本计数器从 {before} 变成 {after}。autograd "
                       "把这次修改记录为这个节点,放在 `{name}` 原来的计算历史之上:它下面的节点就是 `{name}` 在修改之前的"
                       "计算过程。"),
}


def fmt(t, lang: str = "en") -> str:
    """A value as an explanation says it (see numbers.described)."""
    return described(t, lang)


def _label(node: Node) -> str:
    if node.kind == "op":
        return f"`{node.name} = {node.label}`" if node.name else f"`{node.label}`"
    return f"`{node.label}`"


def explain_step(graph: Graph, k: int, lang: str = "en", check=None, worked: bool = True,
                 conceal: bool = False) -> str:
    """Markdown explaining backward step k (0 = the start at the loss); Chinese sentences get
    full-width punctuation, as every message of the app does. With `check` (a gradcheck Report of
    the same epoch), a leaf's step also gives the finite-difference estimate of its gradient.
    `worked=False` leaves out the step's numbers worked out (`worked_numbers`), for a page that
    shows them apart: aligned matrices are taller than a projected screen has room for beside a graph.
    `conceal=True` (predict mode, before the answer) says the rule and what arrived, and "?" for what the
    step sends, its worked numbers, and, at a leaf, the total and its check."""
    text = _explain(graph, k, lang, check, worked and not conceal, conceal)
    return fullwidth(text) if lang == "zh" else text


def worked_numbers(graph: Graph, k: int, lang: str = "en") -> str:
    """Markdown of step k's rule worked out with this graph's numbers ("" where the op has none)."""
    node = graph.step(k) if k else None
    text = "\n".join(_worked(graph, node, _WORDS["zh" if lang == "zh" else "en"])) if node is not None else ""
    return fullwidth(text) if lang == "zh" else text


def _worked(graph: Graph, node: Node, w: dict) -> list[str]:
    how = WORKED.get(node.op)
    if not how:
        return []
    try:
        return _WORKERS[how](graph, node, w)
    except (RuntimeError, ValueError, IndexError, TypeError):   # unusual shapes: the rule still stands
        return []


def _explain(graph: Graph, k: int, lang: str, check=None, worked: bool = True, conceal: bool = False) -> str:
    w = _WORDS["zh" if lang == "zh" else "en"]
    n = graph.steps
    out = next(x for x in graph.nodes if x.kind == "output")
    loss = out.label
    if k == 0:
        return f"**{w['start'].format(n=n)}** — {_label(out)} = {fmt(out.value, lang)}\n\n{w['seed'].format(loss=loss)}"
    node = graph.step(k)
    if node is None:
        return w["end"].format(k=k, n=n)
    lines = [f"**{w['step'].format(k=k, n=n)}: {_label(node)}**", ""]
    lines.append(f"- {w['arrives'].format(loss=loss)}: **{fmt(_arriving(graph, node), lang)}**")
    if node.kind == "leaf":
        lines.append(f"- {w['leaf'].format(name=node.label)}")
        lines.append(f"- {w['total'].format(name=node.label)} **{fmt(node.grad, lang)}**")
        c = next((c for c in check.checks if c.name == node.label), None) if check and not conceal else None
        if c is not None and c.reached:
            edges = "".join(("" if lang == "zh" else " ") + n.message(lang) for n in check.notes
                            if n.details.get("name") == c.name)
            lines.append(f"- {_check(c, w, loss)}" + (w["cut"] if check.detached else "") + edges)
        return "\n".join(lines)
    i = 1 if lang == "zh" else 0
    rule = RULES.get(node.op) or _GENERIC
    attrs = ", ".join(f"{a}={v}" for a, v in node.attrs if a != "in_place")
    lines.append(f"- {w['rule']}: {rule[i]}" + (f" ({attrs})" if attrs else ""))
    if node.change:
        code, name, before, after = node.change
        lines.append(f"- {w['inplace'].format(code=code, name=name, before=before, after=after)}")
    incoming = node.grad
    for e in graph.inputs(node.id):
        src = graph.node(e.src)
        sent = "?" if conceal and e.grad is not None else fmt(e.grad, lang) if e.grad is not None else w["none"]
        local = "" if conceal else _local(e.grad, incoming)
        product = f"{local} × {fmt(incoming, lang)} = " if local else ""
        lines.append(f"- {w['sends'].format(to=_label(src))}: {product}**{sent}**")
    if worked:
        lines += _worked(graph, node, w)
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
        est = digits(torch.tensor([r.estimate for r in c.rows], dtype=torch.float64).reshape(c.shape).tolist())
        part = ""
    elif len(c.rows) == c.numel:
        est = fmt(torch.tensor([r.estimate for r in c.rows], dtype=torch.float64).reshape(c.shape))
        part = ""
    else:
        est = ", ".join(f"{c.name}{r.index} ≈ {r.estimate:.10g}" for r in c.rows[:3]) + ", …"
        part = w["part"].format(k=len(c.rows), n=f"{c.numel:,}")
    return w["check"].format(loss=loss, name=c.name, est=est, err=f"{c.max_error:.2e}", part=part)


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


# ---------------------------------------------------------------- worked numbers

def _full(t) -> bool:
    return isinstance(t, torch.Tensor)


def _name(node: Node, fallback: str) -> str:
    return node.name or (node.label if node.kind in ("leaf", "data") else fallback)


def _saved(graph: Graph, node: Node, label: str) -> Node | None:
    return next((graph.node(e.src) for e in graph.inputs(node.id, "saved") if e.label == label), None)


def _matrix(t: torch.Tensor) -> list[str]:
    """A vector or matrix as aligned rows of text, for a code block."""
    rows = t.reshape(1, -1).tolist() if t.dim() < 2 else t.tolist()
    cells = [[num(float(v)) for v in r] for r in rows]
    width = max(len(c) for r in cells for c in r)
    out = [" ".join(c.rjust(width) for c in r) for r in cells]
    if len(out) == 1:
        return ["[" + out[0] + "]"]
    return [("⎡" if i == 0 else "⎣" if i == len(out) - 1 else "⎢") + r + ("⎤" if i == 0 else "⎦" if i == len(out) - 1
                                                                         else "⎥") for i, r in enumerate(out)]


def _side_by_side(*parts) -> str:
    """Matrices and operators on one line, operators on the middle row, as a fenced code block."""
    blocks = [p if isinstance(p, list) else [p] for p in parts]
    height = max(len(b) for b in blocks)
    lines = [""] * height
    for b in blocks:
        width = max(len(x) for x in b)
        top = (height - len(b)) // 2
        for i in range(height):
            j = i - top
            lines[i] += (b[j] if 0 <= j < len(b) else "").ljust(width)
    return "```\n" + "\n".join(x.rstrip() for x in lines) + "\n```"


def _small(*ts) -> bool:
    return all(t.dim() <= 2 and all(s <= SMALL_SIDE for s in t.shape) for t in ts)


def _sum_terms(pairs, w: dict) -> str:
    shown = [f"{factor(a)}·{factor(b)}" for a, b in pairs[:MAX_TERMS]]
    if len(pairs) > MAX_TERMS:
        shown.append(f"… ({w['more'].format(n=len(pairs) - MAX_TERMS)})")
    return " + ".join(shown)


def _argmax(t: torch.Tensor) -> tuple:
    return tuple(int(v) for v in torch.unravel_index(t.abs().reshape(-1).argmax(), t.shape))


def _matmul_numbers(graph: Graph, node: Node, w: dict) -> list[str]:
    """Z = X·W: dL/dW = Xᵀ·dL/dZ and dL/dX = dL/dZ·Wᵀ with this graph's numbers (2-D operands)."""
    g = node.grad
    flows = graph.inputs(node.id)
    xs, ws = _saved(graph, node, "self"), _saved(graph, node, "mat2")
    if xs is None:            # X needs no saving when W needs no gradient: it is the first flow input
        xs = graph.node(flows[0].src) if flows else None
    if ws is None:
        ws = next((graph.node(e.src) for e in flows if xs is None or e.src != xs.id), None)
    if xs is None or ws is None or not (_full(g) and _full(xs.value) and _full(ws.value)):
        return []
    X, W = xs.value, ws.value
    if X.dim() != 2 or W.dim() != 2 or g.dim() != 2:
        return []
    xn, wn = _name(xs, "X"), _name(ws, "W")
    zn = node.name or "Z"
    out = [f"- {w['numbers']}"]
    for e in flows:
        if not _full(e.grad):
            continue
        if e.src == ws.id:
            head = f"dL/d{wn} = {xn}ᵀ · dL/d{zn}"
            if _small(X, g, e.grad):
                out.append(f"\n  {head}\n\n" + _indent(_side_by_side(_matrix(X.t()), " · ", _matrix(g), " = ",
                                                                        _matrix(e.grad))))
            else:
                i, j = _argmax(e.grad)
                terms = _sum_terms(list(zip(X[:, i].tolist(), g[:, j].tolist())), w)
                out.append(f"\n  {head}: dL/d{wn}{index((i, j))} = Σₖ {xn}[k, {i}] · dL/d{zn}[k, {j}] = {terms} "
                           f"= **{num(float(e.grad[i, j]))}** ({w['largest']})")
        if e.src == xs.id and e.src != ws.id:
            head = f"dL/d{xn} = dL/d{zn} · {wn}ᵀ"
            if _small(W, g, e.grad):
                out.append(f"\n  {head}\n\n" + _indent(_side_by_side(_matrix(g), " · ", _matrix(W.t()), " = ",
                                                                        _matrix(e.grad))))
            else:
                i, j = _argmax(e.grad)
                terms = _sum_terms(list(zip(g[i, :].tolist(), W[j, :].tolist())), w)
                out.append(f"\n  {head}: dL/d{xn}{index((i, j))} = Σₖ dL/d{zn}[{i}, k] · {wn}[{j}, k] = {terms} "
                           f"= **{num(float(e.grad[i, j]))}** ({w['largest']})")
    return out if len(out) > 1 else []


def _indent(block: str) -> str:
    return "\n".join("  " + x for x in block.split("\n"))


def _mse_numbers(graph: Graph, node: Node, w: dict) -> list[str]:
    """mse = mean((z − y)²): dL/dz = 2·(z − y)/N times the arriving gradient, with the numbers."""
    zs, ys = _saved(graph, node, "self"), _saved(graph, node, "target")
    edge = next((e for e in graph.inputs(node.id) if zs is not None and e.src == zs.id), None)
    if zs is None or ys is None or edge is None or not (_full(zs.value) and _full(ys.value) and _full(edge.grad)):
        return []
    z, y, sent, g = zs.value, ys.value, edge.grad, node.grad
    if z.shape != y.shape:
        return []
    mean = dict(node.attrs).get("reduction", "mean") == "mean"
    n = z.numel() if mean else 1
    zn, yn = _name(zs, "z"), _name(ys, "y")
    scale = "" if not _full(g) or float(g) == 1.0 else f" × {num(float(g))}"
    head = f"dL/d{zn} = 2 · ({zn} − {yn}) / {n}{scale}" if mean else f"dL/d{zn} = 2 · ({zn} − {yn}){scale}"
    if _small(z, y):
        return [f"- {w['numbers']}\n\n  {head}\n\n" + _indent(_side_by_side(
            "2 · (", _matrix(z), " − ", _matrix(y), f") / {n}{scale} = ", _matrix(sent)))]
    i = _argmax(sent)
    return [f"- {w['numbers']} dL/d{zn}{index(i)} = 2 · ({num(float(z[i]))} − {factor(y[i])}) / {n}{scale} "
            f"= **{num(float(sent[i]))}** ({w['largest']})"]


def _broadcast_numbers(graph: Graph, node: Node, w: dict) -> list[str]:
    """A bias added to every row of a batch gets the arriving gradient summed over those rows."""
    g = node.grad
    out = []
    for e in graph.inputs(node.id):
        if not (_full(g) and _full(e.grad)) or e.grad.shape == g.shape or e.grad.dim() == 0:
            continue
        k = e.grad.dim()
        if tuple(g.shape[-k:]) != tuple(e.grad.shape):
            continue
        rows = g.reshape(-1, *e.grad.shape)
        total = rows.sum(0)
        sign = "" if torch.allclose(total, e.grad) else "−" if torch.allclose(-total, e.grad) else None
        if sign is None:
            continue
        name = _name(graph.node(e.src), "b")
        shown = [tensor(r) for r in rows[:MAX_TERMS]]
        if len(rows) > MAX_TERMS:
            shown.append(f"… ({w['more'].format(n=len(rows) - MAX_TERMS)})")
        body = " + ".join(shown)
        body = f"{sign}({body})" if sign else body
        out.append(f"- {w['rows'].format(name=name, n=len(rows))}: {body} = **{fmt(e.grad)}**")
    return out


def _row_of(graph: Graph, node: Node, value: torch.Tensor):
    """(value row, arriving-gradient row, sent-gradient row, several rows?) along the op's `dim`, on the
    row whose sent gradient is largest: one row of a softmax is the whole story, and it fits a line."""
    g = node.grad
    edge = next(iter(graph.inputs(node.id)), None)
    if edge is None or not (_full(value) and _full(g) and _full(edge.grad)) or value.shape != g.shape \
            or value.dim() == 0:
        return None
    dim = int(dict(node.attrs).get("dim", -1))
    rows = [t.movedim(dim, -1).reshape(-1, value.shape[dim]) for t in (value, g, edge.grad)]
    r = int(rows[2].abs().amax(1).argmax())
    if rows[0].shape[1] > SMALL_SIDE:
        return None
    return rows[0][r], rows[1][r], rows[2][r], len(rows[0]) > 1


def _softmax_numbers(graph: Graph, node: Node, w: dict) -> list[str]:
    """s = softmax(z): dL/dz = s·(g − Σ g·s)."""
    row = _row_of(graph, node, node.value)
    if row is None:
        return []
    s, g, sent, several = row
    c = float((g * s).sum())
    return [f"- {w['numbers']} s = {tensor(s)}, g = {tensor(g)}, Σ g·s = {num(c)}: "
            f"s·(g − {factor(c)}) = **{tensor(sent)}**" + (f" ({w['row']})" if several else "")]


def _log_softmax_numbers(graph: Graph, node: Node, w: dict) -> list[str]:
    """log_softmax: dL/dz = g − softmax(z)·Σg."""
    row = _row_of(graph, node, node.value.exp() if _full(node.value) else node.value)
    if row is None:
        return []
    s, g, sent, several = row
    c = float(g.sum())
    return [f"- {w['numbers']} softmax(z) = {tensor(s)}, g = {tensor(g)}, Σg = {num(c)}: "
            f"g − softmax(z)·{factor(c)} = **{tensor(sent)}**" + (f" ({w['row']})" if several else "")]


_WORKERS = {"matmul": _matmul_numbers, "mse": _mse_numbers, "broadcast": _broadcast_numbers,
            "softmax": _softmax_numbers, "log_softmax": _log_softmax_numbers}
