"""A traced graph as Graphviz DOT, built only through the `graphviz` package, whose quoting keeps
student-chosen names from ever breaking the source. Drawing runs on every step of the step-through,
so per-node work is a few string operations."""
from __future__ import annotations

import gc
import re
from html import escape

import graphviz
import torch

from ..limits import MAX_DRAWN_NODES
from ..numbers import SMALL_NUMEL, nested, shape, tensor
from .style import CURRENT, FONT, PALETTE, PENDING, sizes
from .words import words


FOCUS_WRAP = 42     # characters per line of a value, a gradient or an edge label in the focused view


def _edge_label(t: torch.Tensor | None, wrap: int | None = None) -> str | None:
    """The gradient an edge carries if it is small, else just its shape (HTML-quoted: cheaper in graphviz)."""
    if t is None:
        return None
    if t.numel() <= SMALL_NUMEL:
        return "<" + "<br/>".join(_wrap(nested(t.tolist()), wrap)) + ">"
    return "<" + shape(t.shape) + ">"


def _wrap(text: str, width: int | None) -> list[str]:
    """`text` in lines of about `width` characters, broken after a ", " or a " · " (a matrix's rows then
    stand one under the other): the focused view is narrow enough to sit beside its explanation."""
    if width is None or len(text) <= width:
        return [text]
    width = -(-len(text) // -(-len(text) // width))        # as many lines as needed, of even lengths
    lines, line = [], ""
    for part in _BREAKS.split(text):
        if line and len(line) + len(part.rstrip()) > width + 2:
            lines.append(line.rstrip())
            line = ""
        line += part
    return lines + [line] if line else lines


_BREAKS = re.compile(r"(?<=, )|(?<= · )")


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


def _label(n, w: dict, small: int, hide_grad: bool, lang: str = "en", wrap: int | None = None) -> str:
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
    if n.kind == "more":
        return "<" + head + ">"
    if n.attrs:
        text = ", ".join(f"{k}={v if len(v) <= 30 else v[:29] + '…'}" for k, v in n.attrs)
        rows.append(f'<tr><td>{sm}{escape(text)}</font></td></tr>')
    rows.append("<hr/>")
    if n.shape is not None:
        dims = shape(n.shape) if n.shape else w["scalar"] + w.get("scalar_pad", "")
        rows.append(f'<tr><td align="left">{w["shape"]} {dims}{w.get("shape_pad", "")}</td></tr>')
    if n.value is not None:
        rows.append(_row(w["value"], tensor(n.value, lang), w.get("value_pad", ""), wrap))
    if n.kind in ("op", "leaf", "output"):
        rows.append(_row(w["grad"], "?" if hide_grad else tensor(n.grad, lang), w.get("grad_pad", ""), wrap))
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "".join(rows) + "</table>>"


def _row(word: str, text: str, pad: str, wrap: int | None) -> str:
    """One left-aligned row "value …"; wrapped, its later lines start under the first number."""
    lines = _wrap(text, wrap)
    indent = "\u00a0" * (len(word) + 1)     # no-break spaces: graphviz keeps them
    return f'<tr><td align="left" balign="left">{word} ' + f"<br/>{indent}".join(lines) + f"{pad}</td></tr>"


def to_dot(graph, step: int | None = None, *, max_nodes: int = MAX_DRAWN_NODES, projection: bool = False,
           rankdir: str = "LR", lang: str = "en", conceal: bool = False, focus: bool = False) -> str:
    """DOT source for a traced graph, left to right from leaves to the loss.

    `step=k` replays backward: nodes autograd has run (order <= k) are filled stronger, step k
    itself gets a thick orange border, and nodes not reached yet hide their gradient, so the
    student sees gradients arrive one step at a time. Graphs above `max_nodes` keep the nodes
    nearest the loss plus one summary node, so a 1000-layer network stays readable and fast.

    `conceal=True` writes "?" for what step k sends (a question not answered yet, predict mode);
    `focus=True` draws only step k's node, what it reads and where its gradient goes, with a "⋯" for
    each side that continues: big enough to read on a wall, where the whole graph (`to_map`) is small.

    Styles live in anonymous subgraphs' defaults (one per kind and step state), so each node and
    edge is a single graphviz call with no per-item attributes: graphviz's attribute quoting
    costs more than everything else here.
    """
    collecting = gc.isenabled()
    gc.disable()                  # thousands of short strings, no cycles: collections only cost time
    try:
        if focus and step is not None:
            return _dot(focused(graph, step), step, max_nodes, projection, rankdir, lang, conceal, FOCUS_WRAP)
        return _dot(graph, step, max_nodes, projection, rankdir, lang, conceal)
    finally:
        if collecting:
            gc.enable()


def _dot(graph, step, max_nodes, projection, rankdir, lang, conceal=False, wrap=None) -> str:
    w = words(lang)
    s = sizes(projection)
    fs, small, pen = s.graph, s.graph_small, s.pen
    max_nodes = max(1, int(max_nodes))

    dot = graphviz.Digraph(
        "autograd",
        graph_attr=dict(rankdir=rankdir, bgcolor="white", nodesep="0.25", ranksep="0.3" if wrap else "0.4",
                        fontname=FONT),
        node_attr=dict(shape="box", style="rounded,filled", fontname=FONT, fontsize=str(fs),
                       penwidth=str(pen), color="#495057", margin="0.08,0.04"),
        edge_attr=dict(fontname=FONT, fontsize=str(small), fontcolor="#a61e4d", color="#495057",
                       penwidth=str(pen), arrowsize=s.arrow),
    )

    nodes, omitted = _visible(graph, max_nodes)
    order = {n.id: n.order for n in nodes}

    groups: dict[tuple[str, str], list] = {}
    for n in nodes:
        o = n.order
        state = ("normal" if step is None or o is None else
                 "done" if o < step else "current" if o == step else "pending")
        groups.setdefault((n.kind, state), []).append((n.id, _label(n, w, small, state == "pending", lang, wrap)))
    for (kind, state), members in groups.items():
        light, strong = PALETTE.get(kind, PALETTE["data"])
        style = {"normal": dict(fillcolor=light),
                 "done": dict(fillcolor=strong, penwidth=str(pen + 1)),
                 "current": dict(fillcolor=strong, color=CURRENT, penwidth=str(3 + 2 * (pen - 1))),
                 "pending": dict(fillcolor=light, color=PENDING, fontcolor="#868e96")}[state]
        if kind == "more":          # "the graph goes on": words only, as grey as a step to come
            style = dict(shape="plaintext", style="", fontcolor="#868e96", height="0.2", margin="0")
        with dot.subgraph() as sub:
            sub.attr("node", **style)
            for nid, label in members:
                sub.node(nid, label)

    flow_pairs = set()
    saved: dict[tuple[str, str], list[str]] = {}
    cut_dsts: list[str] = []
    now: list = []
    later: list = []
    stubs = {n.id for n in nodes if n.kind == "more"}
    beyond = [e for e in graph.edges if e.src in stubs or e.dst in stubs] if stubs else []
    for e in beyond:               # beside the node it continues, not a rank of its own: height is scarce
        with dot.subgraph() as sub:
            sub.attr(rank="same")
            sub.attr("edge", style="dashed", color=PENDING, arrowhead="none")
            sub.edge(e.src, e.dst)
    for e in graph.edges:
        if e.dst not in order:
            continue
        if e.src not in order:
            cut_dsts.append(e.dst)
            continue
        if beyond and e in beyond:
            continue
        if e.kind == "saved":
            saved.setdefault((e.src, e.dst), []).append(e.label)
            continue
        flow_pairs.add((e.src, e.dst))
        d = order[e.dst]
        if step is None or d is None or d < step:
            dot.edge(e.src, e.dst, _edge_label(e.grad, wrap))
        elif d == step:
            now.append(e)
        else:
            later.append(e)
    if now:
        with dot.subgraph() as sub:
            sub.attr("edge", color=CURRENT, fontcolor=CURRENT, penwidth=str(pen + 1))
            for e in now:
                sub.edge(e.src, e.dst, "<?>" if conceal else _edge_label(e.grad, wrap))
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


def focused(graph, step: int):
    """The part of `graph` around step `step`: its node, the nodes it reads (flow and saved), the nodes
    its gradient came from, and one "⋯" node per kept node that has more beyond the picture."""
    from ..graph import Edge, Graph, Node
    centre = graph.step(step) if step else next(n for n in graph.nodes if n.kind == "output")
    if centre is None:
        return graph
    keep = {centre.id}
    keep |= {e.src for e in graph.edges if e.dst == centre.id}
    keep |= {e.dst for e in graph.edges if e.src == centre.id and e.kind == "flow"}
    nodes = [n for n in graph.nodes if n.id in keep]
    edges = [e for e in graph.edges if e.src in keep and e.dst in keep]
    more = {}
    for e in graph.edges:
        if e.kind != "flow" or (e.src in keep) == (e.dst in keep):
            continue
        inside = e.src if e.src in keep else e.dst
        side = "in" if e.dst == inside else "out"
        stub = more.get((inside, side))
        if stub is None:
            stub = more[(inside, side)] = Node(f"{inside}_{side}", "more", "⋯", None, None, None)
            nodes.append(stub)
            edges.append(Edge(stub.id, inside) if side == "in" else Edge(inside, stub.id))
    ordered = {n.id: n.order for n in graph.nodes}
    for stub_key, stub in more.items():
        stub.order = ordered.get(stub_key[0])
    return Graph(nodes=tuple(nodes), edges=tuple(edges))


def to_map(graph, step: int | None = None, *, projection: bool = False) -> str:
    """The whole graph as a small map without words: one dot per node, coloured as the big picture is
    (done, current, to come), top to bottom as the whole graph is drawn, so the focused view keeps its
    place in the whole."""
    s = sizes(projection)
    dot = graphviz.Digraph("map", graph_attr=dict(rankdir="TB", bgcolor="white", nodesep="0.08", ranksep="0.12"),
                           node_attr=dict(shape="circle", style="filled", label="", width="0.12", height="0.12",
                                          fixedsize="true", penwidth="0", color="#495057"),
                           edge_attr=dict(arrowhead="none", color="#ced4da", penwidth=str(s.pen)))
    for n in graph.nodes:
        light, strong = PALETTE.get(n.kind, PALETTE["data"])
        o = n.order
        if step is not None and o == step:
            dot.node(n.id, fillcolor=CURRENT, width="0.22", height="0.22")
        else:
            dot.node(n.id, fillcolor=strong if step is None or (o is not None and o < step) else light)
    for e in graph.edges:
        if e.kind == "flow":
            dot.edge(e.src, e.dst)
    return dot.source

