"""Training: real torch tensors, real backward, the course's update rule, every epoch recorded.

The loop does the seed's float32 ops in the seed's order and nothing more, so the numbers are
bit-identical to the course and to the exported script, whatever the server's load: a run always
does all its epochs, or stops where the script would (divergence, a torch error).
Graphs are not traced while training: `Run.graph_at(k)` rebuilds epoch k's forward pass from
the recorded weights (the same float32 ops on the same inputs) and traces that.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from . import clock, lang
from . import limits as L
from .errors import ExplorerError, Note
from .experiment import Experiment, Plan, plan
from .graph import Cut, Graph, trace_backward
from .optimizers import TABLE

GRAPHS_KEPT = 8


@dataclass(frozen=True)
class Epoch:
    epoch: int                 # 1-based, as the course prints it
    loss: float
    params: dict               # name -> tensor before this epoch's update
    grads: dict                # name -> gradient used by the update (None if the loss ignores it)
    next_params: dict          # name -> tensor after the update


class History:
    """Per-epoch records over stacked tensors: cheap to keep, pickle and plot, read like a list."""

    def __init__(self, names, losses, params, grads):
        self.names, self.losses, self.params, self.grads = names, losses, params, grads

    def __len__(self):
        return len(self.losses)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(i)
        i %= n
        return Epoch(i + 1, float(self.losses[i]),
                     {k: self.params[k][i] for k in self.names},
                     {k: None if self.grads[k] is None else self.grads[k][i] for k in self.names},
                     {k: self.params[k][i + 1] for k in self.names})

    def __iter__(self):
        return (self[i] for i in range(len(self)))


@dataclass
class Run:
    experiment: Experiment
    plan: Plan
    history: History
    data: dict                         # the non-trainable tensors, as created
    notes: tuple = ()
    diverged_at: int | None = None
    noise: lang.Record | None = None   # what redraws any epoch's dropout masks (None: the loss has no dropout)
    _graphs: dict = field(default_factory=dict, repr=False)
    _masks: tuple = field(default=(), repr=False)      # (epoch, its dropout masks): the last asked for, each
                                                       # view given its own cursor over them (threads share runs)

    def __getstate__(self):
        """Sent to a worker process without the graphs it traced: they are rebuilt there on demand."""
        return {**self.__dict__, "_graphs": {}, "_masks": ()}

    @property
    def graph(self) -> Graph:
        """The backward graph of epoch 1."""
        return self.graph_at(1)

    def graph_at(self, k: int) -> Graph:
        """The backward graph of epoch k, with that epoch's values and gradients (the last few kept)."""
        if k not in self._graphs:
            if len(self._graphs) >= GRAPHS_KEPT:
                self._graphs.pop(next(iter(self._graphs)))
            self._graphs[k] = self.trace(k)
        return self._graphs[k]

    def check_epoch(self, k) -> None:
        """Raise ExplorerError unless epoch k is one of this run's (1..len(history))."""
        if not (isinstance(k, int) and 1 <= k <= len(self.history)):
            raise ExplorerError("bad_epoch", "epoch", epoch=k, last=len(self.history))

    def trace(self, k: int) -> Graph:
        """Epoch k's forward pass rebuilt from the recorded weights, traced afresh (nothing kept)."""
        self.check_epoch(k)
        with one_thread():
            return _trace_epoch(self, k)


    def noise_at(self, k: int):
        """Epoch k's dropout masks, drawn again exactly as training drew them and then the same at every
        evaluation (the gradient check's, the landscape's); None where the loss has no dropout."""
        if self.noise is None:
            return None
        if self._masks and self._masks[0] == k:
            return lang.Fixed.of(self._masks[1])
        fixed = self.noise.at(k)
        env = {**self.data, **{n: self.history.params[n][k - 1] for n in self.plan.trainable}}
        try:
            with torch.no_grad():
                lang.compile_program(self.plan.program)(env, fixed)
        except lang.TORCH_ERRORS:
            pass                         # a view that evaluates this epoch reports the error itself
        self._masks = (k, tuple(fixed.masks))
        return fixed.rewind()


@contextmanager
def one_thread():
    """torch on one thread for the block: a reduction split over threads adds in another order, and a run's
    numbers are the exported script's (which sets one thread) bit for bit. The app and its workers run on
    one thread anyway (set at their start-up), so there this changes nothing; elsewhere (a notebook) the
    thread count is restored after."""
    n = torch.get_num_threads()
    if n != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if n != 1:
            torch.set_num_threads(n)


def run(exp: Experiment) -> Run:
    """Validate, build the tensors and train. Raises ExplorerError for any bad input, nothing else."""
    p = plan(exp)
    with clock.deadline(L.WALL_LIMIT, "train"), one_thread():
        generator = torch.Generator().manual_seed(exp.seed)
        return _train(p, make_tensors(p, generator), generator)


