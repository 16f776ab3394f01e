"""`python -m bench [--quick]`: time Autograd Explorer against the baselines it replaces.

`python -m bench load` plays a class of students (`--hostile K`: with K visitors opening the worst links);
`python -m bench hostile` measures each of those links alone; `python -m bench memory` measures one
request's peak; `python -m bench reruns` the server CPU of view-only reruns; `python -m bench calibrate`
the page budget's estimates against measured CPU time; `python -m bench paint` how long a visitor waits
for the first graph.

Each baseline runs in this same process, alternating with our side, so both see the same
machine load and the ratio is meaningful even where absolute times are not. Only the work
being compared is timed: building a fresh forward graph (which backward frees) happens
outside the clock. The explorer modules are imported lazily so one missing piece leaves
the other rows standing.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import io
import statistics
import sys
import time

import torch

DEPTHS = (10, 100, 300)
DEEP = 1000
BATCH, WIDTH = 4, 8
EPOCHS, LR, W0 = 500, 0.01, 10.0


def mlp(depth: int):
    """A tanh MLP `depth` layers deep; returns (loss, {name: leaf}) with every W_i, b_i a named leaf."""
    g = torch.Generator().manual_seed(depth)
    h = torch.randn(BATCH, WIDTH, generator=g)
    params = {}
    for i in range(depth):
        W = (torch.randn(WIDTH, WIDTH, generator=g) / WIDTH ** 0.5).requires_grad_()
        b = torch.zeros(WIDTH).requires_grad_()
        params[f"W{i}"], params[f"b{i}"] = W, b
        h = torch.tanh(h @ W + b)
    return h.sum(), params


def _timed(fn, arg) -> float:
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn(arg)
        return time.perf_counter() - t0
    finally:
        gc.enable()


def compare(ours, base, setup, repeats: int, warmup: int = 1):
    """Median seconds of `ours(setup())` and `base(setup())`, interleaved; a side that raises gives its error."""
    times = {"ours": [], "base": []}
    failed = {}
    for i in range(warmup + repeats):
        for side, fn in (("ours", ours), ("base", base)):
            if fn is None or side in failed:
                continue
            try:
                dt = _timed(fn, setup())
            except Exception as e:  # noqa: BLE001 - the table reports it
                failed[side] = e
                continue
            if i >= warmup:
                times[side].append(dt)
    return tuple(failed.get(s) or (statistics.median(times[s]) if times[s] else None) for s in ("ours", "base"))


def trace_and_render(arg):
    import explorer
    from explorer.render import to_dot
    loss, params = arg
    return to_dot(explorer.trace_backward(loss, params))


def trace_and_render_all(arg):
    """As `trace_and_render`, but drawing every node, as torchviz does, instead of the default cap."""
    import explorer
    from explorer.render import to_dot
    loss, params = arg
    graph = explorer.trace_backward(loss, params)
    return to_dot(graph, max_nodes=len(graph.nodes))


def torchviz_source(arg):
    from torchviz import make_dot
    loss, params = arg
    return make_dot(loss, params=params, show_attrs=True, show_saved=True).source


def explorer_run(_):
    import explorer
    return explorer.run(explorer.PRESETS["multi_epoch"])


def seed_loop(_, show: bool = True):
    """The course's loop, verbatim but for its print going to a sink instead of the terminal."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        w = torch.tensor(10, requires_grad=True, dtype=torch.float)
        for epoch in range(EPOCHS):
            loss = w ** 2 + 20
            if w.grad is not None:
                w.grad.zero_()
            loss.sum().backward()
            if show:
                print(f"当前轮次:{epoch + 1} 当前权重: {w.data},固定学习率:{0.01} 更新后梯度: {w.grad},下一个权重: {w.data - 0.01 * w.grad}")
            w.data = w.data - 0.01 * w.grad
    return w


def seed_loop_quiet(arg):
    return seed_loop(arg, show=False)


MLP_EPOCHS = 1000


def explorer_mlp(_):
    import explorer
    return explorer.run(explorer.PRESETS["mlp"].replace(epochs=MLP_EPOCHS))


def exported_multi_epoch(_):
    """`export_script(PRESETS["multi_epoch"])`'s loop by hand, without its print."""
    w = torch.tensor(10, requires_grad=True, dtype=torch.float)
    lr = 0.01
    epochs = 500
    for epoch in range(epochs):
        if w.grad is not None:
            w.grad.zero_()
        loss = w ** 2 + 20
        loss.sum().backward()
        w.data = w.data - lr * w.grad
        if not torch.isfinite(loss.sum()) or not all(torch.isfinite(t).all() for t in [w]):
            break
    return [w]


