"""Autograd is not magic: its gradient next to a finite-difference estimate of the same derivative.

What `torch.autograd.gradcheck` does, on the student's own loss: nudge one weight element by ±eps
in float64, evaluate the loss twice, and take (L(w + eps) - L(w - eps)) / 2eps. Where the loss has
a kink (relu or abs at 0) the estimate is the average of the two one-sided slopes, while autograd
picks one subgradient, so the two may differ there by design. At an edge of the loss's domain
(binary_cross_entropy of a weight at 1) only one side is defined: the estimate is one-sided there,
and nan where neither side is; the report names those elements.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch.overrides import TorchFunctionMode

from . import budget, clock, lang
from .errors import ExplorerError, Note
from .graph import unravel
from .lang.ops import KINKS, OPS

EPS = 1e-6
MAX_CHECKED = 64        # elements nudged per tensor: each costs two forward passes
SHOWN = 8               # elements a note names before "…"


def gradcheck(run, epoch: int = 1, *, eps: float = EPS,
              max_checked: int | None = None) -> dict[str, tuple[torch.Tensor | None, torch.Tensor, float]]:
    """{name: (autograd_grad, numeric_grad, max_abs_error)} for the trainable tensors at `epoch`.

    `autograd_grad` is d loss / d w at that epoch's weights in float32, as backward computes it
    (a fresh gradient, not one accumulated over epochs); None where the loss does not reach w.
    `numeric_grad` is the float64 central difference, for every element of tensors up to
    `max_checked` elements and for `max_checked` evenly spread elements of bigger ones (nan
    elsewhere); one-sided where the loss is defined on one side only, nan where on neither.
    `max_abs_error` is the largest difference over the checked elements with an estimate (nan if none).
    Every estimate costs two forward passes, so by default fewer elements are checked where the check's
    share of the page's budget would not pay for MAX_CHECKED of each tensor (none where not even one).
    """
    return {name: c[:3] for name, c in _check(run, epoch, eps, max_checked).items()}


class _Checked(NamedTuple):
    auto: torch.Tensor | None
    numeric: torch.Tensor
    error: float
    checked: list            # flat indices nudged
    sides: dict              # flat index -> "forward", "backward" or "none" where the estimate is not central


def _check(run, epoch, eps=EPS, max_checked=None) -> dict[str, _Checked]:
    run.check_epoch(epoch)
    p = run.plan
    names = p.trainable
    max_checked = checkable(run) if max_checked is None else max_checked
    weights = {n: run.history.params[n][epoch - 1] for n in names}
    env = {**run.data, **{n: w.clone().requires_grad_(True) for n, w in weights.items()}}
    noise = run.noise_at(epoch)
    total = _loss(p, env, noise=noise)
    grads = torch.autograd.grad(total, [env[n] for n in names], allow_unused=True)

    env64 = {k: v.detach().double().contiguous() if v.is_floating_point() else v for k, v in env.items()}
    base = _Base(p, env64, noise)
    out = {}
    with torch.no_grad():
        for name, grad in zip(names, grads):
            w = env64[name]
            numeric = torch.full(w.shape, float("nan"), dtype=torch.float64)
            flat = numeric.reshape(-1)
            checked = _positions(w.numel(), max_checked).tolist()
            sides = {}
            for i in checked:
                clock.check()
                flat[i], side = _slope(p, env64, name, i, eps, base)
                if side != "central":
                    sides[i] = side
            auto = None if grad is None else grad.detach()
            reference = torch.zeros(w.shape, dtype=torch.float64) if auto is None else auto.double()
            known = [i for i in checked if sides.get(i) != "none"]
            err = (reference.reshape(-1)[known] - flat[known]).abs().max() if known else torch.tensor(math.nan)
            out[name] = _Checked(auto, numeric, float(err), checked, sides)
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
        name = getattr(func, "__name__", "").rstrip("_")          # relu_ in place: relu's corner
        if name == "detach" and args and getattr(args[0], "requires_grad", False):
            self.detached = True          # the estimate will see a dependence autograd is told to ignore
        elif name in KINKS:
            at, (en, zh) = KINKS[name]
            try:
                mask = at(OPS[name].bind(args, kwargs))
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
    noise = run.noise_at(epoch)
    with spy:
        _loss(run.plan, env, noise=noise)
    return spy


def _kinks(spy: _KinkSpy) -> list[Kink]:
    merged: dict = {}
    for k in spy.found:
        key = (k.op, k.of)
        merged[key] = k._replace(count=merged[key].count + k.count) if key in merged else k
    return list(merged.values())


def _loss(p, env, floats=None, noise=None) -> torch.Tensor:
    loss, _ = lang.Evaluator("loss", floats=floats, noise=noise).run(p.program, env)
    return loss.sum() if p.summed else loss


class _Base:
    """L(w) in float64 at the epoch's weights, evaluated once and only when a one-sided estimate needs it."""

    def __init__(self, p, env64, noise=None):
        self.p, self.env64, self.noise, self._value = p, env64, noise, None

    @property
    def value(self) -> float:
        if self._value is None:
            value = _at(self.p, self.env64, self.noise)
            self._value = math.nan if value is None else value
        return self._value