def compare(exp: Experiment, optimizers=("gd", "momentum", "adam")) -> dict:
    """The same experiment under each optimizer, {optimizer: Run}: an optimizer race. Each run is
    `run(exp.replace(optimizer=...))`, so the one under exp's own optimizer is `run(exp)` exactly."""
    return {name: run(exp.replace(optimizer=name)) for name in optimizers}


def make_tensors(p: Plan, generator: torch.Generator | None = None) -> dict:
    """All tensors in the student's order from one generator, as `torch.manual_seed(seed)` would make them
    (`generator` then goes on where the exported script's global one does: to dropout's masks)."""
    g = generator if generator is not None else torch.Generator().manual_seed(p.experiment.seed)
    out = {}
    for name, spec in p.specs.items():
        t = spec.make(g)
        out[name] = t.requires_grad_(True) if name in p.trainable else t
    return out


CHECK_EVERY = 32                                    # epochs between looks at divergence, the clock and the caller


def _optimizer(exp: Experiment, w: torch.Tensor):
    """One weight's update, `update(t, now, grad) -> next` at epoch t, out of place so every epoch's
    weights can be kept as they are. The float32 ops, their order and their Python-float constants
    are those of the exported script's `w.data - lr * w.grad` and of torch.optim's default
    (single-tensor) SGD and Adam steps (the optimizers' table), so the numbers are the same bit for bit,
    without the optimizer object's per-step bookkeeping. The export round-trip tests hold them to it."""
    return TABLE[exp.optimizer].update(exp.lr, w)


def _train(p: Plan, env: dict, generator: torch.Generator | None = None) -> Run:
    """The course's loop: zero the gradients, forward, backward, update; every epoch recorded.

    Each epoch's loss, gradients and weights are copied into tensors made once for the whole run (one
    row per epoch): kept as thousands of small tensors between each epoch's short-lived values, they
    fragmented the heap until a 9,000-epoch run held 2.5 GB. Zeroing is the script's: for gradient
    descent a zero `.grad` that backward adds into (what `w.grad.zero_()` leaves), for the optimizers
    None (what `optimizer.zero_grad()` leaves); without zeroing `.grad` accumulates in place. Nothing
    is read back per epoch: divergence, the clock and the caller are looked at every CHECK_EVERY
    epochs, and the exact first bad epoch is found at the end. Dropout draws from `generator`, which made the
    random tensors (as the script's `torch.manual_seed` does); the run keeps what redraws any epoch's masks."""
    exp = p.experiment
    record = stream = None
    if p.program.random:
        if generator is None:
            generator = torch.Generator().manual_seed(exp.seed)
            make_tensors(p, generator)
        record = lang.Record()
        stream = lang.Stream(generator, record)
    names, epochs, summed, zero_grad = p.trainable, exp.epochs, p.summed, exp.zero_grad
    leaves = [env[n] for n in names]
    forward_pass = lang.compile_program(p.program)
    weights = {n: w.detach().new_empty((epochs + 1, *w.shape)) for n, w in zip(names, leaves)}
    for n, w in zip(names, leaves):
        weights[n][0] = w.detach()
    grads = {n: None for n in names}
    trained = []                       # (leaf, its name, its update): those epoch 1 reached
    gd = exp.optimizer == "gd"
    losses, notes, one, done = None, list(p.notes), None, 0
    for t in range(1, epochs + 1):
        if zero_grad and t > 1:
            for w, n, update in trained:
                w.grad = torch.zeros_like(w) if gd else None
        try:
            if stream is not None:
                stream.epoch(t)
            loss = forward_pass(env, stream)
            total = loss.sum() if summed else loss
            if t == 1:
                total.backward()
            else:
                backward(total, one)
        except lang.TORCH_ERRORS as e:      # e.g. binary_cross_entropy of a value outside [0, 1]
            detail = lang.clean_error(e)
            if t == 1:
                raise ExplorerError("op_failed", "loss", op="the loss", detail=detail) from None
            if torch.isfinite(losses[:done]).all():          # else the script stopped at an inf/nan loss
                notes.append(Note("stopped_error", epoch=t, detail=detail))
            break
        if t == 1:
            one = torch.ones_like(total)
            losses = total.detach().new_empty(epochs)
            trained = [(w, n, _optimizer(exp, w)) for n, w in zip(names, leaves) if w.grad is not None]
            for w, n, _ in trained:
                grads[n] = w.grad.new_empty((epochs, *w.shape))
        losses[t - 1] = total.detach()
        for w, n, update in trained:
            g = w.grad
            grads[n][t - 1] = g
            w.data = update(t, w.detach(), g)
            weights[n][t] = w.data
        done = t
        if t % CHECK_EVERY == 0:
            clock.check()
            if not (torch.isfinite(total) and all(torch.isfinite(w).all() for w in leaves)):
                break                                      # the exact first bad epoch is found below
    reached = {n for _, n, _ in trained}
    for n in names:
        if n not in reached:                              # the loss never reaches it: never updated
            weights[n][1:] = weights[n][0]
    losses = losses[:done].double()
    weights = {n: w[:done + 1] for n, w in weights.items()}
    grads = {n: None if g is None else g[:done] for n, g in grads.items()}
    diverged = _first_non_finite(losses, weights)
    if diverged is not None:
        losses = losses[:diverged]
        weights = {n: w[:diverged + 1] for n, w in weights.items()}
        grads = {n: None if g is None else g[:diverged] for n, g in grads.items()}
        notes.append(_not_finite(p, env, weights, record) if not torch.isfinite(losses[0]) else
                     Note("diverged", epoch=diverged))
    history = History(names, losses, weights, grads)
    data = {n: t for n, t in env.items() if n not in names}
    return Run(exp, p, history, data, tuple(notes), diverged, record)


