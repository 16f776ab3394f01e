"""Turn traced graphs and training histories into pictures: Graphviz DOT and Plotly figures.

Everything here works on plain data (`explorer.graph.Graph`, history records), so the app,
notebooks and tests all render the same way. The DOT is built only through `graphviz`, whose
quoting keeps student-chosen names from ever breaking the source. Rendering runs on every
slider move, so per-node work is a few string operations: small tensors go through one
`tolist()`, large ones are summarised from their first few values, and torch's repr is never used.
"""
from __future__ import annotations

import base64
import gc
from html import escape

import graphviz
import numpy as np
import plotly.graph_objects as go
import torch

from .graph import Preview
from .limits import MAX_DRAWN_NODES

WORDS = {
    "en": dict(zeros="{n} zeros", value="value", grad="grad", shape="shape", scalar="scalar", saved="saved",
               more="… {n} more nodes (limit {limit})", loss="Loss", epoch="Epoch",
               params="Parameters", grads="Gradients", abs_grads="|gradient|", param_value="value",
               omitted="{n} more omitted (limit {limit})", nonfinite="{n} non-finite values not shown",
               note="{title} ({note})", landscape="Loss landscape", path="path of the run",
               tangent="slope at epoch {k}: grad = {g}", step="step to epoch {k2}: w − lr·grad",
               slice="slice through {a} and {b}; the other weights as at epoch {k}", shown="epoch {k}",
               random="slice through two random filter-normalised directions d1, d2, centred on epoch {k}'s weights",
               race="Optimizer race: loss per epoch", leader="leader", leads="{name} leads",
               at_lr="{name} · lr {lr}", diverged="{name} (diverged at epoch {d})",
               race_landscape="The racers' paths on the loss landscape"),
    "zh": dict(zeros="{n} 个 0", value="值", grad="梯度", shape="形状", scalar="标量", saved="保存的张量",
               more="… 还有 {n} 个节点未显示（上限 {limit}）", loss="损失", epoch="轮次",
               params="参数", grads="梯度", abs_grads="|梯度|", param_value="值",
               omitted="另有 {n} 条未显示，上限 {limit}", nonfinite="{n} 个非有限值未显示",
               note="{title}（{note}）", landscape="损失地形", path="训练路径",
               tangent="第 {k} 轮的斜率：grad = {g}", step="走到第 {k2} 轮：w − lr·grad",
               slice="穿过 {a} 和 {b} 的切面；其余权重取第 {k} 轮的值", shown="第 {k} 轮",
               random="穿过两个按滤波器归一化的随机方向 d1、d2 的切面，以第 {k} 轮的权重为中心",
               race="优化器比赛：每轮的损失", leader="领先者", leads="{name} 领先",
               at_lr="{name} · 学习率 {lr}", diverged="{name}（第 {d} 轮发散）",
               race_landscape="各优化器在损失地形上的路径"),
}