def _at(p, env64, noise=None) -> float | None:
    """The float64 loss (typed constants in float64 too), or None where torch refuses the point."""
    try:
        return float(_loss(p, env64, torch.float64, noise))
    except ExplorerError as e:
        if e.code != "op_failed":
            raise
        return None


def _slope(p, env64, name, i, eps, base: _Base) -> tuple[float, str]:
    """(estimate, how): the central difference, or where one side of w is outside the loss's domain
    (torch refuses it, or it is not finite while L(w) is) the one-sided difference from the other side,
    or nan where neither side is defined."""
    w = env64[name]
    flat = w.reshape(-1).clone()

    def side(step):
        flat[i] = w.reshape(-1)[i] + step
        value = _at(p, {**env64, name: flat.reshape(w.shape)}, base.noise)
        if value is None or not math.isfinite(value) and math.isfinite(base.value):
            return None
        return value

    up, down = side(eps), side(-eps)
    if up is not None and down is not None:
        return (up - down) / (2 * eps), "central"
    if math.isfinite(base.value) and up is not None:
        return (up - base.value) / eps, "forward"
    if math.isfinite(base.value) and down is not None:
        return (base.value - down) / eps, "backward"
    return math.nan, "none"


def _positions(numel: int, most: int) -> torch.Tensor:
    if numel <= most:
        return torch.arange(numel)
    return torch.linspace(0, numel - 1, most).round().long().unique()


class Row(NamedTuple):
    """One checked element: its index, autograd's float32 value, the float64 estimate, |difference|,
    and how the estimate was taken: "central", one-sided ("forward": L(w + ε), "backward": L(w − ε))
    at an edge of the loss's domain, or "none" (nan) where the loss is defined on neither side."""
    index: str
    autograd: float | None
    estimate: float
    diff: float
    sided: str = "central"


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
    notes: tuple = ()        # Notes naming the elements estimated one-sided or not at all (domain edges)


def report(run, epoch: int = 1) -> Report:
    """`gradcheck` and `kinks` of one epoch as Python numbers: float32 values as `.tolist()` gives
    them (the course's printed precision), float64 estimates, the differences."""
    checks, notes = [], []
    for name, (auto, numeric, err, checked, sides) in _check(run, epoch).items():
        shape = tuple(numeric.shape)
        flat = numeric.reshape(-1)
        got = auto.reshape(-1).tolist() if auto is not None else None
        rows = tuple(Row(_index(i, shape), None if got is None else got[i], flat[i].item(),
                         abs((0.0 if got is None else got[i]) - flat[i].item()), sides.get(i, "central"))
                     for i in checked)
        checks.append(Check(name, shape, numeric.numel(), rows, err, auto is not None))
        for code, how in (("gradcheck_one_sided", ("forward", "backward")), ("gradcheck_undefined", ("none",))):
            hit = [f"{name}{_index(i, shape)}" for i in checked if sides.get(i) in how]
            if hit:
                notes.append(Note(code, name=name, where=", ".join(hit[:SHOWN]) + (", …" if len(hit) > SHOWN else "")))
    spy = _spy(run, epoch)
    return Report(epoch, EPS, tuple(checks), tuple(_kinks(spy)), checkable(run), spy.detached, tuple(notes))


def _index(i: int, shape: tuple) -> str:
    """Flat index i as the student would write it: w[1, 2]; "" for a scalar."""
    return "[" + ", ".join(map(str, unravel(i, shape))) + "]" if shape else ""
