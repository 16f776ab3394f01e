"""Autograd is not magic: its gradient next to a finite-difference estimate of the same derivative.

What `torch.autograd.gradcheck` does, on the student's own loss: nudge one weight element by ±eps
in float64, evaluate the loss twice, and take (L(w + eps) - L(w - eps)) / 2eps. Where the loss has
a kink (relu or abs at 0) the estimate is the average of the two one-sided slopes, while autograd
picks one subgradient, so the two may differ there by design.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch.overrides import TorchFunctionMode

from . import budget, lang
from .graph import unravel
from .lang.ops import KINKS

EPS = 1e-6
MAX_CHECKED = 64        # elements nudged per tensor: each costs two forward passes


def gradcheck(run, epoch: int = 1, *, eps: float = EPS,
              max_checked: int | None = None) -> dict[str, tuple[torch.Tensor | None, torch.Tensor, float]]:
    """{name: (autograd_grad, numeric_grad, max_abs_error)} for the trainable tensors at `epoch`.

    `autograd_grad` is d loss / d w at that epoch's weights in float32, as backward computes it
    (a fresh gradient, not one accumulated over epochs); None where the loss does not reach w.
    `numeric_grad` is the float64 central difference, for every element of tensors up to
    `max_checked` elements and for `max_checked` evenly spread elements of bigger ones (nan
    elsewhere); `max_abs_error` is the largest difference over the checked elements (nan if none).
    Every estimate costs two forward passes, so by default fewer elements are checked where the check's
    share of the page's budget would not pay for MAX_CHECKED of each tensor (none where not even one).
    """
    run.check_epoch(epoch)
    p = run.plan
    names = p.trainable
    max_checked = checkable(run) if max_checked is None else max_checked
    weights = {n: run.history.params[n][epoch - 1] for n in names}
    env = {**run.data, **{n: w.clone().requires_grad_(True) for n, w in weights.items()}}
    total = _loss(p, env)
    grads = torch.autograd.grad(total, [env[n] for n in names], allow_unused=True)

    env64 = {k: v.detach().double() if v.is_floating_point() else v for k, v in env.items()}
    out = {}
    with torch.no_grad():
        for name, grad in zip(names, grads):
            w = env64[name]
            numeric = torch.full(w.shape, float("nan"), dtype=torch.float64)
            flat = numeric.view(-1)
            checked = _positions(w.numel(), max_checked)
            for i in checked:
                flat[i] = _slope(p, env64, name, i, eps)
            auto = None if grad is None else grad.detach()
            reference = torch.zeros_like(w) if auto is None else auto.double()
            err = (reference.reshape(-1)[checked] - flat[checked]).abs().max() if len(checked) else torch.tensor(math.nan)
            out[name] = (auto, numeric, float(err))
    return out


def checkable(run) -> int:
    """Elements per trainable tensor the check can afford: two forward passes each, from the dry run's estimate."""
    return budget.checked_that_fit(run.plan.cost, MAX_CHECKED)


class Kink(NamedTuple):
    """An op whose input sits exactly on a corner at this epoch: `count` elements of `of` (its name, or ""
    for an intermediate value), and which subgradient PyTorch takes there, in English and Chinese."""
    op: str
    of: str
    count: int
    en: str
    zh: str


class _KinkSpy(TorchFunctionMode):
    """Sees every op the loss calls, with its real arguments, and asks the op table where each has a corner."""

    def __init__(self, names):
        super().__init__()
        self.names, self.found, self.detached = names, [], False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name == "detach" and args and getattr(args[0], "requires_grad", False):
            self.detached = True          # the estimate will see a dependence autograd is told to ignore
        elif name in KINKS:
            at, (en, zh) = KINKS[name]
            try:
                mask = at(args, kwargs)
            except (RuntimeError, TypeError, IndexError):     # an odd call: torch itself says what is wrong
                mask = None
            count = int(mask.sum()) if mask is not None else 0
            if count:
                of = self.names.get(id(args[0]), "") if args else ""
                self.found.append(Kink(name, of, count, en, zh))
        return func(*args, **kwargs)