def _not_finite(p: Plan, env: dict, weights: dict, record=None) -> Note:
    """The loss is inf/nan with the starting weights: no learning rate helps, so name the first line
    whose value is not finite (w ** 2 / 0, torch.sqrt(-w), ...)."""
    start = {**env, **{n: w[0] for n, w in weights.items()}}
    with torch.no_grad():
        _, named = lang.Evaluator("loss", noise=record.at(1) if record else None).run(p.program, start)
    for name, expr in p.program.lines:
        value = named.get(name)
        if isinstance(value, torch.Tensor) and not torch.isfinite(value).all():
            return Note("loss_not_finite", name=name, line=lang.line_source(name, expr))
    name, expr = p.program.lines[-1]
    return Note("loss_not_finite", name=name, line=lang.line_source(name, expr))


def _engine_call():
    """torch's private engine call behind `Tensor.backward`, if this torch has it as we call it (tried once
    on a two-node graph), else None."""
    run_backward = getattr(getattr(getattr(torch.autograd, "Variable", None), "_execution_engine", None),
                           "run_backward", None)
    if run_backward is None:
        return None
    x = torch.ones(1, requires_grad=True)
    try:
        run_backward((x * 2,), (torch.ones(1),), keep_graph=False, create_graph=False, inputs=(),
                     allow_unreachable=True, accumulate_grad=True)
    except (TypeError, RuntimeError, AttributeError):
        return None
    return run_backward if x.grad is not None and float(x.grad) == 2.0 else None


RUN_BACKWARD = _engine_call()


def backward(total, one):
    """`total.backward(one)`, the one adapter over autograd's engine: torch.autograd.backward's Python checks
    cost as much as the backward pass itself on a small loss, so where this torch has the private engine call
    it is made directly, with the same arguments (`one` being the `ones_like(total)` the public path would
    make); elsewhere the public call. Epoch 1 always takes the public path, which checks the loss.
    Sharing `one` is safe: a gradient that aliases it is kept but never added into, since zeroed
    runs give `.grad` a new tensor each epoch and accumulating ones own theirs from epoch 1."""
    if RUN_BACKWARD is None:
        total.backward(one)
    else:
        RUN_BACKWARD((total,), (one,), keep_graph=False, create_graph=False, inputs=(),
                     allow_unreachable=True, accumulate_grad=True)


def _first_non_finite(losses, weights) -> int | None:
    """The first epoch whose loss or updated weights are inf/nan, found once over the stacked run
    rather than paid for with a check per epoch."""
    bad = ~torch.isfinite(losses)
    for w in weights.values():
        bad |= ~torch.isfinite(w[1:].reshape(len(w) - 1, -1)).all(dim=1)
    hits = bad.nonzero()
    return int(hits[0]) + 1 if len(hits) else None


def forward(p: Plan, env: dict, noise=None):
    """One forward pass: (loss to backward, the values, in-place changes and cuts it made, for the graph)."""
    ev = lang.Evaluator("loss", keep=True, noise=noise)
    loss, _ = ev.run(p.program, env)
    total = loss.sum() if p.summed else loss
    return total, [*ev.values, *ev.changes, *(Cut(out, x, src) for out, x, src in ev.cuts)]


def _trace_epoch(r: Run, k: int) -> Graph:
    rec = r.history[k - 1]
    env = dict(r.data)
    for n in r.plan.trainable:
        w = rec.params[n].clone().requires_grad_(True)
        if not r.experiment.zero_grad and k > 1 and r.history.grads[n] is not None:
            w.grad = r.history.grads[n][k - 2].clone()
        env[n] = w
    total, values = forward(r.plan, env, r.noise_at(k))
    name = r.plan.program.loss_name
    return trace_backward(total, env, values, loss_name=f"{name}.sum()" if r.plan.summed else name)
