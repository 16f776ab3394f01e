"""An optimizer race drawn: loss curves over a strip coloured by the leader at each epoch, and every
racer's path on one landscape. Who leads is decided here too (`winners`, `leader`), so the page's
words and the picture never disagree."""
from __future__ import annotations

import numpy as np

from ..numbers import num
from .curves import _MARK_X, CURVE_MARKERS, MARK_X
from .figures import axis, finite, fonts, legend_below, loss_axis, notes, slice_note, template, typed
from .style import CURRENT, RACE_COLORS, sizes
from .words import words

SECOND_LR_TINT = 0.5        # the winner strip shows a second learning rate's racer this much lighter


def racer_name(optimizer: str, lr: float | None, lang: str = "en", diverged: int | None = None) -> str:
    """"adam", or "adam · lr 0.1" for a racer at the second learning rate, plus where it diverged."""
    w = words(lang)
    name = optimizer if lr is None else w["at_lr"].format(name=optimizer, lr=num(float(lr)))
    return name if diverged is None else w["diverged"].format(name=name, d=diverged)


def winners(losses: list) -> np.ndarray:
    """Per epoch, the index of the racer with the lowest loss, or -1 where no racer has a finite one.

    Racers may have run different numbers of epochs (a diverged run stops early): a missing, inf or
    nan loss never wins. Ties go to the racer listed first, so the same race always has the same winner."""
    epochs = max((len(x) for x in losses), default=0)
    table = np.full((len(losses), epochs), np.inf)
    for i, x in enumerate(losses):
        x = np.asarray(x, dtype=np.float64)
        table[i, :len(x)] = np.where(np.isfinite(x), x, np.inf)
    if not len(losses):
        return np.full(0, -1, dtype=np.int64)
    best = table.argmin(axis=0).astype(np.int64)
    best[~np.isfinite(table.min(axis=0))] = -1
    return best


def leader(losses: list, epoch: int) -> tuple[int, float, int] | None:
    """(racer index, its loss, how many others have exactly that loss) leading at `epoch` (1-based), or None
    if every racer has diverged by then. Ties are common (every racer starts at the same loss; gd and sgd
    take the same steps), and saying so keeps "leads" honest."""
    best = winners(losses)
    if not 1 <= epoch <= len(best) or best[epoch - 1] < 0:
        return None
    i = int(best[epoch - 1])
    loss = float(losses[i][epoch - 1])
    tied = sum(1 for j, x in enumerate(losses) if j != i and len(x) >= epoch and float(x[epoch - 1]) == loss)
    return i, loss, tied


def _tint(color: str, amount: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in (r, g, b))


def _racer_color(optimizer: str) -> str:
    return RACE_COLORS.get(optimizer, "#495057")


def race_json(racers: list, *, log_y: bool = False, projection: bool = False, lang: str = "en") -> str:
    """Plotly JSON of an optimizer race with a stand-in for the marked epoch (patch it with `mark`).

    `racers` are (optimizer, second lr or None, losses per epoch, diverged epoch or None): one line each,
    coloured by optimizer, dashed at the second learning rate. Under the lines a strip coloured, epoch by
    epoch, by whoever has the lowest loss then (hover names it): the race's winner at every moment."""
    import plotly.io as pio
    w = words(lang)
    s = sizes(projection)
    fs = s.text
    losses = [np.asarray(x, dtype=np.float64) for _, _, x, _ in racers]
    epochs = max((len(x) for x in losses), default=0)
    many = epochs > 1000
    traces = []
    for (opt, lr, _, div), y in zip(racers, losses):
        x = np.arange(1, len(y) + 1, dtype=np.int64)
        traces.append(dict(type="scattergl" if many else "scatter", x=typed(x), y=typed(finite(y, log_y)),
                           mode="lines+markers" if epochs <= CURVE_MARKERS else "lines",
                           name=racer_name(opt, lr, lang, div), connectgaps=False, xaxis="x", yaxis="y",
                           line=dict(color=_racer_color(opt), width=s.line,
                                     dash="dash" if lr is not None else "solid"),
                           marker=dict(size=s.dot)))
    best = winners(losses)
    n = max(1, len(racers))
    scale = []
    for i, (opt, lr, _, _) in enumerate(racers):
        color = _racer_color(opt) if lr is None else _tint(_racer_color(opt), SECOND_LR_TINT)
        scale += [[i / n, color], [(i + 1) / n, color]]
    names = [racer_name(opt, lr, lang) for opt, lr, _, _ in racers]
    traces.append(dict(type="heatmap", x=list(range(1, epochs + 1)), y=[w["leader"]],
                       z=[[int(b) if b >= 0 else None for b in best]],
                       text=[[w["leads"].format(name=names[b]) if b >= 0 else "" for b in best]],
                       hovertemplate="%{text}<extra></extra>", colorscale=scale or [[0, "#ffffff"], [1, "#ffffff"]],
                       zmin=-0.5, zmax=n - 0.5, showscale=False, showlegend=False, xaxis="x", yaxis="y2",
                       name=w["leader"], xgap=0, ygap=0))
    layout = dict(
        title=dict(text=w["race"], font=dict(size=fs + 4)), template=template(), **fonts(fs),
        hovermode="x unified", margin=dict(l=s.race_margin, r=20, t=60, b=60), showlegend=True,
        xaxis=axis(w["epoch"], fs, anchor="y2", range=[0.5, epochs + 0.5] if epochs else None),
        yaxis=axis(w["loss"], fs, domain=[0.16, 1], type="log" if log_y else "linear"),
        yaxis2=dict(domain=[0, 0.08], showgrid=False, zeroline=False, tickfont=dict(size=fs - 2)),
        shapes=[dict(type="line", x0=MARK_X, x1=MARK_X, xref="x", y0=0, y1=1, yref="paper",
                     line=dict(color=CURRENT, width=s.thin, dash="dot"))])
    legend_below(layout, -0.14, s)
    text = pio.to_json(dict(data=traces, layout=layout), validate=False)
    if text.count(_MARK_X) != 2:
        raise ValueError("the epoch stand-in did not survive serialisation")
    return text