def kinks(run, epoch: int = 1) -> list[Kink]:
    """Where, in this epoch's forward pass (float32, the run's own weights), an input of relu, abs, clamp,
    max, min and the like sits exactly on a corner: there autograd picks one subgradient while a central
    difference averages the slopes on the two sides. One forward pass; repeated calls are merged."""
    return _kinks(_spy(run, epoch))


def _spy(run, epoch: int) -> _KinkSpy:
    run.check_epoch(epoch)
    env = {**run.data, **{n: run.history.params[n][epoch - 1].clone().requires_grad_(True) for n in run.plan.trainable}}
    spy = _KinkSpy({id(t): n for n, t in env.items()})
    with spy:
        _loss(run.plan, env)
    return spy


def _kinks(spy: _KinkSpy) -> list[Kink]:
    merged: dict = {}
    for k in spy.found:
        key = (k.op, k.of)
        merged[key] = k._replace(count=merged[key].count + k.count) if key in merged else k
    return list(merged.values())


def _loss(p, env) -> torch.Tensor:
    loss, _ = lang.Evaluator("loss").run(p.program, env)
    return loss.sum() if p.summed else loss


def _slope(p, env64, name, i, eps) -> float:
    w = env64[name]
    nudged = w.clone()
    flat = nudged.view(-1)
    flat[i] = w.view(-1)[i] + eps
    up = float(_loss(p, {**env64, name: nudged}))
    flat[i] = w.view(-1)[i] - eps
    down = float(_loss(p, {**env64, name: nudged}))
    return (up - down) / (2 * eps)


def _positions(numel: int, most: int) -> torch.Tensor:
    if numel <= most:
        return torch.arange(numel)
    return torch.linspace(0, numel - 1, most).round().long().unique()


class Row(NamedTuple):
    """One checked element: its index, autograd's float32 value, the float64 estimate, |difference|."""
    index: str
    autograd: float | None
    estimate: float
    diff: float


class Check(NamedTuple):
    name: str
    shape: tuple
    numel: int
    rows: tuple              # Row per checked element, in index order
    max_error: float         # nan where nothing was checked
    reached: bool            # False: the loss does not depend on this tensor (autograd gives None)


class Report(NamedTuple):
    """The gradient check of one epoch as plain numbers, for pages and notebooks."""
    epoch: int
    eps: float
    checks: tuple
    kinks: tuple
    per_tensor: int          # elements of each tensor the check could afford (MAX_CHECKED at most)
    detached: bool = False   # the loss detaches a value computed from a weight: the estimate still sees
                             # that path, autograd does not, so they differ by exactly what was cut


def report(run, epoch: int = 1) -> Report:
    """`gradcheck` and `kinks` of one epoch as Python numbers: float32 values as `.tolist()` gives
    them (the course's printed precision), float64 estimates, the differences."""
    results = gradcheck(run, epoch)
    checks = []
    for name, (auto, numeric, err) in results.items():
        shape = tuple(numeric.shape)
        flat = numeric.reshape(-1)
        where = (~flat.isnan()).nonzero().view(-1).tolist()
        got = auto.reshape(-1).tolist() if auto is not None else None
        rows = tuple(Row(_index(i, shape), None if got is None else got[i], flat[i].item(),
                         abs((0.0 if got is None else got[i]) - flat[i].item())) for i in where)
        checks.append(Check(name, shape, numeric.numel(), rows, err, auto is not None))
    spy = _spy(run, epoch)
    return Report(epoch, EPS, tuple(checks), tuple(_kinks(spy)), checkable(run), spy.detached)


def _index(i: int, shape: tuple) -> str:
    """Flat index i as the student would write it: w[1, 2]; "" for a scalar."""
    return "[" + ", ".join(map(str, unravel(i, shape))) + "]" if shape else ""
