"""The loss as a function of the weights, with the run's path on it: why the update goes where it goes.

One trainable number: the loss curve over it, and at an epoch the slope that is that epoch's
gradient (the course's w → w − lr·grad as a picture). Two: a surface over both. More: a slice
through the two elements that moved most, every other weight held at the shown epoch's values.
Evaluated in float32 with the run's own program, like the run itself; the grid is sized so that
drawing it costs at most LANDSCAPE_WORK element-operations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import lang
from .errors import ExplorerError

POINTS_1D = 201
POINTS_2D = 41
LANDSCAPE_WORK = 200_000_000        # element-operations for one landscape (the dry run's estimate per point)
MARGIN = 0.25                       # the grid reaches this fraction of the path's span beyond it


@dataclass(frozen=True)
class Landscape:
    coords: tuple[str, ...]          # ("w",) or ("w1", "w2") or ("W1[0,1]", "b2[0]")
    grid: tuple[torch.Tensor, ...]   # one 1-D tensor of values per coordinate
    loss: torch.Tensor               # over the grid: 1-D for one coordinate, (len(grid[0]), len(grid[1])) for two
    path: torch.Tensor               # (epochs + 1, len(coords)): the weights before each epoch and after the last
    slope: float | None              # one coordinate: d loss / d coordinate at the epoch, its gradient; else None
    is_slice: bool = False           # other weights are held fixed: a slice through a bigger landscape


def landscape(run, epoch: int = 1) -> Landscape:
    """The loss landscape of `run` around its path, at `epoch` (other weights as they were then)."""
    n_epochs = len(run.history)
    if not (isinstance(epoch, int) and 1 <= epoch <= n_epochs):
        raise ExplorerError("bad_epoch", "epoch", epoch=epoch, last=n_epochs)
    h, p = run.history, run.plan
    elements = [(name, i) for name in h.names for i in range(h.params[name][0].numel())]
    if len(elements) <= 2:
        chosen = elements
    else:
        moved = {(n, i): float((h.params[n][-1].reshape(-1)[i] - h.params[n][0].reshape(-1)[i]).abs())
                 for n, i in elements}
        chosen = sorted(sorted(elements, key=lambda e: -moved[e])[:2])
    coords = tuple(_coord_name(name, i, h.params[name][0]) for name, i in chosen)
    path = torch.stack([h.params[n].reshape(n_epochs + 1, -1)[:, i] for n, i in chosen], dim=1)
    grid = tuple(_axis(path[:, j], POINTS_1D if len(chosen) == 1 else POINTS_2D) for j in range(len(chosen)))
    grid = _bounded(grid, p.work)
    base = {**run.data, **{n: h.params[n][epoch - 1].clone() for n in h.names}}
    loss = _evaluate(p, base, chosen, grid)
    slope = None
    if len(chosen) == 1 and h.grads[chosen[0][0]] is not None:
        name, i = chosen[0]
        slope = float(h.grads[name][epoch - 1].reshape(-1)[i])
    return Landscape(coords, grid, loss, path, slope, len(elements) > 2)


def _coord_name(name: str, i: int, t: torch.Tensor) -> str:
    if t.numel() == 1 and t.dim() == 0:
        return name
    index = [int(x) for x in torch.unravel_index(torch.tensor(i), t.shape)]
    return f"{name}[{','.join(map(str, index))}]"


def _axis(values: torch.Tensor, points: int) -> torch.Tensor:
    finite = values[torch.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.numel() else (-1.0, 1.0)
    span = hi - lo
    pad = MARGIN * span if span > 0 else max(1.0, abs(lo))
    return torch.linspace(lo - pad, hi + pad, points)


def _bounded(grid, work_per_point: int):
    """Fewer points where one forward pass is expensive, so a landscape never costs more than
    LANDSCAPE_WORK element-operations."""
    points = math.prod(len(g) for g in grid)
    most = max(9 ** len(grid), LANDSCAPE_WORK // max(1, work_per_point))
    if points <= most:
        return grid
    per_axis = max(9, int(most ** (1 / len(grid))))
    return tuple(torch.linspace(float(g[0]), float(g[-1]), per_axis) for g in grid)


def _evaluate(p, base: dict, chosen, grid) -> torch.Tensor:
    shape = tuple(len(g) for g in grid)
    out = torch.empty(shape, dtype=torch.float32)
    forward = lang.compile_program(p.program)
    with torch.no_grad():
        for index in torch.cartesian_prod(*[torch.arange(s) for s in shape]).reshape(-1, len(shape)).tolist():
            env = dict(base)
            for (name, i), axis, k in zip(chosen, grid, index):
                w = env[name].clone()
                w.view(-1)[i] = axis[k]
                env[name] = w
            loss = forward(env)
            out[tuple(index)] = loss.sum() if p.summed else loss
    return out
