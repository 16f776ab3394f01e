"""Everything the page computes, shared by every session and bounded in bytes.

Plain Python, no Streamlit. A rerun looks training up once (`train`) and hands the Run to every view;
each view is then a lookup keyed on (experiment, epoch, ...) in a `Store`. A class of sixty
students keeps its sixty runs cached together, moving a slider never retrains, and a figure is
built once per run: the shown epoch is patched into its JSON. Runs are deterministic (decided up
front, never cut by the clock), so an evicted run is simply trained again, with the same numbers.
"""
from __future__ import annotations

import csv
import io
from typing import NamedTuple

from . import budget, pool, predict, render
from .engine import Run
from .errors import ExplorerError
from .explain import explain_step, worked_numbers
from .experiment import Experiment, plan
from .export import export_script
from .graph import Graph
from .gradcheck import Report, checkable
from .landscape import Landscape
from .landscape import points as landscape_points
from .store import Store

MB = 2**20
RUNS = Store(160 * MB)      # a run's history is at most 40 MB (limits.MAX_HISTORY); most are kilobytes
GRAPHS = Store(64 * MB)     # traced graphs keep big tensors as previews: tens of kilobytes each
VIEWS = Store(64 * MB)      # DOT, explanations, figure JSON, log rows, scripts
LANDSCAPES = Store(32 * MB)  # the grids behind the landscape figures (one per language and size reuses it)

LOG_ROWS = 50               # epochs the log table shows at once, around the one shown (the CSV has all)
LOG_CELLS = 40_000          # numbers the log table shows at once (big tensors get fewer epochs)
CSV_CELLS = 2_000_000       # numbers in the CSV (~40 MB): every epoch of any run a person would read
LR_NODES = 6                # graphs up to this many nodes are drawn left to right
# The course's printout, column by column (its Chinese headings are the course's own words).
LOG_COLUMNS = {"epoch": ("Epoch", "当前轮次"), "tensor": ("Tensor", "张量"), "weight": ("Weight", "当前权重"),
               "lr": ("Learning rate", "固定学习率"), "grad": ("Gradient", "更新后梯度"),
               "next": ("Next weight", "下一个权重"), "loss": ("Loss", "损失")}


def train(exp: Experiment) -> Run:
    """Validate and train (in a worker process where there is a spare core); raises ExplorerError
    for bad input, and errors are not cached."""
    def make():
        p = plan(exp)                 # a bad input is explained here, without a worker
        return pool.run(exp, budget.train_ns(p.cost, exp.optimizer, exp.epochs))
    return RUNS.get(exp, make)


def graph_of(run: Run, epoch: int) -> Graph:
    """Epoch `epoch`'s graph, traced in a worker (a bounded, stoppable task), once per (experiment, epoch)."""
    run.check_epoch(epoch)
    return GRAPHS.get((run.experiment, epoch),
                      lambda: pool.call("trace", run, epoch, estimate=budget.trace_ns(run.plan.cost)))


def dot_of(run: Run, epoch: int, step: int | None, projection: bool, lang: str,
           narrow: bool = False, focus: bool = False, conceal: bool = False) -> str:
    """DOT of the graph at `step`; on a narrow (phone) screen always top to bottom. `focus`: only the
    step's part of the graph (`render.focused`), top to bottom, its long numbers wrapped. `conceal`:
    what the step sends is a question not answered yet (predict mode)."""
    def make():
        graph = graph_of(run, epoch)
        return render.to_dot(graph, step, projection=projection, lang=lang, focus=focus, conceal=conceal,
                             rankdir="LR" if wide(graph) and not narrow and not focus else "TB")
    return VIEWS.get(("dot", run.experiment, epoch, step, projection, lang, narrow, focus, conceal), make)


def focus(graph: Graph, projection: bool) -> bool:
    """Whether the graph is drawn around the step with the whole as a map: on the wall, where a graph
    of more than a few nodes drawn whole would shrink its text below what the back row reads."""
    above = render.sizes(projection).focus_above
    return above is not None and len(graph.nodes) > above


def map_of(run: Run, epoch: int, step: int | None, projection: bool) -> str:
    """DOT of the whole graph as a map of dots, `step` marked (`render.to_map`)."""
    return VIEWS.get(("map", run.experiment, epoch, step, projection),
                     lambda: render.to_map(graph_of(run, epoch), step, projection=projection))


def wide(graph: Graph) -> bool:
    """Small graphs read best left to right, across the page; bigger ones are drawn top to bottom,
    or they would shrink to unreadable (the course's linear layer is 2000 px wide left to right)."""
    return len(graph.nodes) <= LR_NODES


