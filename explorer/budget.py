"""One budget per page view: what each part of a page costs, decided before anything runs.

A page view of one experiment may ask for the training run, one epoch's graph traced and explained,
the gradient check, the landscape (two kinds of slice, and the race's) and the race (every optimizer
at up to two learning rates). Each part's cost is estimated from the dry run's counts (`Cost`) with
rates measured on the dev box (`python -m bench calibrate`, in nanoseconds of one core), and each
part gets a share of the page's budget (`limits.SHARES`). What does not fit is made smaller (fewer
checked elements, a coarser grid, fewer racers), each with a note, or refused with a message that
names the part and its limit. Everything here is decided from shapes alone: the same link gets the
same page on an idle laptop and on a busy classroom server.
"""
from __future__ import annotations

from typing import NamedTuple

from . import limits as L


class Cost(NamedTuple):
    """The dry run's counts for one forward pass of the loss, and what is trained."""
    ops: int = 0            # op calls
    elements: int = 0       # element-operations: inputs read, outputs written, temporaries made inside
    flops: int = 0          # multiply-adds of matrix products
    tensors: int = 0        # trainable tensors
    params: int = 0         # trainable elements
    unbatched: int = 0      # ops torch.func.vmap runs once per point (no batching rule): a landscape pays them per point
    batched: int = 0        # element-operations as one point of a vmap batch weighs them (the landscape)
    rows: int = 0           # rows of row-wise ops (softmax): a vmap batch pays per row
    nodes: int = 0          # autograd nodes the forward pass makes (an op such as cross_entropy makes several)


class Rates(NamedTuple):
    """Nanoseconds per op call, per element-operation, per multiply-add and per trainable element (the
    weights a gradient check or a landscape point makes afresh), and a fixed part."""
    op: float
    element: float
    flop: float
    param: float = 0.0
    fixed: float = 0.0
    unbatched: float = 0.0
    row: float = 0.0

    def of(self, c: Cost) -> float:
        return (self.fixed + self.op * c.ops + self.element * c.elements + self.flop * c.flops
                + self.param * c.params + self.unbatched * c.unbatched + self.row * c.rows)


# Measured on the 2-core dev box (`python -m bench calibrate`): every op-table example and preset, small
# and large, lands within a small factor of these (the README has the table).
TRAIN = Rates(op=3_980, element=0.16, flop=0.067)                  # an epoch's forward and backward
FORWARD = Rates(element=0.069, param=1.56, fixed=230, unbatched=4_600, row=41, op=0, flop=0)  # a landscape point
LANDSCAPE = (330_000, 86)                                        # ... and per landscape: fixed, per epoch
CHECK = Rates(op=375, element=0.19, flop=0.063, param=4.5, fixed=3_240)  # one float64 forward of the check
TRACE = Rates(op=315_000, element=6.3, flop=1.2, param=65, fixed=760_000)  # an epoch traced, each step drawn
STEP_NODE = 23_700                                                 # ... and explained; per node drawn per step
NS = 1e9


def epoch_ns(c: Cost, optimizer: str = "gd") -> float:
    from .optimizers import TABLE
    per_tensor, per_element = TABLE[optimizer].cost if optimizer in TABLE else TABLE["adam"].cost
    return TRAIN.of(c) + per_tensor * c.tensors + per_element * c.params


def train_ns(c: Cost, optimizer: str, epochs: int) -> float:
    return epoch_ns(c, optimizer) * epochs


def _steps(c: Cost) -> int:
    """Backward steps of one epoch's graph: its autograd nodes, or its ops where those are more."""
    return max(c.ops, c.nodes)


def steps_drawn(c: Cost) -> int:
    """Steps × nodes drawn, for a student who steps through the whole graph: each step redraws it and
    explains one node (nodes ≈ two per step, at most limits.MAX_DRAWN_NODES drawn)."""
    return _steps(c) * min(2 * _steps(c) + c.tensors, L.MAX_DRAWN_NODES)


def trace_ns(c: Cost) -> float:
    return TRACE.of(c._replace(ops=_steps(c))) + STEP_NODE * steps_drawn(c)


def check_ns(c: Cost, per_tensor: int) -> float:
    """Two float64 forward passes per checked element, plus the float32 gradient and the kink search."""
    return CHECK.of(c) * (2 * per_tensor * c.tensors + 3)


def landscape_ns(c: Cost, points: int, epochs: int = 0) -> float:
    """The grid's points, and what one landscape costs whatever its grid (the run's path, epoch by epoch)."""
    return FORWARD.of(c._replace(elements=c.batched)) * points + LANDSCAPE[0] + LANDSCAPE[1] * epochs


def seconds(ns: float) -> str:
    """An estimate as a student reads it: 0.42 s, 12 s, 2.5 min."""
    s = ns / NS
    if s >= 120:
        return f"{s / 60:.1f} min"
    return f"{s:.2g} s" if s < 10 else f"{s:.0f} s"


# ---------------------------------------------------------------- what fits each part's share

def share_ns(part: str) -> float:
    return L.SHARES[part] * NS


def epochs_that_fit(c: Cost, optimizer: str) -> int:
    return int(share_ns("train") // max(1.0, epoch_ns(c, optimizer)))


def checked_that_fit(c: Cost, most: int) -> int:
    """Elements per trainable tensor the gradient check can afford (0: not even one)."""
    per_element = 2 * CHECK.of(c) * max(1, c.tensors)
    left = share_ns("check") - 3 * CHECK.of(c)
    return max(0, min(most, int(left // max(1.0, per_element))))


def grid_that_fits(c: Cost, wanted: int, axes: int, least: int = 9, epochs: int = 0) -> int:
    """Points per axis of a landscape: `wanted`, or fewer where one forward pass is expensive; 0 where
    not even `least` per axis fit."""
    per_point = max(1.0, FORWARD.of(c._replace(elements=c.batched)))
    most = (share_ns("landscape") - landscape_ns(c, 0, epochs)) / per_point
    if wanted ** axes <= most:
        return wanted
    n = int(most ** (1 / axes))
    return n if n >= least else 0


def racers_that_fit(costs: list[tuple[object, float]]) -> tuple[list, list]:
    """([racer, ...] that fit the race's share in the order given, [racer, ...] left out). `costs` pairs
    each racer with its training estimate in ns; the page's own run costs the race nothing (pass 0)."""
    left, fit, out = share_ns("race"), [], []
    for racer, ns in costs:
        if ns <= left:
            fit.append(racer)
            left -= ns
        else:
            out.append(racer)
    return fit, out


def page_ns(c: Cost, optimizer: str, epochs: int, checked: int = 64) -> dict[str, float]:
    """The estimate of a whole page view (every tab a link can open), part by part: what bench and the
    README quote. Landscapes count three times (two kinds of slice and the race's)."""
    from .experiment import OPTIMIZERS
    race = [train_ns(c, o, epochs) for o in OPTIMIZERS for _ in range(2)]
    race.remove(train_ns(c, optimizer, epochs))
    fit, _ = racers_that_fit(list(enumerate(race)))
    return {"train": train_ns(c, optimizer, epochs), "trace": trace_ns(c),
            "check": check_ns(c, checked_that_fit(c, checked)),
            "landscape": 3 * landscape_ns(c, grid_that_fits(c, 41, 2, least=3, epochs=epochs) ** 2, epochs),
            "race": sum(race[i] for i in fit)}