def exported_mlp(_):
    """`export_script(PRESETS["mlp"].replace(epochs=1000))`'s loop by hand, without its print
    (and the `*_now` copies that only the print reads)."""
    F = torch.nn.functional
    torch.manual_seed(0)
    x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float)
    y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float)
    W1 = torch.randn(2, 4, requires_grad=True)
    b1 = torch.zeros(4, requires_grad=True)
    W2 = torch.randn(4, 1, requires_grad=True)
    b2 = torch.zeros(1, requires_grad=True)
    lr = 0.05
    epochs = MLP_EPOCHS
    optimizer = torch.optim.Adam([W1, b1, W2, b2], lr=lr)
    for epoch in range(epochs):
        optimizer.zero_grad()
        h = torch.tanh(x @ W1 + b1)
        out = h @ W2 + b2
        loss = F.mse_loss(out, y)
        loss.sum().backward()
        optimizer.step()
        if not torch.isfinite(loss.sum()) or not all(torch.isfinite(t).all() for t in [W1, b1, W2, b2]):
            break
    return [W1, b1, W2, b2]


def same_result(ours, base):
    """A row's timings only count if both sides end on the same weights, bit for bit."""
    run, final = ours(None), base(None)
    last = [run.history.params[n][-1] for n in run.history.names]
    if not all(torch.equal(a, b.detach()) for a, b in zip(last, final)):
        raise AssertionError("the baseline's final weights differ from explorer.run's")


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, BaseException):
        if isinstance(v, RecursionError):
            return "RecursionError"
        msg = f"{type(v).__name__}: {v}"
        return msg if len(msg) <= 60 else msg[:57] + "..."
    return f"{v * 1e3:.2f} ms"


def _ratio(ours, base) -> str:
    if isinstance(ours, float) and isinstance(base, float) and base > 0:
        return f"{ours / base:.2f}x"
    return "-"


def rows(quick: bool):
    reps = 2 if quick else 7
    for depth in DEPTHS:
        ours, base = compare(trace_and_render, torchviz_source, lambda d=depth: mlp(d), reps)
        yield f"graph: tanh MLP depth {depth} vs torchviz", ours, base
    ours, base = compare(trace_and_render_all, torchviz_source, lambda: mlp(DEPTHS[-1]), reps)
    yield f"graph: depth {DEPTHS[-1]}, every node drawn, vs torchviz", ours, base
    ours, base = compare(trace_and_render, torchviz_source, lambda: mlp(DEEP), 1 if quick else 3, warmup=0)
    yield f"graph: tanh MLP depth {DEEP} vs torchviz", ours, base

    reps = 1 if quick else 5
    ours, base = compare(explorer_run, seed_loop, lambda: None, reps)
    yield f"train: multi_epoch ({EPOCHS} epochs) vs seed loop", ours, base
    _, base = compare(None, seed_loop_quiet, lambda: None, reps)
    yield "train: (same) vs seed loop without print", ours, base
    for label, ours_fn, base_fn in ((f"multi_epoch ({EPOCHS} epochs)", explorer_run, exported_multi_epoch),
                                    (f"mlp Adam ({MLP_EPOCHS} epochs)", explorer_mlp, exported_mlp)):
        try:
            same_result(ours_fn, base_fn)
        except Exception as e:  # noqa: BLE001 - the table reports it
            ours, base = e, None
        else:
            ours, base = compare(ours_fn, base_fn, lambda: None, reps)
        yield f"train: {label} vs exported loop", ours, base


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["load"]:
        from .load import main as load_main
        return load_main(argv[1:])
    if argv[:1] == ["memory"]:
        from .memory import main as memory_main
        return memory_main(argv[1:])
    if argv[:1] == ["calibrate"]:
        from .calibrate import main as calibrate_main
        return calibrate_main(argv[1:])
    if argv[:1] == ["paint"]:
        from .paint import main as paint_main
        return paint_main(argv[1:])
    if argv[:1] == ["hostile"]:
        from .hostile import main as hostile_main
        return hostile_main(argv[1:])
    if argv[:1] == ["reruns"]:
        from .reruns import main as reruns_main
        return reruns_main(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repeats: a smoke test, not a measurement")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    header = ("case", "ours", "baseline", "ours/baseline")
    table = []
    broken = False
    for name, ours, base in rows(args.quick):
        broken |= isinstance(ours, BaseException) or ours is None
        table.append((name, _cell(ours), _cell(base), _ratio(ours, base)))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    widths = [max(len(r[i]) for r in (header, *table)) for i in range(4)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(header))
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for r in table:
        print(line(r))
    print(f"\nmedian wall time, torch {torch.__version__}, 1 thread"
          f"{', --quick (few repeats)' if args.quick else ''}; ratio < 1 means we are faster.\n"
          "`to_dot` draws at most 150 nodes by default (the rest become one summary node); "
          "torchviz draws every node.")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