def explanation(run: Run, epoch: int, step: int, lang: str, worked: bool = True, conceal: bool = False) -> str:
    def make():
        graph = graph_of(run, epoch)
        node = graph.step(step) if step else None
        leaf = node is not None and node.kind == "leaf"
        check = None
        if leaf:
            try:
                check = gradcheck(run, epoch)
            except ExplorerError:      # stopped: the step is explained without the estimate
                pass
        return explain_step(graph, step, lang=lang, check=check, worked=worked, conceal=conceal)
    return VIEWS.get(("explain", run.experiment, epoch, step, lang, worked, conceal), make)


def questions(run: Run, epoch: int) -> dict:
    """{step: predict.Question} of epoch `epoch`: what each backward step asks before it tells."""
    return VIEWS.get(("questions", run.experiment, epoch), lambda: predict.questions(graph_of(run, epoch), run, epoch))


def worked(run: Run, epoch: int, step: int, lang: str) -> str:
    return VIEWS.get(("worked", run.experiment, epoch, step, lang),
                     lambda: worked_numbers(graph_of(run, epoch), step, lang=lang))


def gradcheck(run: Run, epoch: int) -> Report:
    """Autograd's gradient beside float64 central differences, and any kinks; two forward passes per
    checked element, as many elements as the check's share of the page's budget pays for, computed in a
    worker once per (experiment, epoch)."""
    estimate = budget.check_ns(run.plan.cost, checkable(run))
    return VIEWS.get(("gradcheck", run.experiment, epoch), lambda: pool.call("gradcheck", run, epoch, estimate=estimate))


def image(dot: str, fmt: str) -> bytes:
    """SVG or PNG of a graph, drawn by Graphviz's `dot` only when a student asks to download it."""
    import graphviz
    return VIEWS.get(("image", dot, fmt), lambda: graphviz.Source(dot).pipe(format=fmt))


def curve(run: Run, which: str, epoch: int, log_y: bool, projection: bool, lang: str) -> str:
    """Plotly JSON of the loss ("loss"), weights ("params") or gradients ("grads") with `epoch` marked."""
    h = run.history
    spec = VIEWS.get(("curve", run.experiment, which, log_y, projection, lang),
                     lambda: render.curve_json(h, which, log_y=log_y, projection=projection, lang=lang))
    return render.mark(spec, epoch, float(h.losses[epoch - 1]) if which == "loss" and len(h) else None)


def landscape_grid(run: Run, epoch: int, directions: str = "moved") -> Landscape:
    """The loss over the weights at `epoch`, computed in a worker once per (experiment, epoch, slice)."""
    return LANDSCAPES.get((run.experiment, epoch, directions),
                          lambda: pool.call("landscape", run, epoch, directions=directions,
                                            estimate=landscape_estimate(run)))


def landscape_estimate(run: Run) -> float:
    """What one landscape of this run costs: its full grid, or its whole share where that is coarser."""
    full = budget.landscape_ns(run.plan.cost, landscape_points(2) ** 2, len(run.history))
    return min(full, budget.share_ns("landscape"))


def landscape(run: Run, epoch: int, projection: bool, lang: str, directions: str = "moved") -> str:
    """Plotly JSON of the loss landscape at `epoch` (the slice's other weights are that epoch's)."""
    def make():
        land = landscape_grid(run, epoch, directions)
        return render.landscape_json(land, run.history.losses.tolist(), epoch, projection=projection, lang=lang)
    return VIEWS.get(("landscape", run.experiment, epoch, projection, lang, directions), make)


def racer_experiments(exp: Experiment, optimizers: tuple, lr2: float | None) -> list[tuple]:
    """(optimizer, second lr or None, experiment) for each racer: each chosen optimizer at the experiment's
    lr, then each again at `lr2` (as `engine.compare` builds them: `exp.replace(optimizer=...)`)."""
    out = [(o, None, exp.replace(optimizer=o)) for o in optimizers]
    if lr2 is not None:
        out += [(o, lr2, exp.replace(optimizer=o, lr=lr2)) for o in optimizers]
    return out


class Race(NamedTuple):
    runs: list                                  # (optimizer, second lr or None, Run), in racer order
    error: ExplorerError | None        # why the second learning rate's runs are missing
    left_out: list                              # (optimizer, second lr or None): over the race's budget
    each: float = 0.0                           # seconds one left-out racer would train, estimated


