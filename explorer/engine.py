"""Training: real torch tensors, real backward, the course's update rule, every epoch recorded.

The loop is the seed's loop and nothing more, so the numbers are bit-identical to the course.
Graphs are not traced while training: `Run.graph_at(k)` rebuilds epoch k's forward pass from
the recorded weights (the same float32 ops on the same inputs) and traces that.
"""
from __future__ import annotations

import time
from math import isfinite
from dataclasses import dataclass, field

import torch

from . import lang
from . import limits as L
from .errors import ExplorerError, Note
from .experiment import Experiment, Plan, plan
from .graph import Graph, trace_backward

torch.set_num_threads(1)
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
    _graphs: dict = field(default_factory=dict, repr=False)

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

    def trace(self, k: int) -> Graph:
        """Epoch k's forward pass rebuilt from the recorded weights, traced afresh (nothing kept)."""
        if not (isinstance(k, int) and 1 <= k <= len(self.history)):
            raise ExplorerError("bad_epoch", "epoch", epoch=k, last=len(self.history))
        return _trace_epoch(self, k)


def run(exp: Experiment) -> Run:
    """Validate, build the tensors and train. Raises ExplorerError for any bad input, nothing else."""
    p = plan(exp)
    tensors = make_tensors(p)
    return _train(p, tensors)


def make_tensors(p: Plan) -> dict:
    """All tensors in the student's order from one generator, as `torch.manual_seed(seed)` would make them."""
    g = torch.Generator().manual_seed(p.experiment.seed)
    out = {}
    for name, spec in p.specs.items():
        t = spec.make(g)
        out[name] = t.requires_grad_(True) if name in p.trainable else t
    return out


def _optimizer(exp: Experiment, params):
    if exp.optimizer == "sgd":
        return torch.optim.SGD(params, lr=exp.lr)
    if exp.optimizer == "momentum":
        return torch.optim.SGD(params, lr=exp.lr, momentum=0.9)
    if exp.optimizer == "adam":
        return torch.optim.Adam(params, lr=exp.lr)
    return None


def _train(p: Plan, env: dict) -> Run:
    exp = p.experiment
    names = p.trainable
    params = [env[n] for n in names]
    opt = _optimizer(exp, params)
    lr, zero, summed = exp.lr, exp.zero_grad, p.summed
    forward_pass = lang.compile_program(p.program)
    losses, grads = [], {n: [] for n in names}
    weights = {n: [env[n].detach().clone()] for n in names}
    notes = list(p.notes)
    start = time.perf_counter()
    for epoch in range(1, exp.epochs + 1):
        if zero:
            if opt is not None:
                opt.zero_grad()
            else:
                for w in params:
                    if w.grad is not None:
                        w.grad.zero_()
        try:
            loss = forward_pass(env)
            total = loss.sum() if summed else loss
            total.backward()
        except lang.TORCH_ERRORS as e:      # e.g. binary_cross_entropy of a value outside [0, 1]
            detail = lang.clean_error(e)
            if epoch == 1:
                raise ExplorerError("op_failed", "loss", op="the loss", detail=detail) from None
            notes.append(Note("stopped_error", epoch=epoch, detail=detail))
            break
        losses.append(total.item())
        for n, w in zip(names, params):
            grads[n].append(None if w.grad is None else w.grad.clone())
        if opt is None:
            for n, w in zip(names, params):
                if w.grad is not None:
                    w.data = w.data - lr * w.grad
                weights[n].append(w.data)
        else:
            opt.step()
            for n, w in zip(names, params):
                weights[n].append(w.detach().clone())
        if not isfinite(losses[-1]) or epoch % 32 == 0 and not all(torch.isfinite(w).all() for w in params):
            break                                    # the exact first bad epoch is found below
        if time.perf_counter() - start > L.TIME_BUDGET and epoch < exp.epochs:
            notes.append(Note("time_budget", done=epoch, epochs=exp.epochs, limit=L.TIME_BUDGET))
            break
    losses = torch.tensor(losses, dtype=torch.float64)
    weights = {n: torch.stack(weights[n]) for n in names}
    grads = {n: None if any(g is None for g in grads[n]) else torch.stack(grads[n]) for n in names}
    diverged = _first_non_finite(losses, weights)
    if diverged is not None:
        losses = losses[:diverged]
        weights = {n: w[:diverged + 1] for n, w in weights.items()}
        grads = {n: None if g is None else g[:diverged] for n, g in grads.items()}
        notes = [n for n in notes if n.code != "time_budget"] + [Note("diverged", epoch=diverged)]
    history = History(names, losses, weights, grads)
    data = {n: t for n, t in env.items() if n not in names}
    return Run(exp, p, history, data, tuple(notes), diverged)


def _first_non_finite(losses, weights) -> int | None:
    """The first epoch whose loss or updated weights are inf/nan, found once over the stacked run
    rather than paid for with a check per epoch."""
    bad = ~torch.isfinite(losses)
    for w in weights.values():
        bad |= ~torch.isfinite(w[1:].reshape(len(w) - 1, -1)).all(dim=1)
    hits = bad.nonzero()
    return int(hits[0]) + 1 if len(hits) else None


def forward(p: Plan, env: dict):
    """One forward pass: (loss to backward, [(name, tensor), ...] for every value computed)."""
    ev = lang.Evaluator("loss", keep=True)
    loss, named = ev.run(p.program, env)
    total = loss.sum() if p.summed else loss
    names = {id(t): n for n, t in named.items() if isinstance(t, torch.Tensor)}
    values = [(names.get(id(t), ""), t) for t in ev.values]
    return total, values


def _trace_epoch(r: Run, k: int) -> Graph:
    rec = r.history[k - 1]
    env = dict(r.data)
    for n in r.plan.trainable:
        w = rec.params[n].clone().requires_grad_(True)
        if not r.experiment.zero_grad and k > 1 and r.history.grads[n] is not None:
            w.grad = r.history.grads[n][k - 2].clone()
        env[n] = w
    total, values = forward(r.plan, env)
    name = r.plan.program.loss_name
    return trace_backward(total, env, values, loss_name=f"{name}.sum()" if r.plan.summed else name)
