"""trace_backward on plain torch tensors, as a notebook user would call it."""
import sys

import torch

import explorer
from explorer.explain import explain_step


def ops(g):
    return [n.label for n in g.nodes if n.kind == "op"]


def test_seed_example_one_from_a_notebook():
    w = torch.tensor([10, 20], requires_grad=True, dtype=torch.float)
    loss = 2 * w ** 2
    g = explorer.trace_backward(loss.sum(), {"w": w}, {"loss": loss})
    assert torch.equal(w.grad, torch.tensor([40., 80.]))          # behaves like loss.sum().backward()
    order = [g.step(k).label for k in range(1, g.steps + 1)]
    assert order == ["SumBackward0", "MulBackward0", "PowBackward0", "w"]
    pw, mul, leaf = g.node("PowBackward0"), g.node("MulBackward0"), g.node("w")
    assert dict(pw.attrs)["exponent"] == "2" and dict(mul.attrs)["other"] == "2"
    assert mul.name == "loss" and torch.equal(mul.value, torch.tensor([200., 800.]))
    assert torch.equal(pw.grad, torch.tensor([2., 2.]))
    assert leaf.kind == "leaf" and leaf.op == "AccumulateGrad" and torch.equal(leaf.grad, torch.tensor([40., 80.]))
    flow = {(g.node(e.src).label, g.node(e.dst).label): e.grad for e in g.edges if e.kind == "flow"}
    assert torch.equal(flow[("w", "PowBackward0")], torch.tensor([40., 80.]))
    assert torch.equal(flow[("PowBackward0", "MulBackward0")], torch.tensor([2., 2.]))
    out = next(n for n in g.nodes if n.kind == "output")
    assert out.order == 0 and out.value.item() == 1000.0 and out.grad.item() == 1.0


def test_shared_subgraph_is_one_node_with_two_uses():
    w = torch.tensor([1., 2.], requires_grad=True)
    h = w * 3
    loss = (h * h + h).sum()
    g = explorer.trace_backward(loss, {"w": w}, {"h": h})
    assert ops(g).count("MulBackward0") == 2       # w * 3 and h * h, each once
    hn = next(n for n in g.nodes if n.name == "h")
    uses = [e for e in g.edges if e.src == hn.id and e.kind == "flow"]
    assert len(uses) == 3                           # h*h takes it twice, + once
    assert torch.equal(w.grad, 3 * (2 * h.detach() + 1))
    orders = [n.order for n in g.nodes if n.order]
    assert len(orders) == len(set(orders)) and sorted(orders) == list(range(1, g.steps + 1))


def test_views_and_multi_output_nodes():
    w = torch.arange(6.).requires_grad_()
    a, b = w.view(2, 3).split(1)
    loss = (a * 2).sum() + (b.t() * 3).sum()
    g = explorer.trace_backward(loss, {"w": w})
    labels = ops(g)
    assert labels.count("SplitBackward0") == 1 and "ViewBackward0" in labels and "TBackward0" in labels
    split = g.node("SplitBackward0")
    assert len(g.consumers(split.id)) == 2
    assert w.grad.tolist() == [2., 2., 2., 3., 3., 3.]


def test_saved_tensors_are_read_before_backward_and_drawn_once():
    x = torch.randn(4, 3)
    w = torch.randn(3, 2, requires_grad=True)
    z = x @ w
    loss = (z * z).sum() + (x @ w).sum()
    g = explorer.trace_backward(loss, {"x": x, "w": w})
    xs = [n for n in g.nodes if n.label == "x"]
    assert len(xs) == 1 and xs[0].kind == "data"
    saved_from_x = [e for e in g.edges if e.src == xs[0].id and e.kind == "saved"]
    assert len(saved_from_x) == 2                   # both matrix products kept x for backward
    mul = g.node("MulBackward0")
    assert mul.value is not None or any(e.kind == "saved" for e in g.inputs(mul.id, "saved"))


def test_depth_1000_does_not_recurse():
    limit = sys.getrecursionlimit()
    h = torch.randn(2, 4)
    ws = []
    for _ in range(1000):
        w = (torch.randn(4, 4) * 0.3).requires_grad_()
        ws.append(w)
        h = torch.tanh(h @ w)
    g = explorer.trace_backward(h.sum(), {f"w{i}": w for i, w in enumerate(ws)})
    assert sum(1 for n in g.nodes if n.kind == "leaf") == 1000
    assert ops(g).count("TanhBackward0") == 1000
    assert g.steps == 3001 and sys.getrecursionlimit() == limit
    assert all(n.grad is not None for n in g.nodes if n.kind in ("op", "leaf"))


