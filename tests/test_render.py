"""Rendering tests: assert on what the student would see (op names, numbers, highlighting), not on layout."""
from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import graphviz
import numpy as np
import pytest
import torch

from explorer.graph import trace_backward
from explorer.render import CURRENT, fmt_tensor, loss_figure, tensor_figure, to_dot

HAS_DOT = shutil.which("dot") is not None


# ---------------------------------------------------------------- a tiny reader for the DOT we emit

def _attrs(text: str) -> dict[str, str]:
    """key=value pairs of one attribute list; values may be "quoted", <html> (nested) or bare."""
    out, i = {}, 0
    while i < len(text):
        m = re.compile(r"\s*(\w+)=").match(text, i)
        if not m:
            break
        key, i = m.group(1), m.end()
        if text[i] == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out[key], i = text[i + 1:j], j + 1
        elif text[i] == "<":
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out[key], i = text[i + 1:j - 1], j
        else:
            m = re.compile(r"[^\s\]]+").match(text, i)
            out[key], i = m.group(0), m.end()
    return out


def parse(dot: str):
    """Nodes and edges with their effective attributes, resolving `node [...]`/`edge [...]` defaults per scope."""
    scopes = [({}, {})]
    nodes, edges = {}, []
    for line in dot.splitlines():
        s = line.strip()
        if s.endswith("{"):
            scopes.append((dict(scopes[-1][0]), dict(scopes[-1][1])))
            continue
        if s == "}":
            scopes.pop()
            continue
        m = re.match(r'(\S+?)(?: -> (\S+?))?(?: \[(.*)\])?$', s)
        if not m:
            continue
        a, b, body = m.group(1), m.group(2), _attrs(m.group(3) or "")
        if a in ("node", "edge") and b is None:
            scopes[-1][0 if a == "node" else 1].update(body)
        elif a == "graph":
            continue
        elif b is None:
            nodes[a] = {**scopes[-1][0], **body}
        else:
            edges.append((a, b, {**scopes[-1][1], **body}))
    return nodes, edges


def text(label: str) -> str:
    """What a label reads as: table cells become separate words, inline markup disappears."""
    return re.sub(r"<[^>]*>", "", re.sub(r"</td>|<hr/>", " | ", label))


# ---------------------------------------------------------------- fixtures

@pytest.fixture
def seed():
    """The course's first example: w = [10, 20], loss = sum(2 * w**2), so dloss/dw = 4w = [40, 80]."""
    w = torch.tensor([10.0, 20.0], requires_grad=True)
    y = 2 * w ** 2
    return trace_backward(y.sum(), {"w": w}, {"y": y})


def deep_mlp(depth: int, width: int = 2, batch: int = 2):
    torch.manual_seed(0)
    h = x = torch.randn(batch, width)
    named = {"x": x}
    for i in range(depth):
        W = (torch.randn(width, width) * 0.5).requires_grad_()
        b = torch.zeros(width, requires_grad=True)
        named[f"W{i}"], named[f"b{i}"] = W, b
        h = torch.tanh(h @ W + b)
    return trace_backward(h.sum(), named)


# ---------------------------------------------------------------- DOT content

def test_seed_example_shows_ops_leaf_and_gradient(seed):
    dot = to_dot(seed)
    for op in ("MulBackward0", "PowBackward0", "SumBackward0", "AccumulateGrad"):
        assert op in dot
    nodes, edges = parse(dot)
    leaf = seed.node("w")
    assert set(nodes) == {n.id for n in seed.nodes}
    label = text(nodes[leaf.id]["label"])
    assert "w" in label and "[10, 20]" in label and "[40, 80]" in label
    pow_id = seed.node("PowBackward0").id
    (edge,) = [e for e in edges if e[0] == leaf.id and e[1] == pow_id]
    assert edge[2]["label"] == "[40, 80]"
    assert "exponent=2" in text(nodes[pow_id]["label"])
    assert "rankdir=LR" in dot