def race_landscape_json(land, racers: list, epoch: int, *, projection: bool = False, lang: str = "en") -> str:
    """Plotly JSON of every racer's path on one landscape (`explorer.landscape(run, epoch, others=...)`,
    whose `others` are the racers' paths in order): one weight, each racer's points on the loss curve;
    two or more, each racer's path over the contour map. `racers` are as for `race_json`."""
    import plotly.io as pio
    w = words(lang)
    s = sizes(projection)
    fs = s.text
    layout = dict(title=dict(text=w["race_landscape"], font=dict(size=fs + 4)), template=template(),
                  margin=dict(l=60, r=20, t=80, b=60), showlegend=True, **fonts(fs))
    legend_below(layout, -0.16, s)
    one = len(land.coords) == 1
    traces = []
    if not land.coords:
        layout.update(xaxis=dict(visible=False), yaxis=dict(visible=False))
        notes(layout, land, lang, fs)
        return pio.to_json(dict(data=traces, layout=layout), validate=False)
    if one:
        grid, loss = land.grid[0].double().numpy(), finite(land.loss.double().numpy(), False)
        traces.append(dict(type="scatter", x=typed(grid), y=typed(loss), mode="lines", name=w["loss"],
                           line=dict(color="#868e96", width=s.line)))
        layout["yaxis"] = loss_axis(w["loss"], loss, fs)
        layout["xaxis"] = axis(land.coords[0], fs, range=[float(grid[0]), float(grid[-1])])
    else:
        a, b = (g.double().numpy() for g in land.grid)
        traces.append(dict(type="contour", x=typed(a), y=typed(b), colorscale="Greys", reversescale=True,
                           z=finite(land.loss.double().numpy().T, False).tolist(), contours=dict(coloring="heatmap"),
                           name=w["loss"], showscale=True, opacity=0.85))
        layout["xaxis"] = axis(land.coords[0], fs, range=[float(a[0]), float(a[-1])])
        layout["yaxis"] = axis(land.coords[1], fs, range=[float(b[0]), float(b[-1])])
        if land.is_slice:
            layout["title"]["text"] += slice_note(land, w, epoch, fs)
    for (opt, lr, losses, div), path in zip(racers, land.others):
        path = path.double().numpy()
        color, dashed = _racer_color(opt), lr is not None
        name = racer_name(opt, lr, lang, div)
        if one:
            heights = finite(np.asarray(losses, dtype=np.float64), False)
            xs = finite(path[:len(heights), 0], False)
            traces.append(dict(type="scatter", x=typed(xs), y=typed(heights), mode="markers", name=name,
                               legendgroup=name, marker=dict(color=color, size=s.dot - 1,
                                                             symbol="circle-open" if dashed else "circle")))
            k = min(epoch, len(heights)) - 1
            here = (xs[k], heights[k]) if k >= 0 else (np.nan, np.nan)
        else:
            xs, ys = finite(path[:, 0], False), finite(path[:, 1], False)
            traces.append(dict(type="scatter", x=typed(xs), y=typed(ys), mode="lines+markers", name=name,
                               legendgroup=name, line=dict(color=color, width=s.thin,
                                                           dash="dash" if dashed else "solid"),
                               marker=dict(color=color, size=s.racer_dot)))
            k = min(epoch - 1, len(xs) - 1)
            here = (xs[k], ys[k])
        if np.all(np.isfinite(here)):
            traces.append(dict(type="scatter", x=[float(here[0])], y=[float(here[1])], mode="markers", name=name,
                               legendgroup=name, showlegend=False, hoverinfo="skip",
                               marker=dict(color=color, size=s.racer_ring, symbol="circle-open" if dashed else "circle",
                                           line=dict(color=CURRENT if not dashed else color, width=2))))
    notes(layout, land, lang, fs)
    return pio.to_json(dict(data=traces, layout=layout), validate=False)