def race_runs(exp: Experiment, optimizers: tuple, lr2: float | None) -> Race:
    """The racers that fit the race's share of the page's budget, trained.

    Every racer is `train`ed: the shared, bounded RUNS store and the worker pool, so a race is cached
    and shared like any run, and the racer that is the page's own experiment costs the race nothing.
    Racers are taken in order (the chosen optimizers at the page's learning rate, then at the second)
    while their estimated training fits; the rest are named, not run. A bad second learning rate is
    validated by `plan` like the main one and explained, never raised."""
    runs, error, costs = [], None, []
    for opt, lr, e in racer_experiments(exp, optimizers, lr2):
        try:
            p = plan(e)
        except ExplorerError as err:
            if lr is None:
                raise
            error = err
            continue
        ns = 0.0 if e == exp else budget.train_ns(p.cost, opt, e.epochs)
        costs.append(((opt, lr, e), ns))
    fit, out = budget.racers_that_fit(costs)
    for opt, lr, e in fit:
        runs.append((opt, lr, train(e)))
    each = max((ns for r, ns in costs if r in out), default=0.0) / budget.NS
    return Race(runs, error, [(opt, lr) for opt, lr, _ in out], each)


def _racers(runs: list) -> list:
    return [(opt, lr, r.history.losses.numpy(), r.diverged_at) for opt, lr, r in runs]


def race(runs: list, epoch: int, log_y: bool, projection: bool, lang: str) -> str:
    """Plotly JSON of the race's loss curves and winner strip, built once per race, `epoch` marked."""
    key = ("race", tuple((opt, lr, r.experiment) for opt, lr, r in runs), log_y, projection, lang)
    spec = VIEWS.get(key, lambda: render.race_json(_racers(runs), log_y=log_y, projection=projection, lang=lang))
    return render.mark(spec, epoch)


def race_landscape(run: Run, runs: list, epoch: int, projection: bool, lang: str,
                   directions: str = "moved") -> str:
    """Plotly JSON of every racer's path on the landscape of the page's own run at `epoch`."""
    key = ("race_landscape", run.experiment, tuple((opt, lr, r.experiment) for opt, lr, r in runs), epoch,
           projection, lang, directions)

    def make():
        others = [r for _, _, r in runs]
        land = pool.call("landscape", run, epoch, directions=directions, others=others,
                         estimate=landscape_estimate(run))
        return render.race_landscape_json(land, _racers(runs), epoch, projection=projection, lang=lang)
    return VIEWS.get(key, make)


def script(exp: Experiment) -> str:
    return VIEWS.get(("script", exp), lambda: export_script(exp))


def log_rows(run: Run, lang: str, start: int, stop: int) -> tuple[list[str], list[list]]:
    return VIEWS.get(("log", run.experiment, lang, start, stop), lambda: log_table(run, lang, start, stop))


def log_csv(run: Run, lang: str) -> bytes:
    def make():
        header, rows = log_table(run, lang, 0, log_limits(run)[1])
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(header)
        w.writerows(rows)
        return out.getvalue().encode("utf-8-sig")      # the BOM lets Excel read the Chinese headers
    return VIEWS.get(("csv", run.experiment, lang), make)


# ---------------------------------------------------------------- plain logic

def log_limits(run: Run) -> tuple[int, int]:
    """(epochs the table shows at once, epochs the CSV holds): fewer when the tensors are big."""
    h = run.history
    numbers = 1 + 3 * sum(h.params[n][0].numel() for n in h.names)
    return max(1, min(LOG_ROWS, LOG_CELLS // numbers)), max(1, min(len(h), CSV_CELLS // numbers))


def log_table(run: Run, lang: str, start: int = 0,
              stop: int | None = None) -> tuple[list[str], list[list]]:
    """The course's per-epoch printout as rows: epoch, (tensor,) weight, lr, gradient, next weight, loss.

    Numbers are `.tolist()` of the float32 tensors, the exact values the course prints, as text: a
    table would round a float column for display. Several
    trainable tensors get a row each per epoch (a 5x3 weight does not fit beside another one).
    """
    h = run.history
    names = h.names
    per_tensor = len(names) > 1
    columns = ["epoch"] + (["tensor"] if per_tensor else []) + ["weight", "lr", "grad", "next", "loss"]
    header = [LOG_COLUMNS[c][1 if lang == "zh" else 0] for c in columns]
    lr = run.experiment.lr
    stop = len(h) if stop is None else min(stop, len(h))
    rows = []
    for i in range(max(0, start), stop):
        loss = float(h.losses[i])
        for n in names:
            g = h.grads[n]
            row = [i + 1] + ([n] if per_tensor else [])
            row += [_num(h.params[n][i]), repr(lr), "None" if g is None else _num(g[i]), _num(h.params[n][i + 1]),
                    repr(loss)]
            rows.append(row)
    return header, rows


def _num(x) -> str:
    v = x.tolist()
    return repr(v) if isinstance(v, float) else str(v)