def test_named_intermediate_and_output_headers(seed):
    nodes, _ = parse(to_dot(seed))
    assert "y = MulBackward0" in text(nodes[seed.node("MulBackward0").id]["label"])
    out = seed.node("n0")
    assert out.kind == "output" and "loss" in text(nodes[out.id]["label"])


def test_kinds_get_distinct_fills(seed):
    nodes, _ = parse(to_dot(seed))
    fills = {n.kind: nodes[n.id]["fillcolor"] for n in seed.nodes}
    assert len(set(fills.values())) == len(fills)


def test_step_highlights_current_and_hides_future_grads(seed):
    one, three = parse(to_dot(seed, step=1))[0], parse(to_dot(seed, step=3))[0]
    current = lambda nodes: [k for k, a in nodes.items() if a.get("color") == CURRENT]
    assert current(one) == [seed.step(1).id] and seed.step(1).label == "SumBackward0"
    assert current(three) == [seed.step(3).id] and seed.step(3).label == "PowBackward0"
    assert one[seed.step(1).id]["penwidth"] == "3"
    leaf = seed.node("w").id
    assert "[40, 80]" not in text(one[leaf]["label"]) and "?" in text(one[leaf]["label"])
    assert one[seed.step(0).id]["fillcolor"] != one[leaf]["fillcolor"]  # done vs not reached
    assert not current(parse(to_dot(seed))[0])


def test_step_shows_edge_grads_only_once_sent(seed):
    leaf, pow_id = seed.node("w").id, seed.node("PowBackward0").id
    label = lambda k: next(a for s, d, a in parse(to_dot(seed, step=k))[1] if (s, d) == (leaf, pow_id)).get("label")
    assert label(2) is None
    assert label(3) == "[40, 80]"


def test_saved_tensors_dashed_and_not_duplicating_flow_edges():
    x = torch.tensor([1.0, 2.0, 3.0])
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    g = trace_backward((x * w).sum(), {"x": x, "w": w})
    nodes, edges = parse(to_dot(g))
    xid = g.node("x").id
    (saved,) = [a for s, d, a in edges if s == xid]
    assert saved["style"] == "dashed" and saved["label"]
    pairs = [(s, d) for s, d, _ in edges]
    assert len(pairs) == len(set(pairs))


def test_square_with_self_saved_twice_is_one_dashed_free_edge(seed):
    _, edges = parse(to_dot(seed))
    assert not [a for *_, a in edges if a.get("style") == "dashed"]


def test_large_tensors_are_summarised_not_repr():
    g = deep_mlp(2, width=8, batch=4)
    dot = to_dot(g)
    assert "tensor(" not in dot and "…" in dot
    assert "(4, 8)" in dot


def test_fmt_tensor():
    assert fmt_tensor(torch.tensor(9.8)) == "9.8"
    assert fmt_tensor(torch.tensor([40.0, 80.0])) == "[40, 80]"
    assert fmt_tensor(torch.tensor([[1 / 3, 2.0], [3.0, 4.0]])) == "[[0.3333, 2], [3, 4]]"
    assert fmt_tensor(torch.tensor([float("nan"), float("inf")])) == "[nan, inf]"
    assert fmt_tensor(torch.tensor(12346.0)) == "1.235e4"
    assert fmt_tensor(torch.tensor(-0.00012)) == "-0.00012"
    assert fmt_tensor(torch.tensor(1.5e-7)) == "1.5e-7"
    assert fmt_tensor(torch.arange(100.0)) == "[0, 1, 2, …]"
    assert fmt_tensor(torch.arange(100.0).reshape(10, 10).t()) == "[0, 10, 20, …]"
    assert fmt_tensor(torch.tensor([1, 2])) == "[1, 2]"
    assert fmt_tensor(None) == "—"


