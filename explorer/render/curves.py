"""Loss, weights and gradients over the epochs: built once per run as Plotly JSON, the shown epoch
patched in (`mark`), since moving the epoch slider should cost a string replacement, not a figure."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from .figures import figure, finite, line, typed
from .style import CURRENT, sizes
from .words import words

CURVE_MARKERS = 50      # runs this short get markers on their lines: one epoch is otherwise an invisible line


def _loss_dict(history, mark_epoch, log_y, projection, lang, mark_y=None) -> dict:
    w = words(lang)
    n = len(history)
    x = np.arange(1, n + 1, dtype=np.int64)
    y = _losses(history)
    raw_bad = int(n - np.isfinite(y).sum())
    y = finite(y, log_y)
    s = sizes(projection)
    traces = [line(x, y, w["loss"], n, s)]
    if mark_epoch is not None:
        if mark_y is None:
            hit = np.nonzero(x == mark_epoch)[0]
            mark_y = float(y[hit[0]]) if hit.size and np.isfinite(y[hit[0]]) else None
        if mark_y is not None:
            traces.append(dict(type="scatter", x=[mark_epoch], y=[mark_y], mode="markers", showlegend=False,
                               name=w["loss"], hoverinfo="skip", marker=dict(color=CURRENT, size=s.mark)))
    title = w["note"].format(title=w["loss"], note=w["nonfinite"].format(n=raw_bad)) if raw_bad else w["loss"]
    fig = figure(traces, title, w["loss"], w, log_y=log_y, s=s, mark_epoch=mark_epoch)
    fig["layout"]["showlegend"] = False
    return fig


def loss_figure(history, *, mark_epoch: int | None = None, log_y: bool = False, projection: bool = False,
                lang: str = "en") -> go.Figure:
    """Loss per epoch; `mark_epoch` pins the epoch the rest of the page is showing."""
    return go.Figure(_loss_dict(history, mark_epoch, log_y, projection, lang))


def _losses(history) -> np.ndarray:
    if hasattr(history, "losses"):                       # explorer's History: already one stacked tensor
        return np.asarray(history.losses, dtype=np.float64).copy()
    return np.fromiter((float(r.loss) for r in history), dtype=np.float64, count=len(history))


def _element_names(name: str, shape, count: int) -> list[str]:
    if len(shape) == 0:
        return [name]
    if len(shape) == 1:
        return [f"{name}[{i}]" for i in range(count)]
    idx = np.unravel_index(np.arange(count), shape)
    return [f"{name}[{','.join(str(int(a[j])) for a in idx)}]" for j in range(count)]


def _series(history, attr: str, name: str, count: int, numel: int, dtype) -> np.ndarray:
    """(epochs, count) array of the first `count` elements of one tensor; a missing grad is a gap."""
    if hasattr(history, "losses"):                       # explorer's History: slice the stacked tensors
        n = len(history)
        stacked = (history.params if attr == "params" else history.grads)[name]
        if stacked is None:
            return np.full((n, count), np.nan)
        return stacked[:n].detach().reshape(n, -1)[:, :count].to(torch.float64).numpy()
    rows = []
    nan = None
    for r in history:
        t = getattr(r, attr).get(name)
        if t is None:
            if nan is None:
                nan = torch.full((count,), float("nan"), dtype=dtype)
            rows.append(nan)
            continue
        t = t.detach().reshape(-1)
        rows.append(t if numel == count else t[:count])
    return torch.stack(rows).to(torch.float64).numpy()


def _tensor_dict(history, which, mark_epoch, log_y, projection, lang, max_traces=12) -> dict:
    if which not in ("params", "grads"):
        raise ValueError(f"which must be 'params' or 'grads', not {which!r}")
    w = words(lang)
    n = len(history)
    traces = []
    title = w[which]
    y_title = (w["abs_grads"] if log_y else w["grads"]) if which == "grads" else w["param_value"]
    if n:
        x = np.arange(1, n + 1, dtype=np.int64)
        first = history[0].params
        budget = max(0, int(max_traces))
        total = 0
        for name, t0 in first.items():
            numel = t0.numel()
            total += numel
            count = min(numel, budget)
            if count == 0:
                continue
            budget -= count
            ys = _series(history, which, name, count, numel, t0.dtype)
            if which == "grads" and log_y:
                ys = np.abs(ys)
            for label, col in zip(_element_names(name, tuple(t0.shape), count), ys.T):
                traces.append(line(x, finite(np.ascontiguousarray(col), log_y), label, n, sizes(projection)))
        if total > len(traces):
            title = w["note"].format(title=title, note=w["omitted"].format(n=total - len(traces), limit=max_traces))
    return figure(traces, title, y_title, w, log_y=log_y, s=sizes(projection), mark_epoch=mark_epoch)


def tensor_figure(history, which: str = "params", *, mark_epoch: int | None = None, log_y: bool = False,
                  projection: bool = False, lang: str = "en", max_traces: int = 12) -> go.Figure:
    """One line per element of every trainable tensor, to watch parameters settle or gradients vanish.

    Lines beyond `max_traces` are left out (the title says how many) so big tensors stay legible.
    On a log axis gradients are plotted as absolute values, since their sign is what flips.
    """
    return go.Figure(_tensor_dict(history, which, mark_epoch, log_y, projection, lang, max_traces))


# ---------------------------------------------------------------- a figure built once, marked at any epoch

MARK_X, MARK_Y = 987654321.5, 123456789.25      # stand-ins for the marked epoch and its loss in the JSON
_MARK_X, _MARK_Y = "987654321.5", "123456789.25"


def curve_json(history, which: str, *, log_y: bool = False, projection: bool = False, lang: str = "en") -> str:
    """A curve figure ("loss", "params" or "grads") as Plotly JSON with a stand-in for the marked epoch.

    Building and serialising a figure costs milliseconds per thousand epochs; moving the epoch
    slider only moves the marker, so the app builds this once per run and calls `mark` per epoch.
    """
    import plotly.io as pio
    if which == "loss":
        fig = _loss_dict(history, MARK_X, log_y, projection, lang, mark_y=MARK_Y)
    else:
        fig = _tensor_dict(history, which, MARK_X, log_y, projection, lang)
    for trace in fig["data"]:
        if len(history) <= CURVE_MARKERS and trace["mode"] == "lines":
            trace["mode"] = "lines+markers"
        for axis in ("x", "y"):
            if isinstance(trace[axis], np.ndarray):
                trace[axis] = typed(trace[axis])
    text = pio.to_json(fig, validate=False)
    if text.count(_MARK_X) != (3 if which == "loss" else 2):
        raise ValueError("the epoch stand-in did not survive serialisation")
    return text


def mark(spec: str, epoch: int, loss: float | None = None) -> str:
    """`curve_json`'s figure with `epoch` marked (and, on the loss curve, the point at `loss`)."""
    y = "null" if loss is None or not np.isfinite(loss) else repr(float(loss))
    return spec.replace(_MARK_X, str(int(epoch))).replace(_MARK_Y, y)
