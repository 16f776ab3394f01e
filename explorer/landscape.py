"""The loss as a function of the weights, with the run's path on it: why the update goes where it goes.

One trainable number: the loss curve over it, and at an epoch the slope that is that epoch's
gradient (the course's w → w − lr·grad as a picture). Two: a surface over both. More: a slice
through the two elements that moved most, every other weight held at the shown epoch's values,
or (`directions="random"`) the plane through the shown epoch's weights spanned by two random
filter-normalised directions, as in Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets".
Evaluated in float32 with the run's own program, like the run itself; the grid is sized so that
drawing it fits the landscape's share of the page's budget (budget.grid_that_fits). `others` puts more runs of the same
tensors (an optimizer race) in the same coordinates, and the grid grows to show their paths too.

Every path is returned whole, but the grid holds only the part of each that is in view at the
shown epoch (`in_view`): a converging run's whole path, of a run that blows up only the path up to
the shown step, so its parabola, tangent and step stay readable instead of a dot beside 1e19.

A loss with a domain (binary_cross_entropy wants [0, 1]) is undefined over part of the grid: those
points are gaps (nan) and the Landscape carries a note saying so; trainable tensors without elements
give a Landscape with nothing to draw and a note.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

from . import budget, clock, lang
from .errors import ExplorerError, Note

POINTS_1D = 201
POINTS_2D = 41
BATCH_ELEMENTS = 4_000_000          # element-operations evaluated in one batched call: bounds its memory
MARGIN = 0.25                       # the grid reaches this fraction of the path's span beyond it
REACH = 3.0                         # other runs widen the grid by at most this many spans of the run's own path,
                                    # so one diverging racer does not flatten everyone's picture to a dot
GROWTH = 1.5                        # a later step this many times the largest one so far, with the loss above
                                    # its highest so far, is the run blowing up: the view stops before it
DIRECTIONS = ("moved", "random")
LARGEST = float(torch.finfo(torch.float32).max) / 4    # a grid's reach: its ends, margin and spacing stay finite


@dataclass(frozen=True)
class Landscape:
    coords: tuple[str, ...]          # ("w",) or ("w1", "w2") or ("W1[0,1]", "b2[0]")
    grid: tuple[torch.Tensor, ...]   # one 1-D tensor of values per coordinate
    loss: torch.Tensor               # over the grid: 1-D for one coordinate, (len(grid[0]), len(grid[1])) for two
    path: torch.Tensor               # (epochs + 1, len(coords)): the weights before each epoch and after the last
    slope: float | None              # one coordinate: d loss / d coordinate at the epoch, its gradient; else None
    is_slice: bool = False           # other weights are held fixed: a slice through a bigger landscape
    others: tuple = ()               # the `others` runs' paths in the same coordinates, one tensor each
    directions: str = "moved"        # "random": coords are steps along two random directions from the epoch's weights
    notes: tuple = ()                # Notes: points outside the loss's domain left as gaps, nothing to draw


def landscape(run, epoch: int = 1, *, directions: str = "moved", others=()) -> Landscape:
    """The loss landscape of `run` around its path, at `epoch` (other weights as they were then).

    With more than two trainable numbers, `directions` picks the slice: "moved" (the two elements
    that moved most) or "random" (two filter-normalised random directions, seeded by the experiment's
    seed). `others` are runs of the same tensors whose paths are drawn in the same coordinates."""
    run.check_epoch(epoch)
    if directions not in DIRECTIONS:
        raise ExplorerError("not_allowed", "directions", what=repr(directions)[:40],
                            allowed="Use " + " or ".join(map(repr, DIRECTIONS)) + ".")
    h, p = run.history, run.plan
    shapes = [tuple(h.params[n][0].shape) for n in h.names]
    for other in others:
        if tuple(other.history.names) != tuple(h.names) or \
                [tuple(other.history.params[n][0].shape) for n in h.names] != shapes:
            raise ExplorerError("not_allowed", "others", what="a run of other tensors",
                                allowed="Give runs of the same experiment.")
    histories = [h] + [o.history for o in others]
    elements = [(name, i) for name in h.names for i in range(h.params[name][0].numel())]
    if not elements:
        return _nothing(run, histories)
    if len(elements) > 2 and directions == "random":
        return _random_plane(run, epoch, histories)
    chosen = elements if len(elements) <= 2 else _most_moved(h, elements)
    coords = tuple(_coord_name(name, i, h.params[name][0]) for name, i in chosen)
    paths = [torch.stack([x.params[n].reshape(len(x) + 1, -1)[:, i] for n, i in chosen], dim=1) for x in histories]
    path = paths[0]
    count = _fit(POINTS_1D if len(chosen) == 1 else POINTS_2D, len(chosen), p.cost, len(h))
    seen = [x[:in_view(x, hist.losses, epoch)] for x, hist in zip(paths, histories)]
    grid = tuple(_axis(seen[0][:, j], count, [o[:, j] for o in seen[1:]]) for j in range(len(chosen)))
    base = {**run.data, **{n: h.params[n][epoch - 1].clone() for n in h.names}}
    loss = _evaluate(p, base, chosen, grid, run.noise_at(epoch))
    slope = None
    if len(chosen) == 1 and h.grads[chosen[0][0]] is not None:
        name, i = chosen[0]
        slope = float(h.grads[name][epoch - 1].reshape(-1)[i])
    return Landscape(coords, grid, loss, path, slope, len(elements) > 2, tuple(paths[1:]), notes=_gaps(loss))


def _nothing(run, histories) -> Landscape:
    """Trainable tensors without a single element: no coordinate to vary, so nothing to draw, and a note."""
    names = ", ".join(run.history.names)
    return Landscape((), (), torch.empty(0), torch.empty(len(run.history) + 1, 0), None,
                     others=tuple(torch.empty(len(x) + 1, 0) for x in histories[1:]),
                     notes=(Note("landscape_empty", names=names),))


def _gaps(loss: torch.Tensor) -> tuple:
    return (Note("landscape_domain"),) if bool(loss.isnan().any()) else ()


def _most_moved(h, elements) -> list:
    """The two elements that moved most from the first epoch to the last, in tensor order (ties: the
    first); one vectorised pass, as a Python loop over 10,000 weights cost more than the grid."""
    moved = torch.cat([(h.params[n][-1] - h.params[n][0]).abs().reshape(-1).double() for n in h.names])
    order = torch.sort(moved.nan_to_num(nan=-1.0), descending=True, stable=True).indices[:2]
    return sorted(elements[int(i)] for i in order)


def in_view(path: torch.Tensor, losses: torch.Tensor, epoch: int) -> int:
    """How many leading rows of `path` (weights before each epoch, then after the last) the grid holds.

    Always the path up to the weights after `epoch` (the shown step's start and end, as far as they are
    finite), then later points until the run blows up: a step more than GROWTH times the largest step
    up to `epoch` that lands higher than the highest loss up to `epoch` (the last row has no loss, so
    its step alone decides). Steps alone would also cut momentum speeding up downhill, and a factor of
    the shown span would cut a small learning rate's long slow descent: in both the loss falls, so a
    converging run stays whole. A diverging run's steps and loss grow together, and its view ends at
    the step after the shown one. A non-finite row ends the view: inf and nan never reach the grid."""
    rows = len(path)
    k = min(epoch, rows - 1)
    finite = torch.isfinite(path).all(dim=1).tolist()
    steps = (path[1:].double() - path[:-1].double()).norm(dim=1).tolist() if rows > 1 else []
    largest = max((s for s in steps[:k] if math.isfinite(s)), default=0.0)
    losses = losses.double().tolist()
    highest = max((x for x in losses[:k + 1] if math.isfinite(x)), default=-math.inf)
    for j in range(rows):
        if not finite[j]:
            return j
        if j > k:
            loss = losses[j] if j < len(losses) else math.inf
            if steps[j - 1] > GROWTH * largest and not loss <= highest:
                return j
    return rows


def random_directions(run, epoch: int) -> tuple[dict, dict]:
    """Two directions {name: tensor} drawn from a generator seeded with the experiment's seed (the
    same draws at every epoch and on every machine), each filter rescaled to the norm of the same
    filter of the weights at `epoch`, so the plane's scale matches the weights' (Li et al. 2018).

    A filter is a row (index along dim 0) of a tensor of two or more dimensions; a 1-D or 0-D tensor
    (a bias, a lone weight) counts as one filter. Li et al. zero biases' directions; here a tensor is
    often most of what a student trains, so biases move too. A filter that is all zero at `epoch`
    keeps its drawn direction, or a model started at zeros would collapse the plane to a point."""
    h = run.history
    gen = torch.Generator().manual_seed(run.experiment.seed)
    pair = []
    for _ in range(2):
        d = {}
        for name in h.names:
            w = h.params[name][epoch - 1]
            drawn = torch.randn(w.shape, generator=gen, dtype=torch.float32)
            filters = len(w) if w.dim() >= 2 else 1
            per = w.numel() // filters if filters else 0        # explicit: a tensor without elements has no -1
            rows, w_rows = drawn.reshape(filters, per), w.reshape(filters, per)
            d_norm, w_norm = rows.norm(dim=1, keepdim=True), w_rows.float().norm(dim=1, keepdim=True)
            scale = torch.where((w_norm > 0) & (d_norm > 0), w_norm / d_norm.clamp_min(1e-30), torch.ones_like(w_norm))
            d[name] = (rows * scale).reshape(w.shape)
        pair.append(d)
    return pair[0], pair[1]


def _random_plane(run, epoch: int, histories) -> Landscape:
    """The loss on θ_k + a·d1 + b·d2, centred on epoch k's weights; every path projected onto the
    plane by least squares onto (d1, d2), so epoch k itself sits at (0, 0)."""
    h, p = run.history, run.plan
    d1, d2 = random_directions(run, epoch)
    centre = {n: h.params[n][epoch - 1] for n in h.names}
    basis = torch.stack([torch.cat([d[n].reshape(-1) for n in h.names]) for d in (d1, d2)], dim=1).double()
    solve = torch.linalg.pinv(basis)                                  # (2, weights): least squares onto the plane
    flat_centre = torch.cat([centre[n].reshape(-1) for n in h.names]).double()
    paths = []
    for x in histories:
        flat = torch.cat([x.params[n].reshape(len(x) + 1, -1) for n in h.names], dim=1).double()
        paths.append((flat - flat_centre) @ solve.T)
    seen = [x[:in_view(x, hist.losses, epoch)] for x, hist in zip(paths, histories)]
    reach = _symmetric_reach(seen[0], seen[1:])
    m = _fit(POINTS_2D, 2, p.cost, len(h)) // 2
    axis = (reach * torch.arange(-m, m + 1, dtype=torch.float64) / m).float()   # index m is exactly 0: epoch k
    grid = (axis, axis.clone())
    out = _losses(p, lambda a, b: {**run.data, **{n: centre[n] + a * d1[n] + b * d2[n] for n in h.names}}, grid,
                  run.noise_at(epoch))
    return Landscape(("d1", "d2"), grid, out, paths[0], None, True, tuple(paths[1:]), "random", _gaps(out))


def _symmetric_reach(path, others) -> float:
    """Half the width of a square grid centred on (0, 0) that holds the path (and, within REACH of
    it, the others' paths), with MARGIN to spare."""
    def extent(t):
        finite = t[torch.isfinite(t)]
        return float(finite.abs().max()) if finite.numel() else 0.0
    own = extent(path)
    reach = max([own] + [min(extent(o), (1 + REACH) * own) if own > 0 else extent(o) for o in others])
    reach = min(reach * (1 + MARGIN), LARGEST)
    return reach if reach > 0 else 1.0


def points(axes: int) -> int:
    """Points per axis of a landscape with that many axes, where its share of the page's budget allows."""
    return POINTS_1D if axes == 1 else POINTS_2D


def _coord_name(name: str, i: int, t: torch.Tensor) -> str:
    if t.numel() == 1 and t.dim() == 0:
        return name
    index = [int(x) for x in torch.unravel_index(torch.tensor(i), t.shape)]
    return f"{name}[{','.join(map(str, index))}]"


def _finite_bounds(values: torch.Tensor):
    finite = values[torch.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.numel() else None


def _axis(values: torch.Tensor, points: int, others=()) -> torch.Tensor:
    lo, hi = _finite_bounds(values) or (-1.0, 1.0)
    own_lo, own_hi = lo, hi
    reach = REACH * (own_hi - own_lo) if own_hi > own_lo else max(1.0, abs(own_lo))
    for other in others:
        bounds = _finite_bounds(other)
        if bounds is not None:
            lo, hi = min(lo, max(bounds[0], own_lo - reach)), max(hi, min(bounds[1], own_hi + reach))
    span = hi - lo
    pad = MARGIN * span if span > 0 else max(1.0, abs(lo))
    return torch.linspace(max(lo - pad, -LARGEST), min(hi + pad, LARGEST), points)


def _fit(points: int, axes: int, cost, epochs: int) -> int:
    """Points per axis: fewer where one forward pass is expensive, so a landscape fits its share; refused,
    naming the share, where not even 3 per axis would."""
    n = budget.grid_that_fits(cost, points, axes, least=3, epochs=epochs)
    if not n:
        raise ExplorerError("landscape_too_heavy", "landscape", points=3 ** axes,
                            time=budget.seconds(budget.landscape_ns(cost, 3 ** axes, epochs)),
                            limit=budget.seconds(budget.share_ns("landscape")))
    return n


def _evaluate(p, base: dict, chosen, grid, noise=None) -> torch.Tensor:
    """The loss at every grid point: `base` with the chosen elements set to the point's coordinates."""
    def loss_at(*values):
        env = dict(base)
        for (name, i), v in zip(chosen, values):
            w = env[name]
            hit = torch.zeros(w.numel(), dtype=torch.bool)
            hit[i] = True
            env[name] = torch.where(hit.reshape(w.shape), v, w)       # exactly v there, exactly w elsewhere
        return env
    return _losses(p, loss_at, grid, noise)


def _losses(p, env_at, grid, noise=None) -> torch.Tensor:
    """The run's own float32 program at every point of `grid`, as batched calls (torch.func.vmap) of
    at most BATCH_ELEMENTS element-operations each. Point by point, Python's dispatch was 95% of the
    time: a class opening the landscape spent most of the server's CPU there. A chunk vmap cannot
    batch is evaluated point by point, and a point torch refuses (outside the loss's domain, like
    binary_cross_entropy of 1.5) is a gap, nan. A chunk that failed batched without any such point
    is a program vmap cannot batch at all (data-dependent shapes, `.item()`...): the rest of the
    grid goes point by point without trying again."""
    shape = tuple(len(g) for g in grid)
    points = [m.reshape(-1) for m in torch.meshgrid(*grid, indexing="ij")]
    forward = lang.compile_program(p.program)

    def loss(*values):
        out = forward(env_at(*values), noise)
        return out.sum() if p.summed else out

    count = points[0].numel()
    chunk = max(1, BATCH_ELEMENTS // max(1, p.cost.batched + p.cost.flops // 8))
    out = torch.full((count,), math.nan, dtype=torch.float32)
    batching = True
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="There is a performance drop")   # vmap's loop for kl_div
        for start in range(0, count, chunk):
            clock.check()
            stop = min(count, start + chunk)
            if batching:
                try:
                    out[start:stop] = torch.func.vmap(loss)(*(pt[start:stop] for pt in points)).reshape(-1)
                    continue
                except Exception:   # noqa: BLE001 - not batchable, or a point outside the domain: one at a time
                    pass
            gaps = 0
            for j in range(start, stop):
                if j % 64 == 0:
                    clock.check()
                try:
                    out[j] = loss(*(pt[j] for pt in points))
                except (ExplorerError, *lang.TORCH_ERRORS):
                    gaps += 1
            batching = gaps > 0
    return out.reshape(shape)
