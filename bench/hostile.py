"""`python -m bench hostile`: the most expensive links a hostile visitor can craft, each measured alone.

A link carries the whole experiment (explorer/share.py), so anyone can hand the server any experiment
the language accepts (README "Safety"). `LINKS` are the worst found, each with what it attacks. Every
link is measured as a whole page view, the way a visitor who means harm would use it: open the link
(on the tab it names, the Graph tab unless it says otherwise), then every other tab: Graph, Curves,
Log, Code, Landscape and Race; on the Landscape and the Race tab also the other slice direction where
the radio is offered (more than two trained numbers). Every link asks the race for every optimizer and
a second learning rate (`race_lr`).

Each link is measured alone on a quiet server of its own (started for it, warmed by one page load,
stopped after): the server's CPU-seconds over the page view (utime + stime + cutime + cstime of the app's
whole process tree, which includes the training workers under their forkserver) and its peak RSS above
idle. A page view has a timeout; work the server goes on doing after the page has answered (a worker
still training a run the page gave up on) is waited for, within the same timeout, and counted.

`python -m bench load --hostile K` plays K such visitors beside a class of students (bench/load.py);
a visitor there changes the seed of every link it opens, so nothing is served from the cache.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from explorer import Experiment, ExplorerError, budget, share
from explorer import limits as L
from explorer.experiment import plan
from explorer.ui.text import TEXT

from . import load

# ------------------------------------------------------------------ the links

N = 10_000                                 # elements of the largest input tensor (limits.MAX_ELEMENTS)
KL = "f = torch.nn.KLDivLoss(reduction='sum')"
RACE_LR = 0.1                              # every link races every optimizer, also at this learning rate


def _kl_terms(count: int, inputs=("w",), target: str = "t") -> str:
    """`loss = f(w, t) + f(w, t) + ...`, `count` terms cycling over `inputs`; beyond five, three a line."""
    terms = [f"f({inputs[i % len(inputs)]}, {target})" for i in range(count)]
    if count <= 5:
        return f"{KL}\nloss = " + " + ".join(terms)
    lines = [KL] + [f"k{j} = " + " + ".join(terms[i:i + 3]) for j, i in enumerate(range(0, count, 3))]
    return "\n".join(lines + ["loss = " + " + ".join(f"k{j}" for j in range(len(lines) - 1))])


def _kl(count: int, epochs: int = 1, inputs=("w",), target_trainable: bool = False, n: int = N,
        **more) -> Experiment:
    """kl_div of (1, N) inputs against a (N, 1) target: broadcast inside the op to N x N = 1e8 numbers
    (0.4 GB in float32, 0.8 GB in the gradient check's float64) per term, while the dry run sees
    only the scalar it returns (no `inside=` in its op-table entry) and charges ~2N element-ops."""
    tensors = tuple((name, f"torch.randn(1, {n})") for name in inputs) + (("t", f"torch.rand({n}, 1)"),)
    return Experiment(tensors=tensors, trainable=tuple(inputs) + (("t",) if target_trainable else ()),
                      loss=_kl_terms(count, inputs), epochs=epochs, **more)


def _bmm_loss(products: int) -> str:
    """A chain of (1, 300, 300) x (1, 300, 300) products: 2.7e7 multiply-adds each. The op table's
    `_products` charges bmm `a.numel() * b.shape[0] / 8 + b.numel()`, and b.shape[0] is the batch (1),
    not the columns (300): each product is charged as ~1/35 of its multiply-adds."""
    lines = ["a = torch.cat([w, w, w], dim=1)", "b = torch.cat([a, a, a], dim=2) / 17.3", "c0 = torch.bmm(b, b)"]
    lines += [f"c{i} = torch.bmm(c{i - 1}, b)" for i in range(1, products)]
    return "\n".join(lines + [f"loss = torch.tanh(c{products - 1}).mean()"])


def _bce_loss(lines: int) -> str:
    """binary_cross_entropy, twice a line, over a 100,000-element sigmoid: the op table's costliest element."""
    body = "F.binary_cross_entropy(p, p.detach()) + F.binary_cross_entropy(p, p.detach())"
    return ("p = torch.sigmoid(w.reshape(100, 100, 1).expand(100, 100, 10))\n" +
            "\n".join(f"a{i} = {body}" for i in range(lines)) + "\nloss = a0 + a1")


def _edge_mlp() -> Experiment:
    exp = Experiment(tensors=(("x", "torch.randn(1000, 10)"), ("y", "torch.randn(1000, 1)"), ("W1", "torch.randn(10, 20)"),
                              ("b1", "torch.zeros(20)"), ("W2", "torch.randn(20, 1)"), ("b2", "torch.zeros(1)")),
                     trainable=("W1", "b1", "W2", "b2"), optimizer="adam", lr=0.01,
                     loss="h = torch.tanh(x @ W1 + b1)\ng = torch.sin(h) * torch.cos(h)\nloss = F.mse_loss(g @ W2 + b2, y)")
    return exp.replace(epochs=most_epochs(exp))


def _mm_chain(count: int) -> str:
    """W1 @ W2 @ ... @ W8 as 100 x 100 products, squashed so nothing diverges."""
    lines = ["h1 = torch.tanh(torch.mm(W1, W2) / 10)"]
    lines += [f"h{i} = torch.tanh(torch.mm(h{i - 1}, W{i + 1}) / 10)" for i in range(2, count)]
    return "\n".join(lines + [f"loss = (h{count - 1} ** 2).mean()"])


@dataclass(frozen=True)
class Link:
    name: str
    attacks: str                                 # what it costs the server, and why the bounds miss it
    experiment: Experiment
    view: dict = field(default_factory=dict)     # share.to_query view settings: tab, dirs, race, race_lr, ...

    def query(self, seed: int | None = None) -> str:
        """The link's query string; another `seed` makes the same link with other random numbers
        (the same cost, another cache key)."""
        exp = self.experiment if seed is None else self.experiment.replace(seed=seed)
        return urlencode(share.to_query(exp, "en", None, **{"race_lr": RACE_LR, **self.view}),
                         quote_via=quote, safe=":,*")

    @property
    def tab(self) -> int:
        return int(self.view.get("tab", 0))


def most_epochs(exp: Experiment) -> int:
    """The most epochs of `exp` the dry run's budget accepts (work and recorded history), at least 1."""
    try:
        p = plan(exp.replace(epochs=1))
    except ExplorerError:
        return 1
    trained = sum(math.prod(p.specs[n].shape) for n in p.trainable)
    return max(1, min(L.MAX_EPOCHS, budget.epochs_that_fit(p.cost, exp.optimizer), L.MAX_HISTORY // (2 * trained)))


@functools.cache
def links() -> tuple[Link, ...]:
    bmm = Experiment(tensors=(("w", "torch.randn(1, 100, 100)"),), trainable=("w",), loss=_bmm_loss(17), lr=1e-6)
    many = Experiment(tensors=tuple((f"W{i}", "torch.randn(100, 100)") for i in range(1, 9)),
                      trainable=tuple(f"W{i}" for i in range(1, 9)), loss=_mm_chain(8), optimizer="adam")
    return (
        Link("kldiv4", "The link found on main: four kl_div terms, 1 epoch. Graph tab: the trace runs forward and "
             "backward over four 1e8-element temporaries, then the gradient check runs 2 x 64 float64 forward "
             "passes of them (the check's budget believes each costs ~1e5 element-ops).",
             _kl(4)),
        Link("kldiv10", "The same with ten terms: 2.5x the CPU of kldiv4 on every tab, same memory. Training "
             "1 epoch still fits the 60 s guard on a quiet server.",
             _kl(10)),
        Link("gradcheck", "Most gradient-check work: 8 trainable tensors (7 inputs and the target, 7 x 10,000 + "
             "10,000 numbers), each checked at 64 elements, 2 float64 forward passes each: 1,024 passes of 14 "
             "kl_div terms. The check's budget (limits.MAX_CHECK_WORK) divides by the dry run's estimate, "
             "which misses the terms' insides, so nothing is cut.",
             _kl(14, inputs=tuple(f"w{i}" for i in range(1, 8)), target_trainable=True)),
        Link("landscape", "Most landscape work, opened on the Landscape tab: as many grid points as LANDSCAPE_WORK "
             "allows at the dry run's estimate of a point (~4e5 element-ops: 21 x 21), each really four passes "
             "over 1e8 numbers (~1.5 s), for the 'moved' and then the 'random' slice, then twice more in the "
             "race's landscape. torch.func.vmap has no batching rule for kl_div: its fallback evaluates the grid "
             "point by point. Every tab before it is skipped by opening the link on it (tab=4).",
             _kl(4), {"tab": 4}),
        Link("race", "Most race work, opened on the Race tab: 31 epochs of one kl_div term, ~35 s a run: under "
             "the 60 s guard on a quiet server, and never looked at by the engine's clock (first at epoch 32), "
             "so on a busy one the worker finishes it anyway after the page gave up. Then every optimizer again "
             "and at race_lr: 7 more such runs, one after the other on the one worker, then the race's "
             "landscape (30 x 30 kl_div passes) for both slices.",
             _kl(1, epochs=31), {"tab": 5}),
        Link("runaway", "Training the page gives up on: 31 epochs of ten kl_div terms (~7 min). The page "
             "refuses it after the 60 s guard ('too_slow'), but the engine only looks at the clock every 32 "
             "epochs and a started worker task cannot be cancelled: the worker trains on, and every other "
             "visitor's training queues behind it. Nothing is cached, so each visit starts another.",
             _kl(10, epochs=31)),
        Link("bmm", "bmm charged ~35x below its multiply-adds (a chain of 17 (1, 300, 300) products), with as "
             "many epochs as the budget accepts; opened on the Race tab: 8 such runs.",
             bmm.replace(epochs=most_epochs(bmm)), {"tab": 5, "race_lr": 1e-5}),
        # Against the page budget (issue 12): each accepted at the edge of one part's share, where the
        # estimate is least sure (ops vmap batches badly, row-wise ops, small matrix products).
        Link("train_edge", "The heaviest training the budget accepts (a 1000-row tanh MLP, Adam, the most epochs "
             "that fit the training share), opened on the Race tab with a second learning rate: the race "
             "can only keep the racers that fit its share.",
             _edge_mlp(), {"tab": 5}),
        Link("trace_edge", "An epoch just under the trace share: binary_cross_entropy (the costliest element in "
             "the op table) over 100,000-element values, on the Graph tab, every step explained.",
             Experiment(tensors=(("w", "torch.randn(100, 100)"),), trainable=("w",), loss=_bce_loss(8))),
        Link("kldiv_small", "kl_div sized inside (250 x 250 broadcast) but with no vmap batching rule: the "
             "landscape runs it once per point. Opened on the Landscape tab.",
             _kl(6, n=250), {"tab": 4}),
        Link("softmax_rows", "Softmax over 5,000 rows of 2: a vmap batch pays per row. Landscape tab.",
             Experiment(tensors=(("w", "torch.randn(100, 100)"),), trainable=("w",),
                        loss="\n".join(f"s{i} = torch.softmax(w.reshape(5000, 2) * {i + 1}, dim=1)" for i in range(8))
                             + "\nloss = (s0 * s1 * s2 * s3 * s4 * s5 * s6 * s7).sum()"), {"tab": 4}),
        Link("small_k", "Matrix products with an inner size of 1 (1,000 x 1 by 1 x 10): batched, each point "
             "redoes them element by element. Landscape tab.",
             Experiment(tensors=(("x", "torch.randn(1000, 1)"), ("w", "torch.randn(1, 10)"), ("y", "torch.randn(1000, 10)")),
                        trainable=("w",), loss="\n".join(f"z{i} = torch.tanh(x @ w * {i + 1})" for i in range(6))
                        + "\nloss = F.mse_loss(z0 + z1 + z2 + z3 + z4 + z5, y)"), {"tab": 4}),
        Link("many_trainable", "MAX_TENSORS trainable (8 x 100 x 100, Adam), as many epochs as the recorded "
             "history allows: per-tensor costs (64 checked elements each, Adam state, log rows, random "
             "directions over 80,000 numbers). Honest sizes: a guard for when the unsized ops are fixed.",
             many.replace(epochs=most_epochs(many))),
    )


def by_name(names: str | None) -> list[Link]:
    """The links named in a comma-separated list (all if None); unknown names raise ValueError."""
    known = {link.name: link for link in links()}
    if not names:
        return list(known.values())
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ValueError(f"unknown link(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in chosen]


# ------------------------------------------------------------------ one page view

TABS = ("tab_graph", "tab_curves", "tab_log", "tab_code", "tab_landscape", "tab_race")   # in the page's order
SLICED = {"tab_landscape", "tab_race"}      # tabs with the slice radio (more than two trained numbers)
OUTCOMES = ("shown", "cut", "refused", "failed", "timeout", "unfinished")   # better to worse
# Alerts that are part of a page shown in full: the run's notes, kinks, .detach(), an empty race.
ORDINARY_ICONS = (":material/lightbulb:", ":material/content_cut:", ":material/sports_score:")
ORDINARY_TEXTS = tuple(s.split("{")[0] for s in TEXT["kink"])
REFUSED_ICON = ":material/history:"         # the page shows the last valid experiment instead of this one
FAILED_TEXTS = tuple(s.split("{")[0].strip() for k in ("graph_failed", "internal", "gradcheck_failed")
                     for s in TEXT[k])
CUT_TEXTS = tuple(s.rsplit("}", 1)[-1].lstrip(":： ") for s in TEXT["gradcheck_none"])   # markdown, not an alert


@dataclass
class Step:
    name: str                  # "open: graph", "curves", "landscape: random", ...
    latency: float | None      # seconds from the click to script_finished (time waited, on a timeout)
    outcome: str               # one of OUTCOMES
    message: str = ""          # what the page said: the refusal, the note, the error
    cpu: float | None = None   # server CPU-seconds during the step (measured alone only)
    mb: float | None = None    # peak RSS of the app's tree during the step, above idle (measured alone only)


@dataclass
class View:
    """One page view of one link: its steps, in order, as far as they got."""
    session: int
    link: str
    steps: list = field(default_factory=list)
    wall: float = 0.0
    cut_short: str = ""        # "timeout" or "unfinished" if the view did not get through every tab

    @property
    def outcome(self) -> tuple[str, str]:
        """(worst outcome, its message): a view is as bad as its worst step."""
        if self.cut_short:
            last = self.steps[-1] if self.steps else None
            return self.cut_short, (f"at {last.name} " if last else "") + f"after {self.wall:.0f} s"
        worst = max(self.steps, key=lambda s: OUTCOMES.index(s.outcome), default=None)
        return (worst.outcome, worst.message) if worst else ("failed", "no step ran")


def judge(tab: load.Tab) -> tuple[str, str]:
    """(outcome, message) of the page a tab shows now. refused: the app shows the last valid experiment
    instead of the link's (its message from the sidebar's error, or the status line); failed: an exception
    or the app's own failure texts; cut: any other error, warning or info alert that is not one of a
    full page's notes (a part left out, with a note), or the gradient check's "not checked"; else shown."""
    outcome, message = "shown", ""
    rank = OUTCOMES.index
    errors, texts = [], []
    for node in tab.nodes.values():
        el = node.element
        kind = el.WhichOneof("type") if el is not None else None
        if kind == "exception":
            return "failed", f"exception {el.exception.type}: {el.exception.message[:160]}"
        if kind == "markdown" and any(s and s in el.markdown.body for s in CUT_TEXTS):
            texts.append(("cut", el.markdown.body[:160]))
        if kind != "alert":
            continue
        a = el.alert
        if any(s and s in a.body for s in FAILED_TEXTS):
            return "failed", a.body[:160]
        if a.icon == REFUSED_ICON:
            texts.append(("refused", a.body[:160]))
        elif a.format == a.ERROR:
            errors.append(a.body[:160])
        elif a.icon not in ORDINARY_ICONS and not a.body.startswith(ORDINARY_TEXTS):
            texts.append(("cut", a.body[:160]))
    if any(o == "refused" for o, _ in texts):
        return "refused", errors[0] if errors else next(m for o, m in texts if o == "refused")
    if errors:
        texts.append(("cut", errors[0]))
    for o, m in texts:
        if rank(o) > rank(outcome):
            outcome, message = o, m
    return outcome, message


async def page_view(base: str, link: Link, timeout: float, *, session: int = 0, seed: int | None = None,
                    probe=None, memory=None, view: View | None = None) -> View:
    """Open `link` in a new browser tab, then click every other tab (and the other slice where offered),
    one after the other, within `timeout` seconds in all. `probe()`, if given, is read before and after
    each step and the difference kept as the step's `cpu`; `memory` (a StepPeak) gives its `mb`. Fills
    and returns `view` (pass one in to keep the steps of a view that gets cancelled)."""
    view = view or View(session, link.name)
    tab = load.Tab(base, {}, timeout)
    t0 = time.perf_counter()
    deadline = t0 + timeout

    async def step(name: str, act) -> bool:
        tab.timeout = max(0.01, deadline - time.perf_counter())
        before = probe() if probe else None
        if memory:
            memory.new_step()
        t1 = time.perf_counter()
        try:
            latency = await act()
            outcome, message = judge(tab)
        except asyncio.CancelledError:          # the run is over (the students are done): keep what got this far
            view.steps.append(Step(name, time.perf_counter() - t1, "unfinished", "the run ended during this step",
                                   probe() - before if probe else None, memory.step_mb() if memory else None))
            raise
        except load.TabBroken as e:
            latency, outcome, message = e.waited, ("timeout" if e.waited is not None else "failed"), str(e)
        except LookupError as e:
            latency, outcome, message = None, "failed", str(e)
        view.steps.append(Step(name, latency, outcome, message, probe() - before if probe else None,
                               memory.step_mb() if memory else None))
        view.wall = time.perf_counter() - t0
        if outcome == "timeout":
            view.cut_short = "timeout"
        return outcome not in ("timeout", "failed") or not tab.broken

    async def click(label_key: str):
        if tab.widget("tab_en") is None:
            raise LookupError("no tabs on the page")
        return await tab.set("tab_en", TEXT[label_key][0])

    async def other_slice():
        now = tab.value("dirs_en")
        other = TEXT["dirs_random"][0] if now != TEXT["dirs_random"][0] else TEXT["dirs_moved"][0]
        return await tab.set("dirs_en", other)

    try:
        order = [link.tab] + [i for i in range(len(TABS)) if i != link.tab]
        for n, i in enumerate(order):
            key = TABS[i]
            name = key[4:]
            ok = await step(f"open: {name}" if n == 0 else name,
                            (lambda: tab.open(link.query(seed))) if n == 0 else (lambda k=key: click(k)))
            if not ok:
                break
            if key in SLICED and tab.widget("dirs_en") is not None:
                dirs = "random" if tab.value("dirs_en") != TEXT["dirs_random"][0] else "moved"
                if not await step(f"{name}: {dirs}", other_slice):
                    break
    finally:
        view.wall = time.perf_counter() - t0
        await tab.close()
    return view


# ------------------------------------------------------------------ beside a class (bench load --hostile K)

async def visitor(j: int, base: str, chosen: list[Link], timeout: float, stop: asyncio.Event, views: list[View],
                  seed: int = 0) -> None:
    """Hostile visitor `j`: page views of the links in turn, starting at link j, one after the other until
    `stop`; each with a seed of its own, so no page view is served from the cache. A view still going at
    `stop` is cancelled and kept as "unfinished"."""
    k = 0
    while not stop.is_set():
        link = chosen[(j + k) % len(chosen)]
        view = View(j, link.name)
        views.append(view)
        task = asyncio.create_task(page_view(base, link, timeout, session=j, view=view,
                                             seed=1 + (seed * 1_000 + j) * 1_000 + k))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            view.cut_short = view.cut_short or "unfinished"
        await asyncio.gather(task, return_exceptions=True)
        stopper.cancel()
        k += 1


async def with_class(n: int, base: str, k: int, chosen: list[Link], timeout: float, *, first: int = 0,
                     seed: int = 0, think=load.THINK, student_timeout: float = 120.0) -> tuple[list, list[View]]:
    """`load.run_class` with `k` hostile visitors at work from the start until the last student is done."""
    stop, views = asyncio.Event(), []
    visitors = [asyncio.create_task(visitor(j, base, chosen, timeout, stop, views, seed)) for j in range(k)]
    try:
        results = await load.run_class(n, base, first=first, seed=seed, think=think, timeout=student_timeout)
    finally:
        stop.set()
        await asyncio.gather(*visitors, return_exceptions=True)
    return results, views


def views_table(rows: list[tuple[int, list[View]]]) -> str:
    """One row per hostile page view: its outcome, its latency (the whole view) and its slowest step."""
    out = []
    for n, views in rows:
        for v in sorted(views, key=lambda v: v.session):
            o, m = v.outcome
            slow = max((s for s in v.steps if s.latency is not None), key=lambda s: s.latency, default=None)
            out.append((str(n), str(v.session), v.link, o + (f": {m[:80]}" if m and o != "shown" else ""),
                        f"{v.wall:.2f} s", f"{len(v.steps)}",
                        f"{slow.name} {slow.latency:.2f} s" if slow else "-"))
    return load.markdown_table(("students", "visitor", "link", "outcome", "latency", "steps", "slowest step"), out)


# ------------------------------------------------------------------ alone, on a quiet server

QUIET = 0.05            # CPU-seconds per second below which the app's process tree counts as idle
SETTLE = 3.0            # seconds it must stay that quiet


@dataclass
class Alone:
    link: Link
    view: View
    cpu: float              # server CPU-seconds from the click to the end (or the timeout)
    peak_mb: float          # peak summed RSS of the app's tree above idle
    idle_mb: float
    busy_after: float = 0.0     # seconds the server went on working after the page view answered
    still_busy: bool = False    # ... and was still working at the timeout

    @property
    def outcome(self) -> tuple[str, str]:
        o, m = self.view.outcome
        if o not in ("timeout", "unfinished") and self.still_busy:
            return "timeout", f"the page answered ({o}) but the server was still working at the timeout"
        return o, m


class TreeCpu:
    """CPU-seconds of the app's process tree, every process ever seen in it: a process that ends is
    counted through its parent's cutime/cstime once reaped (a worker under the forkserver)."""

    def __init__(self, roots):
        self.roots = roots
        self.pids = load._tree(roots())

    def __call__(self) -> float:
        self.pids |= load._tree(self.roots())
        return load.cpu_seconds(self.pids)


class StepPeak(load.RssPeak):
    """load.RssPeak that also keeps the peak of the current step, above the idle level set by `reset`."""

    idle_kb = step_kb = 0

    def reset(self) -> None:
        self.peak_kb = self.step_kb = 0
        self.sample()
        self.idle_kb = self.peak_kb

    def new_step(self) -> None:
        self.step_kb = 0

    def sample(self) -> None:
        now = sum(load._rss_kb(p) for p in load._tree(self.roots()))
        self.peak_kb, self.step_kb = max(self.peak_kb, now), max(self.step_kb, now)

    def step_mb(self) -> float:
        self.sample()
        return max(0, self.step_kb - self.idle_kb) / 1024


def settle(cpu: TreeCpu, deadline: float) -> tuple[float, bool]:
    """Wait until the tree has used less than QUIET CPU-s/s for SETTLE s, or until `deadline`;
    returns (seconds waited until it went quiet, still busy at the deadline)."""
    t0 = time.perf_counter()
    last, quiet_since = cpu(), t0
    while time.perf_counter() < deadline:
        time.sleep(1.0)
        now = cpu()
        t = time.perf_counter()
        if now - last > QUIET:
            quiet_since = t
        last = now
        if t - quiet_since >= SETTLE:
            return quiet_since - t0, False
    return time.perf_counter() - t0, True


def measure(link: Link, timeout: float, app_dir: Path = load.ROOT) -> Alone:
    """`link` alone on a server of its own: start it, warm it with one page load, let it go quiet,
    then one whole page view, then wait for the server to go quiet again (within the timeout)."""
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        proc, base = load.start_app(Path(tmp), app_dir)
        roots = lambda: [proc.pid]  # noqa: E731
        sampler = StepPeak(roots)
        try:
            asyncio.run(load.warm_up(base))
            cpu = TreeCpu(roots)
            settle(cpu, time.perf_counter() + 30)
            sampler.reset()
            idle = sampler.peak_kb
            sampler.start()
            start, t0 = cpu(), time.perf_counter()
            view = asyncio.run(page_view(base, link, timeout, probe=cpu, memory=sampler))
            busy, still = (0.0, False) if view.cut_short else settle(cpu, t0 + timeout)
            used = cpu() - start
            sampler.sample()
            return Alone(link, view, used, max(0, sampler.peak_kb - idle) / 1024, idle / 1024, busy, still)
        finally:
            sampler.halt.set()
            load.stop_app(proc)


def _fmt(v: float | None, unit: str = "s") -> str:
    return "-" if v is None else f"{v:.1f} {unit}".rstrip()


def alone_table(results: list[Alone]) -> str:
    rows = []
    for r in results:
        o, m = r.outcome
        cut = r.view.cut_short in ("timeout",) or r.still_busy
        rows.append((r.link.name, o + (f": {m[:90]}" if m and o != "shown" else ""),
                     ("≥ " if cut else "") + f"{r.cpu:.1f}", f"{r.peak_mb:.0f}", f"{r.view.wall:.1f}",
                     f"{r.busy_after:.0f}" if r.busy_after or r.still_busy else "-"))
    return load.markdown_table(("link", "outcome", "CPU-s", "MB", "page s", "busy after s"), rows)


def steps_line(view: View) -> str:
    def one(s: Step) -> str:
        used = ", ".join(x for x in (f"{s.cpu:.1f} CPU-s" if s.cpu is not None else "",
                                     f"{s.mb:.0f} MB" if s.mb is not None else "") if x)
        return f"{s.name} {_fmt(s.latency)}" + (f" ({used})" if used else "") + \
            ("" if s.outcome == "shown" else f" {s.outcome}")
    return "; ".join(map(one, view.steps))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench hostile", description=__doc__.splitlines()[0])
    ap.add_argument("--links", help="comma-separated link names (default: all; see --list)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds one page view may take, including "
                                                                  "the server's work after it answered")
    ap.add_argument("--app", type=Path, default=load.ROOT, help="directory whose streamlit_app.py to serve")
    ap.add_argument("--list", action="store_true", help="print the links, what each attacks and its URL; run nothing")
    args = ap.parse_args(argv)
    try:
        chosen = by_name(args.links)
    except ValueError as e:
        ap.error(str(e))
    if args.list:
        for link in chosen:
            try:
                p = plan(link.experiment)
                page = budget.page_ns(p.cost, link.experiment.optimizer, link.experiment.epochs)
                verdict = "accepted, estimated " + ", ".join(f"{k} {v / budget.NS:.2g} s" for k, v in page.items())
            except ExplorerError as e:
                verdict = f"refused by the dry run: {e.code}"
            print(f"{link.name} (tab {link.tab}; {verdict}): {link.attacks}\n  ?{link.query()}\n")
        return 0
    results = []
    for link in chosen:
        print(f"  {link.name}: measuring alone (timeout {args.timeout:g} s) ...", file=sys.stderr, flush=True)
        try:
            r = measure(link, args.timeout, args.app.resolve())
        except (RuntimeError, load.TabBroken) as e:
            print(f"  {link.name}: the app did not start or load: {e}", file=sys.stderr)
            return 2
        results.append(r)
        o, m = r.outcome
        print(f"  {link.name}: {o}, {r.cpu:.1f} CPU-s, {r.peak_mb:.0f} MB above idle; {steps_line(r.view)}",
              file=sys.stderr, flush=True)
    print(alone_table(results))
    idle = f" ({statistics.median(r.idle_mb for r in results):.0f} MB idle)" if results else ""
    print(f"\nEach link alone on a server of its own (started, warmed by one page load, quiet), as one page view: "
          f"open the link, then every other tab, and the other slice where offered; race at every optimizer "
          f"and race_lr={RACE_LR:g}. CPU-s: utime+stime+cutime+cstime of the app's process tree (workers "
          f"included) from the click until the server is quiet again; MB: peak summed RSS of the tree above "
          f"idle{idle}; busy after: seconds the server worked on after the page had answered. ≥: the page view, "
          f"or the server's work after it, passed the {args.timeout:g} s timeout (the server was stopped "
          f"there).\n")
    for r in results:
        print(f"- {r.link.name}: {steps_line(r.view)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