def test_projection_and_language(seed):
    big, small = to_dot(seed, projection=True), to_dot(seed)
    assert "fontsize=18" in big and "fontsize=11" in small
    labels = " ".join(text(a["label"]) for a in parse(to_dot(seed, lang="zh"))[0].values())
    assert "梯度" in labels and "值" in labels and "grad" not in labels and "value" not in labels


def test_names_are_html_escaped():
    w = torch.tensor([1.0], requires_grad=True)
    g = trace_backward((w * 3).sum(), {"a<b&c": w})
    dot = to_dot(g)
    assert "a&lt;b&amp;c" in dot
    if HAS_DOT:
        assert b"a&lt;b&amp;c" in graphviz.Source(dot).pipe(format="svg")


# ---------------------------------------------------------------- the cap

def test_deep_graph_is_capped_with_summary_node():
    g = deep_mlp(1000)
    assert len(g.nodes) > 3000
    for lang, word in (("en", "more nodes"), ("zh", "个节点")):
        nodes, edges = parse(to_dot(g, max_nodes=150, lang=lang))
        assert len(nodes) <= 151
        (summary,) = [k for k, a in nodes.items() if word in a["label"]]
        assert str(len(g.nodes) - 150) in nodes[summary]["label"] and "150" in nodes[summary]["label"]
        assert any(s == summary for s, _, _ in edges)
        assert all(s in nodes and d in nodes for s, d, _ in edges)
        kept_orders = [n.order for n in g.nodes if n.id in nodes and n.order is not None]
        assert 0 in kept_orders and max(kept_orders) < len(g.nodes) // 2


def test_small_graph_has_no_summary(seed):
    nodes, _ = parse(to_dot(seed, max_nodes=len(seed.nodes)))
    assert set(nodes) == {n.id for n in seed.nodes}


# ---------------------------------------------------------------- graphviz itself

@pytest.mark.skipif(not HAS_DOT, reason="graphviz `dot` binary not installed")
@pytest.mark.parametrize("kwargs", [{}, {"step": 2}, {"projection": True, "lang": "zh"}])
def test_dot_binary_renders(seed, kwargs):
    svg = graphviz.Source(to_dot(seed, **kwargs)).pipe(format="svg").decode()
    for op in ("MulBackward0", "PowBackward0", "AccumulateGrad"):
        assert op in svg


@pytest.mark.skipif(not HAS_DOT, reason="graphviz `dot` binary not installed")
def test_dot_binary_renders_capped_graph():
    svg = graphviz.Source(to_dot(deep_mlp(100), max_nodes=40, step=5)).pipe(format="svg").decode()
    assert "TanhBackward0" in svg and "more nodes" in svg


# ---------------------------------------------------------------- figures

def history(n: int, nan_at: int | None = None):
    w, b = torch.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]), torch.tensor(0.5)
    out = []
    for e in range(1, n + 1):
        grads = {"w": w * 0.1, "b": b * 0.1}
        if e == nan_at:
            grads = {"w": torch.full_like(w, float("nan")), "b": torch.tensor(float("inf"))}
        nxt = {"w": w - grads["w"], "b": b - grads["b"]}
        out.append(SimpleNamespace(epoch=e, loss=float("nan") if e == nan_at else 1.0 / e,
                                   params={"w": w, "b": b}, grads=grads, next_params=nxt))
        w, b = w - 0.1 * w, b - 0.1 * b
    return out


def _vlines(fig):
    return [s for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]