def test_explain_step_tells_why_w_grad_is_40_80():
    g = explorer.run(explorer.PRESETS["single_step"]).graph
    text = explain_step(g, 3)
    assert "PowBackward0" in text and "[20, 40] × [2, 2]" in text and "[40, 80]" in text
    assert "w.grad" in explain_step(g, 4) and "[40, 80]" in explain_step(g, 4)
    assert "1" in explain_step(g, 0)
    zh = explain_step(g, 3, "zh")
    assert "局部导数" in zh and "[40, 80]" in zh


def test_explain_every_step_of_every_preset():
    for name, exp in explorer.PRESETS.items():
        g = explorer.run(exp).graph
        for k in range(g.steps + 1):
            for lang in ("en", "zh"):
                assert explain_step(g, k, lang).strip()


def _step_of(g, op):
    return next(k for k in range(1, g.steps + 1) if g.step(k).op == op)


def test_the_linear_layer_steps_show_their_numbers():
    """The course's third example: x @ w + b then MSELoss, each matrix step with the real float32 numbers."""
    g = explorer.run(explorer.PRESETS["linear_layer"]).graph
    mm = explain_step(g, _step_of(g, "MmBackward0"))
    assert "dL/dw = xᵀ · dL/dZ" in mm and "```" in mm
    assert "⎡1 1⎤" in mm and "⎡ 0.3499 -0.1134  -2.811⎤" in mm and "0.1749 -0.0567  -1.405" in mm
    mse = explain_step(g, _step_of(g, "MseLossBackward0"))
    assert "dL/dz = 2 · (z − y) / 6" in mse and "0.5248" in mse and "0.1749" in mse
    add = explain_step(g, _step_of(g, "AddBackward0"))
    assert ("dL/db, summed over the 2 rows it was broadcast along: [0.1749, -0.0567, -1.405] + "
            "[0.1749, -0.0567, -1.405] = **[0.3499, -0.1134, -2.811]**") in add
    zh = explain_step(g, _step_of(g, "MmBackward0"), "zh")
    assert "代入数字" in zh and "⎡1 1⎤" in zh


def test_big_matrices_get_one_element_worked_out_and_stay_short():
    exp = explorer.Experiment(tensors={"a": "torch.randn(40, 30)", "b": "torch.randn(30, 20)"}, trainable=("a", "b"),
                              loss="loss = (a @ b).pow(2).mean()")
    g = explorer.run(exp).graph
    text = explain_step(g, _step_of(g, "MmBackward0"))
    assert "```" not in text and len(text) < 2000
    da = next(e.grad for e in g.inputs(g.step(_step_of(g, "MmBackward0")).id) if g.node(e.src).label == "a")
    i, j = (int(v) for v in torch.unravel_index(da.abs().argmax(), da.shape))
    assert f"dL/da[{i}, {j}] = Σₖ dL/dZ[{i}, k] · b[{j}, k] = " in text and "(14 more terms)" in text
    from explorer.numbers import num as _num
    assert f"**{_num(float(da[i, j]))}**" in text


def test_softmax_step_works_out_one_row():
    exp = explorer.Experiment(tensors={"w": "[[1., 2., 3.], [0., 0., 1.]]", "u": "[[1., 0., 0.], [0., 1., 0.]]"},
                              trainable=("w",), loss="loss = (torch.softmax(w, dim=1) * u).sum()")
    g = explorer.run(exp).graph
    text = explain_step(g, _step_of(g, "SoftmaxBackward0"))
    assert "s = [" in text and "Σ g·s" in text


def test_log_softmax_step_works_out_one_row():
    exp = explorer.Experiment(tensors={"w": "[[1., 2., 3.], [0., 0., 1.]]"}, trainable=("w",),
                              loss="loss = F.cross_entropy(w, torch.tensor([0, 2]))")
    g = explorer.run(exp).graph
    text = explain_step(g, _step_of(g, "LogSoftmaxBackward0"))
    assert "softmax(z) = [0.09003, 0.2447, 0.6652], g = [-0.5, 0, 0], Σg = -0.5" in text
    assert "= **[-0.455, 0.1224, 0.3326]** (the row with the largest |gradient|" in text