def _fit_cjk(words: dict) -> dict:
    """The graph's words with room for their Chinese glyphs. The browser's Graphviz sizes a box from
    Helvetica's letter widths; a CJK glyph is drawn wider than it is measured, so a row gets a
    no-break space per glyph at its end (`<word>_pad`) and the text stays inside its box."""
    def pad(text: str) -> str:
        return "\u00a0" * sum(1 for c in text if "\u2e80" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef")
    fitted = {**words, "more": words["more"] + pad(words["more"])}
    fitted.update({f"{k}_pad": pad(words[k]) for k in ("value", "grad", "shape", "scalar", "saved")})
    return fitted


WORDS["zh"] = _fit_cjk(WORDS["zh"])

# (light fill, stronger fill once backward has passed the node); chosen to stay distinct on projectors
PALETTE = {
    "leaf": ("#d3f9d8", "#8ce99a"),
    "op": ("#e7f0fb", "#a5c8f0"),
    "output": ("#fff3bf", "#ffd43b"),
    "data": ("#f1f3f5", "#ced4da"),
    "saved": ("#ffe8cc", "#ffc078"),
}
CURRENT = "#e8590c"
PENDING = "#adb5bd"
FONT = "Helvetica"      # one plain name: the browser's WebAssembly Graphviz only knows metrics by it
SMALL_NUMEL = 6
SUMMARY_HEAD = 3
CURVE_MARKERS = 50      # runs this short get markers on their lines: one epoch is otherwise an invisible line


def _words(lang: str) -> dict:
    return WORDS.get(lang, WORDS["en"])


# ---------------------------------------------------------------- number formatting

def _num(v) -> str:
    if isinstance(v, float):
        s = format(v + 0.0, ".4g")          # + 0.0 turns -0.0 into 0: "-0" only puzzles a student
        if "e" in s:
            s = s.replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
        return s
    return str(v)


def _nested(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join([_nested(x) for x in v]) + "]"
    return _num(v)


def _shape(shape) -> str:
    return str(tuple(shape))


def fmt_tensor(t: torch.Tensor | None, lang: str = "en") -> str:
    """Numbers of a small tensor (4 significant digits), else its first few values and "…", or,
    where those say nothing (a big tensor's preview, a leading run of one repeated value in a tensor
    that is not constant), its min, max, mean and how many zeros.

    One `tolist()` per tensor keeps this in microseconds where torch's repr takes far longer.
    The result is only digits, brackets and words like nan, so it goes into HTML labels unescaped.
    """
    if t is None:
        return "—"
    if isinstance(t, Preview):
        if t.lo is None or t.lo == t.hi:       # a sum of previews, or a constant: its first values say it all
            return "[" + ", ".join([_num(x) for x in t.head[:SUMMARY_HEAD].tolist()]) + ", …]"
        return summary(t.lo, t.hi, t.mean, t.zeros, lang)
    n = t.numel()
    if n <= SMALL_NUMEL:
        return _nested(t.tolist())
    try:
        head = t.numpy().ravel()[:SUMMARY_HEAD].tolist()
    except (TypeError, RuntimeError):
        head = t.reshape(-1)[:SUMMARY_HEAD].tolist()
    if len(set(head)) == 1:                 # [0, 0, 0, …] hides what follows: summarise the whole tensor
        x = t.detach().reshape(-1)
        x = x if x.is_floating_point() else x.double()
        lo, hi = x.min().item(), x.max().item()
        if lo != hi:
            return summary(lo, hi, x.mean().item(), int((x == 0).sum()), lang)
    return "[" + ", ".join([_num(x) for x in head]) + ", …]"


def summary(lo: float, hi: float, mean: float, zeros: int, lang: str = "en") -> str:
    """A big tensor in a few numbers: "min -0.31 · max 0.92 · mean 0.01 · 40 zeros"."""
    text = f"min {_num(lo)} · max {_num(hi)} · mean {_num(mean)}"
    return text + (" · " + _words(lang)["zeros"].format(n=zeros) if zeros else "")


def _edge_label(t: torch.Tensor | None) -> str | None:
    """The gradient an edge carries if it is small, else just its shape (HTML-quoted: cheaper in graphviz)."""
    if t is None:
        return None
    if t.numel() <= SMALL_NUMEL:
        return "<" + _nested(t.tolist()) + ">"
    return "<" + _shape(t.shape) + ">"


# ---------------------------------------------------------------- DOT

def _visible(graph, max_nodes: int):
    """Nodes closest to the loss (lowest backward order) up to the cap, so the picture still starts at the loss.

    Data and saved nodes have no order of their own: they ride along with the earliest op that uses them.
    """
    nodes = graph.nodes
    if len(nodes) <= max_nodes:
        return nodes, None
    big = len(nodes) + 1
    rank = {n.id: (n.order if n.order is not None else big) for n in nodes}
    for e in graph.edges:
        if e.kind == "saved":
            o = rank.get(e.dst, big)
            if o < rank[e.src]:
                rank[e.src] = o
    kind_rank = {"output": 0, "op": 1, "leaf": 2, "data": 3, "saved": 4}
    keep = sorted(nodes, key=lambda n: (rank[n.id], kind_rank.get(n.kind, 5)))[:max_nodes]
    return keep, len(nodes) - len(keep)


def _label(n, w: dict, small: int, hide_grad: bool, lang: str = "en") -> str:
    sm = f'<font point-size="{small}">'
    if n.kind == "op":
        head = f"<b>{escape(n.name)}</b> = {escape(n.label)}" if n.name else f"<b>{escape(n.label)}</b>"
    elif n.kind == "leaf":
        head = f"<b>{escape(n.label)}</b> {sm}{escape(n.op or 'AccumulateGrad')}</font>"
    elif n.kind == "saved":
        head = f"<b>{escape(n.label)}</b> {sm}{w['saved']}{w.get('saved_pad', '')}</font>"
    else:
        head = f"<b>{escape(n.label)}</b>"
    rows = [f"<tr><td>{head}</td></tr>"]
    if n.attrs:
        text = ", ".join(f"{k}={v if len(v) <= 30 else v[:29] + '…'}" for k, v in n.attrs)
        rows.append(f'<tr><td>{sm}{escape(text)}</font></td></tr>')
    rows.append("<hr/>")
    if n.shape is not None:
        shape = _shape(n.shape) if n.shape else w["scalar"] + w.get("scalar_pad", "")
        rows.append(f'<tr><td align="left">{w["shape"]} {shape}{w.get("shape_pad", "")}</td></tr>')
    if n.value is not None:
        rows.append(f'<tr><td align="left">{w["value"]} {fmt_tensor(n.value, lang)}{w.get("value_pad", "")}</td></tr>')
    if n.kind in ("op", "leaf", "output"):
        g = "?" if hide_grad else fmt_tensor(n.grad, lang)
        rows.append(f'<tr><td align="left">{w["grad"]} {g}{w.get("grad_pad", "")}</td></tr>')
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "".join(rows) + "</table>>"


def to_dot(graph, step: int | None = None, *, max_nodes: int = MAX_DRAWN_NODES, projection: bool = False,
           rankdir: str = "LR",
           lang: str = "en") -> str:
    """DOT source for a traced graph, left to right from leaves to the loss.

    `step=k` replays backward: nodes autograd has run (order <= k) are filled stronger, step k
    itself gets a thick orange border, and nodes not reached yet hide their gradient, so the
    student sees gradients arrive one step at a time. Graphs above `max_nodes` keep the nodes
    nearest the loss plus one summary node, so a 1000-layer network stays readable and fast.

    Styles live in anonymous subgraphs' defaults (one per kind and step state), so each node and
    edge is a single graphviz call with no per-item attributes: graphviz's attribute quoting
    costs more than everything else here.
    """
    collecting = gc.isenabled()
    gc.disable()                  # thousands of short strings, no cycles: collections only cost time
    try:
        return _dot(graph, step, max_nodes, projection, rankdir, lang)
    finally:
        if collecting:
            gc.enable()


def _dot(graph, step, max_nodes, projection, rankdir, lang) -> str:
    w = _words(lang)
    fs = 18 if projection else 11
    small = fs - 3 if projection else fs - 2
    pen = 2 if projection else 1
    max_nodes = max(1, int(max_nodes))

    dot = graphviz.Digraph(
        "autograd",
        graph_attr=dict(rankdir=rankdir, bgcolor="white", nodesep="0.25", ranksep="0.4", fontname=FONT),
        node_attr=dict(shape="box", style="rounded,filled", fontname=FONT, fontsize=str(fs),
                       penwidth=str(pen), color="#495057", margin="0.08,0.04"),
        edge_attr=dict(fontname=FONT, fontsize=str(small), fontcolor="#a61e4d", color="#495057",
                       penwidth=str(pen), arrowsize="0.8" if projection else "0.6"),
    )

    nodes, omitted = _visible(graph, max_nodes)
    order = {n.id: n.order for n in nodes}

    groups: dict[tuple[str, str], list] = {}
    for n in nodes:
        o = n.order
        state = ("normal" if step is None or o is None else
                 "done" if o < step else "current" if o == step else "pending")
        groups.setdefault((n.kind, state), []).append((n.id, _label(n, w, small, state == "pending", lang)))
    for (kind, state), members in groups.items():
        light, strong = PALETTE.get(kind, PALETTE["data"])
        style = {"normal": dict(fillcolor=light),
                 "done": dict(fillcolor=strong, penwidth=str(pen + 1)),
                 "current": dict(fillcolor=strong, color=CURRENT, penwidth=str(3 + 2 * (pen - 1))),
                 "pending": dict(fillcolor=light, color=PENDING, fontcolor="#868e96")}[state]
        with dot.subgraph() as sub:
            sub.attr("node", **style)
            for nid, label in members:
                sub.node(nid, label)

    flow_pairs = set()
    saved: dict[tuple[str, str], list[str]] = {}
    cut_dsts: list[str] = []
    now: list = []
    later: list = []
    for e in graph.edges:
        if e.dst not in order:
            continue
        if e.src not in order:
            cut_dsts.append(e.dst)
            continue
        if e.kind == "saved":
            saved.setdefault((e.src, e.dst), []).append(e.label)
            continue
        flow_pairs.add((e.src, e.dst))
        d = order[e.dst]
        if step is None or d is None or d < step:
            dot.edge(e.src, e.dst, _edge_label(e.grad))
        elif d == step:
            now.append(e)
        else:
            later.append(e)
    if now:
        with dot.subgraph() as sub:
            sub.attr("edge", color=CURRENT, fontcolor=CURRENT, penwidth=str(pen + 1))
            for e in now:
                sub.edge(e.src, e.dst, _edge_label(e.grad))
    if later:
        with dot.subgraph() as sub:
            sub.attr("edge", color=PENDING)
            for e in later:
                sub.edge(e.src, e.dst)
    kept_saved = [(pair, labels) for pair, labels in saved.items() if pair not in flow_pairs]
    if kept_saved:
        with dot.subgraph() as sub:
            sub.attr("edge", style="dashed", color="#868e96", fontcolor="#868e96")
            for (src, dst), labels in kept_saved:
                sub.edge(src, dst, "<" + escape(", ".join(dict.fromkeys(labels))) + ">")

    if omitted:
        more = "more"
        while more in order:
            more = "_" + more
        with dot.subgraph() as sub:
            sub.attr("edge", style="dashed", color=PENDING)
            sub.node(more, w["more"].format(n=omitted, limit=max_nodes), style="dashed,rounded",
                     fillcolor="white", fontcolor="#495057")
            for dst in dict.fromkeys(cut_dsts):
                sub.edge(more, dst)
    return dot.source


# ---------------------------------------------------------------- Plotly

# Figures are plain dicts in Plotly's JSON schema: the app serialises them once per run without
# plotly's validation (a third of a new run's server time went to validating layouts and copying
# templates); `loss_figure` and `tensor_figure` wrap them in go.Figure for notebooks and tests.
_TEMPLATE: dict | None = None


def _template() -> dict:
    global _TEMPLATE
    if _TEMPLATE is None:
        import plotly.io as pio
        _TEMPLATE = pio.templates["plotly_white"].to_plotly_json()
    return _TEMPLATE


def _axis(title: str, fs: int, **more) -> dict:
    """An axis with its title and tick labels at `fs`, said outright: Streamlit's chart theme sets
    its own (smaller) sizes for them, over the layout's font."""
    return dict(title=dict(text=title, font=dict(size=fs)), tickfont=dict(size=fs), **more)


def _fonts(fs: int) -> dict:
    """Layout entries that size every text of a figure: base font, legend, hover labels."""
    return dict(font=dict(size=fs), legend=dict(font=dict(size=fs)), hoverlabel=dict(font=dict(size=fs)))


def _figure(traces: list, title: str, y_title: str, w: dict, *, log_y: bool, projection: bool,
            mark_epoch=None) -> dict:
    fs = 20 if projection else 13
    layout = dict(
        title=dict(text=title, font=dict(size=fs + 4)),
        xaxis=_axis(w["epoch"], fs),
        yaxis=_axis(y_title, fs, type="log" if log_y else "linear"),
        template=_template(), hovermode="x unified",
        margin=dict(l=60, r=20, t=60, b=50), **_fonts(fs))
    if mark_epoch is not None:
        layout["shapes"] = [dict(type="line", x0=mark_epoch, x1=mark_epoch, xref="x", y0=0, y1=1, yref="y domain",
                                 line=dict(color=CURRENT, width=3 if projection else 2, dash="dash"))]
    return dict(data=traces, layout=layout)


def _line(x, y, name: str, n: int, projection: bool) -> dict:
    return dict(type="scattergl" if n > 1000 else "scatter", x=x, y=y, mode="lines", name=name,
                line=dict(width=4 if projection else 2), connectgaps=False)


def _finite(y: np.ndarray, log_y: bool) -> np.ndarray:
    """Non-finite (and, on a log axis, non-positive) values become gaps instead of breaking the plot."""
    ok = np.isfinite(y)
    if log_y:
        ok &= y > 0
    return y if ok.all() else np.where(ok, y, np.nan)


def _loss_dict(history, mark_epoch, log_y, projection, lang, mark_y=None) -> dict:
    w = _words(lang)
    n = len(history)
    x = np.arange(1, n + 1, dtype=np.int64)
    y = _losses(history)
    raw_bad = int(n - np.isfinite(y).sum())
    y = _finite(y, log_y)
    traces = [_line(x, y, w["loss"], n, projection)]
    if mark_epoch is not None:
        if mark_y is None:
            hit = np.nonzero(x == mark_epoch)[0]
            mark_y = float(y[hit[0]]) if hit.size and np.isfinite(y[hit[0]]) else None
        if mark_y is not None:
            traces.append(dict(type="scatter", x=[mark_epoch], y=[mark_y], mode="markers", showlegend=False,
                               name=w["loss"], hoverinfo="skip", marker=dict(color=CURRENT, size=14 if projection else 9)))
    title = w["note"].format(title=w["loss"], note=w["nonfinite"].format(n=raw_bad)) if raw_bad else w["loss"]
    fig = _figure(traces, title, w["loss"], w, log_y=log_y, projection=projection, mark_epoch=mark_epoch)
    fig["layout"]["showlegend"] = False
    return fig


def loss_figure(history, *, mark_epoch: int | None = None, log_y: bool = False, projection: bool = False,
                lang: str = "en") -> go.Figure:
    """Loss per epoch; `mark_epoch` pins the epoch the rest of the page is showing."""
    return go.Figure(_loss_dict(history, mark_epoch, log_y, projection, lang))


def _losses(history) -> np.ndarray:
    if hasattr(history, "losses"):                       # explorer's History: already one stacked tensor
        return np.asarray(history.losses, dtype=np.float64).copy()
    return np.fromiter((float(r.loss) for r in history), dtype=np.float64, count=len(history))


def _element_names(name: str, shape, count: int) -> list[str]:
    if len(shape) == 0:
        return [name]
    if len(shape) == 1:
        return [f"{name}[{i}]" for i in range(count)]
    idx = np.unravel_index(np.arange(count), shape)
    return [f"{name}[{','.join(str(int(a[j])) for a in idx)}]" for j in range(count)]


def _series(history, attr: str, name: str, count: int, numel: int, dtype) -> np.ndarray:
    """(epochs, count) array of the first `count` elements of one tensor; a missing grad is a gap."""
    if hasattr(history, "losses"):                       # explorer's History: slice the stacked tensors
        n = len(history)
        stacked = (history.params if attr == "params" else history.grads)[name]
        if stacked is None:
            return np.full((n, count), np.nan)
        return stacked[:n].detach().reshape(n, -1)[:, :count].to(torch.float64).numpy()
    rows = []
    nan = None
    for r in history:
        t = getattr(r, attr).get(name)
        if t is None:
            if nan is None:
                nan = torch.full((count,), float("nan"), dtype=dtype)
            rows.append(nan)
            continue
        t = t.detach().reshape(-1)
        rows.append(t if numel == count else t[:count])
    return torch.stack(rows).to(torch.float64).numpy()


def _tensor_dict(history, which, mark_epoch, log_y, projection, lang, max_traces=12) -> dict:
    if which not in ("params", "grads"):
        raise ValueError(f"which must be 'params' or 'grads', not {which!r}")
    w = _words(lang)
    n = len(history)
    traces = []
    title = w[which]
    y_title = (w["abs_grads"] if log_y else w["grads"]) if which == "grads" else w["param_value"]
    if n:
        x = np.arange(1, n + 1, dtype=np.int64)
        first = history[0].params
        budget = max(0, int(max_traces))
        total = 0
        for name, t0 in first.items():
            numel = t0.numel()
            total += numel
            count = min(numel, budget)
            if count == 0:
                continue
            budget -= count
            ys = _series(history, which, name, count, numel, t0.dtype)
            if which == "grads" and log_y:
                ys = np.abs(ys)
            for label, col in zip(_element_names(name, tuple(t0.shape), count), ys.T):
                traces.append(_line(x, _finite(np.ascontiguousarray(col), log_y), label, n, projection))
        if total > len(traces):
            title = w["note"].format(title=title, note=w["omitted"].format(n=total - len(traces), limit=max_traces))
    return _figure(traces, title, y_title, w, log_y=log_y, projection=projection, mark_epoch=mark_epoch)


def tensor_figure(history, which: str = "params", *, mark_epoch: int | None = None, log_y: bool = False,
                  projection: bool = False, lang: str = "en", max_traces: int = 12) -> go.Figure:
    """One line per element of every trainable tensor, to watch parameters settle or gradients vanish.

    Lines beyond `max_traces` are left out (the title says how many) so big tensors stay legible.
    On a log axis gradients are plotted as absolute values, since their sign is what flips.
    """
    return go.Figure(_tensor_dict(history, which, mark_epoch, log_y, projection, lang, max_traces))


# ---------------------------------------------------------------- a figure built once, marked at any epoch

MARK_X, MARK_Y = 987654321.5, 123456789.25      # stand-ins for the marked epoch and its loss in the JSON
_MARK_X, _MARK_Y = "987654321.5", "123456789.25"


def curve_json(history, which: str, *, log_y: bool = False, projection: bool = False, lang: str = "en") -> str:
    """A curve figure ("loss", "params" or "grads") as Plotly JSON with a stand-in for the marked epoch.

    Building and serialising a figure costs milliseconds per thousand epochs; moving the epoch
    slider only moves the marker, so the app builds this once per run and calls `mark` per epoch.
    """
    import plotly.io as pio
    if which == "loss":
        fig = _loss_dict(history, MARK_X, log_y, projection, lang, mark_y=MARK_Y)
    else:
        fig = _tensor_dict(history, which, MARK_X, log_y, projection, lang)
    for trace in fig["data"]:
        if len(history) <= CURVE_MARKERS and trace["mode"] == "lines":
            trace["mode"] = "lines+markers"
        for axis in ("x", "y"):
            if isinstance(trace[axis], np.ndarray):
                trace[axis] = _typed(trace[axis])
    text = pio.to_json(fig, validate=False)
    if text.count(_MARK_X) != (3 if which == "loss" else 2):
        raise ValueError("the epoch stand-in did not survive serialisation")
    return text


def _typed(a: np.ndarray) -> dict:
    """A Plotly typed array: float32 (the run's own precision, so nothing is rounded) as base64,
    a third of the bytes of the same numbers written out in JSON."""
    if a.dtype.kind in "iu":
        return dict(dtype="i4", bdata=base64.b64encode(a.astype("<i4").tobytes()).decode())
    return dict(dtype="f4", bdata=base64.b64encode(a.astype("<f4").tobytes()).decode())


def mark(spec: str, epoch: int, loss: float | None = None) -> str:
    """`curve_json`'s figure with `epoch` marked (and, on the loss curve, the point at `loss`)."""
    y = "null" if loss is None or not np.isfinite(loss) else repr(float(loss))
    return spec.replace(_MARK_X, str(int(epoch))).replace(_MARK_Y, y)


# ---------------------------------------------------------------- the loss landscape

def landscape_json(land, losses, epoch: int, *, projection: bool = False, lang: str = "en") -> str:
    """Plotly JSON of `explorer.landscape(...)`: for one weight the loss curve, the run's path on
    it, the tangent whose slope is the epoch's gradient and the step w → w − lr·grad as an arrow;
    for two, a contour map with the path. `losses` are the run's losses per epoch (the path's heights)."""
    import plotly.io as pio
    w = _words(lang)
    k = epoch
    path = land.path.double().numpy()
    fs = 20 if projection else 13
    layout = dict(title=dict(text=w["landscape"], font=dict(size=fs + 4)), template=_template(),
                  margin=dict(l=60, r=20, t=60, b=50), showlegend=True, **_fonts(fs))
    layout["legend"].update(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1)
    if not land.coords:
        traces = []
        layout.update(xaxis=dict(visible=False), yaxis=dict(visible=False))
    elif len(land.coords) == 1:
        grid, loss = land.grid[0].double().numpy(), land.loss.double().numpy()
        heights = np.asarray(losses, dtype=np.float64)
        xs = path[:len(heights), 0]
        traces = [dict(type="scatter", x=_typed(grid), y=_typed(_finite(loss, False)), mode="lines",
                       name=w["loss"], line=dict(width=4 if projection else 2)),
                  dict(type="scatter", x=_typed(xs), y=_typed(_finite(heights, False)), mode="markers",
                       name=w["path"], marker=dict(size=6 if projection else 4, color="#868e96"))]
        if k > 1:       # the steps taken before the shown one, in order: a too-large rate's bounces read as a zigzag
            traces.append(dict(type="scatter", x=_typed(xs[:k]), y=_typed(_finite(heights[:k], False)), mode="lines",
                               showlegend=False, hoverinfo="skip",
                               line=dict(color="#868e96", width=2 if projection else 1.5, dash="dot")))
        x0, y0 = float(path[k - 1, 0]), float(heights[k - 1])
        if land.slope is not None and np.isfinite(x0) and np.isfinite(y0):
            half = (grid[-1] - grid[0]) / 8
            traces.append(dict(type="scatter", x=[x0 - half, x0 + half], y=[y0 - land.slope * half, y0 + land.slope * half],
                               mode="lines", name=w["tangent"].format(k=k, g=_num(land.slope)),
                               line=dict(color=CURRENT, width=3 if projection else 2, dash="dash")))
        traces.append(dict(type="scatter", x=[x0], y=[y0], mode="markers", name=w["shown"].format(k=k),
                           marker=dict(color=CURRENT, size=14 if projection else 10)))
        if k < len(heights) and np.all(np.isfinite([path[k, 0], heights[k]])):
            # The arrow carries no text: at a small learning rate it is shorter than its label, which then sat
            # on the marker. Its words go in the legend beside the tangent's, which never overlaps the plot.
            layout["annotations"] = [dict(x=float(path[k, 0]), y=float(heights[k]), ax=x0, ay=y0, xref="x", yref="y",
                                          axref="x", ayref="y", showarrow=True, arrowhead=3, arrowwidth=2,
                                          arrowcolor=CURRENT, text="")]
            step = w["step"].format(k2=k + 1) + " = " + _num(float(path[k, 0]))     # the step's size, tiny or not
            traces.append(dict(type="scatter", x=[None], y=[None], mode="lines+markers", name=step,
                               line=dict(color=CURRENT, width=2),
                               marker=dict(color=CURRENT, symbol="triangle-right", size=10)))
        layout["xaxis"] = _axis(land.coords[0], fs, range=[float(grid[0]), float(grid[-1])])
        layout["yaxis"] = _loss_axis(w["loss"], loss, fs)
    else:
        a, b = (g.double().numpy() for g in land.grid)
        traces = [dict(type="contour", x=_typed(a), y=_typed(b), z=_finite(land.loss.double().numpy().T, False).tolist(),
                       colorscale="Viridis", contours=dict(coloring="heatmap"), name=w["loss"], showscale=True,
                       colorbar=dict(tickfont=dict(size=fs))),
                  dict(type="scatter", x=_typed(path[:, 0]), y=_typed(path[:, 1]), mode="lines+markers", name=w["path"],
                       line=dict(color="white", width=2), marker=dict(size=4, color="white")),
                  dict(type="scatter", x=[float(path[k - 1, 0])], y=[float(path[k - 1, 1])], mode="markers",
                       name=w["shown"].format(k=k), marker=dict(color=CURRENT, size=14 if projection else 10))]
        layout["xaxis"] = _axis(land.coords[0], fs, range=[float(a[0]), float(a[-1])])
        layout["yaxis"] = _axis(land.coords[1], fs, range=[float(b[0]), float(b[-1])])
        if land.is_slice:
            layout["title"]["text"] += _slice_note(land, w, k, fs)
            layout["margin"]["t"] += 2 * fs        # room for that second line above the plot
    _landscape_notes(layout, land, lang, fs)
    return pio.to_json(dict(data=traces, layout=layout), validate=False)


NOTE_CHARS = {"en": 110, "zh": 55}      # a note's line in a figure's title: plotly does not wrap text


def _landscape_notes(layout: dict, land, lang: str, fs: int) -> None:
    """The landscape's notes (gaps outside the loss's domain, nothing to draw) under the title, wrapped."""
    import textwrap
    lines = [line for note in getattr(land, "notes", ())
             for line in textwrap.wrap(note.message(lang), NOTE_CHARS.get(lang, NOTE_CHARS["en"]))]
    if lines:
        layout["title"]["text"] += "".join(f'<br><span style="font-size:{fs - 2}px">{escape(x)}</span>' for x in lines)
        layout["margin"]["t"] += int(1.3 * fs * len(lines))


def _loss_axis(title: str, loss: np.ndarray, fs: int) -> dict:
    """The y-axis of a one-weight landscape: the loss over the grid, a little to spare. Fixed, like the
    x-axis, so points of the path beyond the grid (a diverging run's later epochs) do not stretch the view."""
    axis = _axis(title, fs)
    finite = loss[np.isfinite(loss)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        axis["range"] = [lo - pad, hi + pad]
    return axis


def _legend_below(layout: dict, y: float, projection: bool) -> None:
    """A horizontal legend under the plot, where eight racers can wrap to two rows without running into
    the title; projected, lower and with more room, clear of the larger axis title."""
    layout["legend"].update(orientation="h", yanchor="top", y=-0.24 if projection else y, xanchor="center", x=0.5)
    if projection:
        layout["margin"]["b"] = 110


def _slice_note(land, w: dict, k: int, fs: int) -> str:
    """The subtitle saying which slice of a bigger landscape is drawn (a <sup> would be too small on a wall)."""
    words = w["random"] if getattr(land, "directions", "moved") == "random" else w["slice"]
    note = escape(words.format(a=land.coords[0], b=land.coords[1], k=k))
    return f'<br><span style="font-size:{fs - 2}px">{note}</span>'


# ---------------------------------------------------------------- an optimizer race

# One colour per optimizer in every race figure (never the orange of the shown epoch).
RACE_COLORS = {"gd": "#1c7ed6", "sgd": "#2f9e44", "momentum": "#ae3ec9", "adam": "#c92a2a"}
SECOND_LR_TINT = 0.5        # the winner strip shows a second learning rate's racer this much lighter


def racer_name(optimizer: str, lr: float | None, lang: str = "en", diverged: int | None = None) -> str:
    """"adam", or "adam · lr 0.1" for a racer at the second learning rate, plus where it diverged."""
    w = _words(lang)
    name = optimizer if lr is None else w["at_lr"].format(name=optimizer, lr=_num(float(lr)))
    return name if diverged is None else w["diverged"].format(name=name, d=diverged)


def winners(losses: list) -> np.ndarray:
    """Per epoch, the index of the racer with the lowest loss, or -1 where no racer has a finite one.

    Racers may have run different numbers of epochs (a diverged run stops early): a missing, inf or
    nan loss never wins. Ties go to the racer listed first, so the same race always has the same winner."""
    epochs = max((len(x) for x in losses), default=0)
    table = np.full((len(losses), epochs), np.inf)
    for i, x in enumerate(losses):
        x = np.asarray(x, dtype=np.float64)
        table[i, :len(x)] = np.where(np.isfinite(x), x, np.inf)
    if not len(losses):
        return np.full(0, -1, dtype=np.int64)
    best = table.argmin(axis=0).astype(np.int64)
    best[~np.isfinite(table.min(axis=0))] = -1
    return best


def leader(losses: list, epoch: int) -> tuple[int, float, int] | None:
    """(racer index, its loss, how many others have exactly that loss) leading at `epoch` (1-based), or None
    if every racer has diverged by then. Ties are common (every racer starts at the same loss; gd and sgd
    take the same steps), and saying so keeps "leads" honest."""
    best = winners(losses)
    if not 1 <= epoch <= len(best) or best[epoch - 1] < 0:
        return None
    i = int(best[epoch - 1])
    loss = float(losses[i][epoch - 1])
    tied = sum(1 for j, x in enumerate(losses) if j != i and len(x) >= epoch and float(x[epoch - 1]) == loss)
    return i, loss, tied


def _tint(color: str, amount: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in (r, g, b))


def _racer_color(optimizer: str) -> str:
    return RACE_COLORS.get(optimizer, "#495057")


def race_json(racers: list, *, log_y: bool = False, projection: bool = False, lang: str = "en") -> str:
    """Plotly JSON of an optimizer race with a stand-in for the marked epoch (patch it with `mark`).

    `racers` are (optimizer, second lr or None, losses per epoch, diverged epoch or None): one line each,
    coloured by optimizer, dashed at the second learning rate. Under the lines a strip coloured, epoch by
    epoch, by whoever has the lowest loss then (hover names it): the race's winner at every moment."""
    import plotly.io as pio
    w = _words(lang)
    fs = 20 if projection else 13
    losses = [np.asarray(x, dtype=np.float64) for _, _, x, _ in racers]
    epochs = max((len(x) for x in losses), default=0)
    many = epochs > 1000
    traces = []
    for (opt, lr, _, div), y in zip(racers, losses):
        x = np.arange(1, len(y) + 1, dtype=np.int64)
        traces.append(dict(type="scattergl" if many else "scatter", x=_typed(x), y=_typed(_finite(y, log_y)),
                           mode="lines+markers" if epochs <= CURVE_MARKERS else "lines",
                           name=racer_name(opt, lr, lang, div), connectgaps=False, xaxis="x", yaxis="y",
                           line=dict(color=_racer_color(opt), width=4 if projection else 2,
                                     dash="dash" if lr is not None else "solid"),
                           marker=dict(size=6 if projection else 4)))
    best = winners(losses)
    n = max(1, len(racers))
    scale = []
    for i, (opt, lr, _, _) in enumerate(racers):
        color = _racer_color(opt) if lr is None else _tint(_racer_color(opt), SECOND_LR_TINT)
        scale += [[i / n, color], [(i + 1) / n, color]]
    names = [racer_name(opt, lr, lang) for opt, lr, _, _ in racers]
    traces.append(dict(type="heatmap", x=list(range(1, epochs + 1)), y=[w["leader"]],
                       z=[[int(b) if b >= 0 else None for b in best]],
                       text=[[w["leads"].format(name=names[b]) if b >= 0 else "" for b in best]],
                       hovertemplate="%{text}<extra></extra>", colorscale=scale or [[0, "#ffffff"], [1, "#ffffff"]],
                       zmin=-0.5, zmax=n - 0.5, showscale=False, showlegend=False, xaxis="x", yaxis="y2",
                       name=w["leader"], xgap=0, ygap=0))
    layout = dict(
        title=dict(text=w["race"], font=dict(size=fs + 4)), template=_template(), **_fonts(fs),
        hovermode="x unified", margin=dict(l=60 if not projection else 90, r=20, t=60, b=60), showlegend=True,
        xaxis=_axis(w["epoch"], fs, anchor="y2", range=[0.5, epochs + 0.5] if epochs else None),
        yaxis=_axis(w["loss"], fs, domain=[0.16, 1], type="log" if log_y else "linear"),
        yaxis2=dict(domain=[0, 0.08], showgrid=False, zeroline=False, tickfont=dict(size=fs - 2)),
        shapes=[dict(type="line", x0=MARK_X, x1=MARK_X, xref="x", y0=0, y1=1, yref="paper",
                     line=dict(color=CURRENT, width=3 if projection else 2, dash="dot"))])
    _legend_below(layout, -0.14, projection)
    text = pio.to_json(dict(data=traces, layout=layout), validate=False)
    if text.count(_MARK_X) != 2:
        raise ValueError("the epoch stand-in did not survive serialisation")
    return text


def race_landscape_json(land, racers: list, epoch: int, *, projection: bool = False, lang: str = "en") -> str:
    """Plotly JSON of every racer's path on one landscape (`explorer.landscape(run, epoch, others=...)`,
    whose `others` are the racers' paths in order): one weight, each racer's points on the loss curve;
    two or more, each racer's path over the contour map. `racers` are as for `race_json`."""
    import plotly.io as pio
    w = _words(lang)
    fs = 20 if projection else 13
    size = 12 if projection else 9
    layout = dict(title=dict(text=w["race_landscape"], font=dict(size=fs + 4)), template=_template(),
                  margin=dict(l=60, r=20, t=80, b=60), showlegend=True, **_fonts(fs))
    _legend_below(layout, -0.16, projection)
    one = len(land.coords) == 1
    traces = []
    if not land.coords:
        layout.update(xaxis=dict(visible=False), yaxis=dict(visible=False))
        _landscape_notes(layout, land, lang, fs)
        return pio.to_json(dict(data=traces, layout=layout), validate=False)
    if one:
        grid, loss = land.grid[0].double().numpy(), _finite(land.loss.double().numpy(), False)
        traces.append(dict(type="scatter", x=_typed(grid), y=_typed(loss), mode="lines", name=w["loss"],
                           line=dict(color="#868e96", width=4 if projection else 2)))
        layout["yaxis"] = _loss_axis(w["loss"], loss, fs)
        layout["xaxis"] = _axis(land.coords[0], fs, range=[float(grid[0]), float(grid[-1])])
    else:
        a, b = (g.double().numpy() for g in land.grid)
        traces.append(dict(type="contour", x=_typed(a), y=_typed(b), colorscale="Greys", reversescale=True,
                           z=_finite(land.loss.double().numpy().T, False).tolist(), contours=dict(coloring="heatmap"),
                           name=w["loss"], showscale=True, opacity=0.85))
        layout["xaxis"] = _axis(land.coords[0], fs, range=[float(a[0]), float(a[-1])])
        layout["yaxis"] = _axis(land.coords[1], fs, range=[float(b[0]), float(b[-1])])
        if land.is_slice:
            layout["title"]["text"] += _slice_note(land, w, epoch, fs)
    for (opt, lr, losses, div), path in zip(racers, land.others):
        path = path.double().numpy()
        color, dashed = _racer_color(opt), lr is not None
        name = racer_name(opt, lr, lang, div)
        if one:
            heights = _finite(np.asarray(losses, dtype=np.float64), False)
            xs = _finite(path[:len(heights), 0], False)
            traces.append(dict(type="scatter", x=_typed(xs), y=_typed(heights), mode="markers", name=name,
                               legendgroup=name, marker=dict(color=color, size=5 if projection else 4,
                                                             symbol="circle-open" if dashed else "circle")))
            k = min(epoch, len(heights)) - 1
            here = (xs[k], heights[k]) if k >= 0 else (np.nan, np.nan)
        else:
            xs, ys = _finite(path[:, 0], False), _finite(path[:, 1], False)
            traces.append(dict(type="scatter", x=_typed(xs), y=_typed(ys), mode="lines+markers", name=name,
                               legendgroup=name, line=dict(color=color, width=3 if projection else 2,
                                                           dash="dash" if dashed else "solid"),
                               marker=dict(color=color, size=4 if projection else 3)))
            k = min(epoch - 1, len(xs) - 1)
            here = (xs[k], ys[k])
        if np.all(np.isfinite(here)):
            traces.append(dict(type="scatter", x=[float(here[0])], y=[float(here[1])], mode="markers", name=name,
                               legendgroup=name, showlegend=False, hoverinfo="skip",
                               marker=dict(color=color, size=size, symbol="circle-open" if dashed else "circle",
                                           line=dict(color=CURRENT if not dashed else color, width=2))))
    _landscape_notes(layout, land, lang, fs)
    return pio.to_json(dict(data=traces, layout=layout), validate=False)