def test_loss_figure_basics():
    fig = loss_figure(history(20), mark_epoch=7, log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.title.text == "Epoch"
    assert [v.x0 for v in _vlines(fig)] == [7]
    assert fig.data[0].type == "scatter" and len(fig.data[0].x) == 20
    plain = loss_figure(history(20))
    assert len(plain.data) == 1 and plain.layout.yaxis.type != "log" and not _vlines(plain)


def test_loss_figure_uses_webgl_above_1000_epochs():
    assert loss_figure(history(1001)).data[0].type == "scattergl"
    assert loss_figure(history(1000)).data[0].type == "scatter"


def test_tensor_figure_one_line_per_element():
    fig = tensor_figure(history(5), "params")
    assert [t.name for t in fig.data] == ["w[0,0]", "w[0,1]", "w[0,2]", "w[1,0]", "w[1,1]", "w[1,2]", "b"]
    np.testing.assert_allclose(fig.data[1].y, [-2.0 * 0.9 ** k for k in range(5)], rtol=1e-6)
    assert fig.layout.title.text == "Parameters"


def test_tensor_figure_cap_says_how_many_omitted():
    fig = tensor_figure(history(5), "grads", max_traces=4, lang="zh")
    assert len(fig.data) == 4
    assert "3" in fig.layout.title.text and "梯度" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "轮次"


def test_tensor_figure_log_grads_are_absolute():
    fig = tensor_figure(history(5), "grads", log_y=True, mark_epoch=2)
    assert fig.layout.yaxis.type == "log"
    assert all(np.all(np.asarray(t.y)[np.isfinite(t.y)] > 0) for t in fig.data)
    assert [v.x0 for v in _vlines(fig)] == [2]


def test_tensor_figure_webgl_and_projection():
    fig = tensor_figure(history(1200), "params", projection=True)
    assert {t.type for t in fig.data} == {"scattergl"}
    assert fig.data[0].line.width == 4
    assert fig.layout.font.size > tensor_figure(history(3)).layout.font.size


@pytest.mark.parametrize("log_y", [False, True])
def test_nan_and_inf_do_not_crash(log_y):
    h = history(10, nan_at=4)
    for fig in (loss_figure(h, log_y=log_y, mark_epoch=4),
                tensor_figure(h, "grads", log_y=log_y), tensor_figure(h, "params", log_y=log_y)):
        fig.to_json()
        for t in fig.data:
            y = np.asarray(t.y, dtype=float)
            assert not np.isinf(y).any()
    assert "1" in loss_figure(h).layout.title.text


def test_empty_history():
    assert len(loss_figure([]).data) == 1
    assert len(tensor_figure([], mark_epoch=1).data) == 0


# ---------------------------------------------------------------- the optimizer race

def test_the_winner_per_epoch_is_the_argmin_of_the_losses():
    from explorer.render import leader, winners
    rng = np.random.default_rng(0)
    losses = [rng.random(30) for _ in range(4)]
    assert winners(losses).tolist() == np.argmin(np.stack(losses), axis=0).tolist()
    assert leader(losses, 7) == (int(np.argmin([x[6] for x in losses])), float(min(x[6] for x in losses)), 0)
    tie = [np.array([1.0, 2.0]), np.array([1.0, 1.0])]
    assert winners(tie).tolist() == [0, 1] and leader(tie, 1) == (0, 1.0, 1)    # a tie goes to the first, said


def test_diverged_racers_never_win_and_do_not_break_the_figure():
    import json
    from explorer.render import MARK_X, leader, mark, race_json, winners
    fast = np.array([5.0, 3.0, np.inf])                     # inf at epoch 3
    short = np.array([4.0, np.nan])                         # nan, then stopped
    slow = np.array([6.0, 5.0, 4.0, 3.0])
    assert winners([fast, short, slow]).tolist() == [1, 0, 2, 2]
    assert winners([np.array([np.nan]), np.array([np.inf])]).tolist() == [-1]
    assert leader([np.array([np.nan])], 1) is None and leader([fast], 9) is None
    racers = [("gd", None, fast, 3), ("momentum", None, short, 2), ("adam", 0.1, slow, None)]
    for log_y in (False, True):
        fig = json.loads(mark(race_json(racers, log_y=log_y, lang="zh"), 2))
        lines = [t for t in fig["data"] if t["type"] == "scatter"]
        assert [t["name"] for t in lines] == ["gd（第 3 轮发散）", "momentum（第 2 轮发散）", "adam · 学习率 0.1"]
        assert lines[2]["line"]["dash"] == "dash" and lines[0]["line"]["dash"] == "solid"
        assert lines[0]["line"]["color"] != lines[1]["line"]["color"]
        (strip,) = [t for t in fig["data"] if t["type"] == "heatmap"]
        assert strip["z"] == [[1, 0, 2, 2]] and "adam" in strip["text"][0][3]
        assert fig["layout"]["shapes"][0]["x0"] == 2 and str(MARK_X) not in json.dumps(fig)


def test_race_colours_are_the_same_in_both_figures():
    import json
    import explorer
    from explorer import PRESETS
    from explorer.render import RACE_COLORS, race_json, race_landscape_json
    runs = explorer.compare(PRESETS["multi_epoch"].replace(epochs=20), ("gd", "adam"))
    racers = [(o, None, r.history.losses.numpy(), r.diverged_at) for o, r in runs.items()]
    curves = json.loads(race_json(racers))
    land = json.loads(race_landscape_json(explorer.landscape(runs["gd"], 5, others=list(runs.values())), racers, 5))
    for fig in (curves, land):
        colours = {t["name"]: (t.get("line") or t["marker"]).get("color") for t in fig["data"]
                   if t["type"] == "scatter" and t.get("showlegend", True) and t["name"] in runs}
        assert colours == {"gd": RACE_COLORS["gd"], "adam": RACE_COLORS["adam"]}


def test_previews_and_cut_tensors_show_a_summary_not_a_row_of_zeros():
    from explorer.explain import fmt
    from explorer.graph import Preview
    x = torch.zeros(100, 100)
    x[50, 7], x[99, 99] = 0.92, -0.31
    p = Preview.of(x)
    assert (p.shape, p.zeros, p.top[0]) == ((100, 100), 9998, ((50, 7), pytest.approx(0.92)))
    assert fmt_tensor(p) == "min -0.31 · max 0.92 · mean 6.1e-5 · 9998 zeros"
    assert fmt_tensor(p, "zh").endswith("9998 个 0")
    assert fmt(p) == "min -0.31 · max 0.92 · mean 6.1e-5 · 9998 zeros (100×100); |max| [50, 7] 0.92, [99, 99] -0.31 …"
    assert fmt_tensor(Preview.of(torch.ones(5000))) == "[1, 1, 1, …]"
    small = torch.zeros(4, 4)
    small[3, 1] = 2.0
    assert fmt_tensor(small) == "min 0 · max 2 · mean 0.125 · 15 zeros"
    assert fmt_tensor(torch.ones(3, 3)) == "[1, 1, 1, …]"


def test_a_big_value_is_labelled_by_its_summary():
    w = torch.zeros(100, 100)
    w[0, 0] = 1.0
    w.requires_grad_(True)
    g = trace_backward((w * 3).sum(), {"w": w})
    dot = to_dot(g)
    assert "value min 0 · max 1 · mean 0.0001 · 9999 zeros" in dot and "grad [3, 3, 3, …]" in dot


def test_landscape_axes_are_fixed_to_the_grid_so_a_diverging_path_does_not_stretch_them():
    import json

    import explorer
    from explorer import PRESETS
    from explorer.render import landscape_json
    run = explorer.run(PRESETS["lr_too_large"])
    land = explorer.landscape(run, 5)
    fig = json.loads(landscape_json(land, run.history.losses.tolist(), 5))
    (w,) = land.grid
    assert fig["layout"]["xaxis"]["range"] == [float(w[0]), float(w[-1])]
    lo, hi = fig["layout"]["yaxis"]["range"]
    assert lo < 20 and float(land.loss.max()) < hi < 1.1 * float(land.loss.max())
    path = next(t for t in fig["data"] if t.get("name") == "path of the run")
    assert path["x"]                                               # the path is still drawn, off the grid or not
    assert fig["layout"]["annotations"][0]["x"] == float(run.history.params["w"][5])  # the step's arrow, in view
    mlp = explorer.run(PRESETS["mlp"].replace(epochs=20))
    flat = explorer.landscape(mlp, 3)
    fig = json.loads(landscape_json(flat, mlp.history.losses.tolist(), 3))
    a, b = flat.grid
    assert fig["layout"]["xaxis"]["range"] == [float(a[0]), float(a[-1])]
    assert fig["layout"]["yaxis"]["range"] == [float(b[0]), float(b[-1])]


# ---------------------------------------------------------------- the wall: a step's part big, the whole as a map

def _course(key):
    import explorer
    return explorer.run(explorer.PRESETS[key]).trace(1)


@pytest.mark.parametrize("key", ["linear_layer", "mlp"])
def test_the_focus_of_every_step_holds_its_node_what_it_reads_and_where_its_gradient_came_from(key):
    from explorer.render import focused
    g = _course(key)
    for k in range(g.steps + 1):
        centre = g.step(k) if k else g.node("loss")
        f = focused(g, k)
        ids = {n.id for n in f.nodes}
        assert centre.id in ids
        assert {e.src for e in g.edges if e.dst == centre.id} <= ids                  # what it reads, saved too
        assert {e.dst for e in g.edges if e.src == centre.id and e.kind == "flow"} <= ids   # where its gradient came from
        real = [n for n in f.nodes if n.kind != "more"]
        assert len(real) < len(g.nodes)
        for stub in (n for n in f.nodes if n.kind == "more"):     # each "⋯" continues a kept node, once
            assert len([e for e in f.edges if stub.id in (e.src, e.dst)]) == 1
        dot = to_dot(g, k, projection=True, focus=True, rankdir="TB")
        if shutil.which("dot"):
            graphviz.Source(dot).pipe(format="svg")          # valid DOT, its "⋯" included
        assert (centre.op or centre.label) in dot and "<hr/></table>" not in dot


def test_the_map_has_every_node_and_marks_the_step():
    from explorer.render import to_map
    g = _course("mlp")
    dot = to_map(g, 4, projection=True)
    assert len(re.findall(r'^\s*\w+ \[fillcolor=', dot, re.M)) == len(g.nodes)
    assert dot.count(CURRENT) == 1 and 'label=""' in dot and "rankdir=TB" in dot


def test_focused_numbers_wrap_so_the_picture_fits_beside_its_words():
    from explorer.render.dot import FOCUS_WRAP, _wrap
    assert _wrap("[[0.5248, -0.1701, -4.216], [0.5248, -0.1701, -4.216]]", FOCUS_WRAP) == \
        ["[[0.5248, -0.1701, -4.216],", "[0.5248, -0.1701, -4.216]]"]                # a matrix: one row a line
    assert _wrap("min -2.179 · max 1.541 · mean -0.2006 · 4 zeros", FOCUS_WRAP) == \
        ["min -2.179 · max 1.541 ·", "mean -0.2006 · 4 zeros"]                        # even lines, no orphan
    assert _wrap("[0.5068, 0.7041, -0.3873, …]", FOCUS_WRAP) == ["[0.5068, 0.7041, -0.3873, …]"]
    assert _wrap("x" * 100, None) == ["x" * 100]
    g = _course("linear_layer")
    assert "<br/>" in to_dot(g, 2, projection=True, focus=True) and "<br/>" not in to_dot(g, 2, projection=True)


def test_only_the_wall_focuses_and_only_graphs_too_big_to_read_whole():
    from explorer import compute
    assert compute.focus(_course("mlp"), True) and compute.focus(_course("linear_layer"), True)
    assert not compute.focus(_course("mlp"), False)
    assert not compute.focus(_course("single_step"), True)                # five nodes read whole on the wall
