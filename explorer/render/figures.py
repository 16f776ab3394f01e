"""What every Plotly figure shares: plain dicts in Plotly's JSON schema, sized by one `Sizes` record.

The app serialises figures once per run without plotly's validation (a third of a new run's server
time went to validating layouts and copying templates); axes and fonts are said outright, since
Streamlit's chart theme sets its own smaller sizes over the layout's font.
"""
from __future__ import annotations

import base64
from html import escape

import numpy as np

from .style import CURRENT, Sizes

_TEMPLATE: dict | None = None


def template() -> dict:
    global _TEMPLATE
    if _TEMPLATE is None:
        import plotly.io as pio
        _TEMPLATE = pio.templates["plotly_white"].to_plotly_json()
    return _TEMPLATE


def axis(title: str, fs: int, **more) -> dict:
    """An axis with its title and tick labels at `fs`, said outright: Streamlit's chart theme sets
    its own (smaller) sizes for them, over the layout's font."""
    return dict(title=dict(text=title, font=dict(size=fs)), tickfont=dict(size=fs), **more)


def fonts(fs: int) -> dict:
    """Layout entries that size every text of a figure: base font, legend, hover labels."""
    return dict(font=dict(size=fs), legend=dict(font=dict(size=fs)), hoverlabel=dict(font=dict(size=fs)))


def figure(traces: list, title: str, y_title: str, w: dict, *, log_y: bool, s: Sizes, mark_epoch=None) -> dict:
    """A curve figure over the epochs, every text at `s.text`, `mark_epoch` drawn as a dashed line."""
    fs = s.text
    layout = dict(
        title=dict(text=title, font=dict(size=fs + 4)),
        xaxis=axis(w["epoch"], fs),
        yaxis=axis(y_title, fs, type="log" if log_y else "linear"),
        template=template(), hovermode="x unified",
        margin=dict(l=60, r=20, t=60, b=50), **fonts(fs))
    if mark_epoch is not None:
        layout["shapes"] = [dict(type="line", x0=mark_epoch, x1=mark_epoch, xref="x", y0=0, y1=1, yref="y domain",
                                 line=dict(color=CURRENT, width=s.thin, dash="dash"))]
    return dict(data=traces, layout=layout)


def line(x, y, name: str, n: int, s: Sizes) -> dict:
    return dict(type="scattergl" if n > 1000 else "scatter", x=x, y=y, mode="lines", name=name,
                line=dict(width=s.line), connectgaps=False)


def finite(y: np.ndarray, log_y: bool) -> np.ndarray:
    """Non-finite (and, on a log axis, non-positive) values become gaps instead of breaking the plot."""
    ok = np.isfinite(y)
    if log_y:
        ok &= y > 0
    return y if ok.all() else np.where(ok, y, np.nan)



def typed(a: np.ndarray) -> dict:
    """A Plotly typed array: float32 (the run's own precision, so nothing is rounded) as base64,
    a third of the bytes of the same numbers written out in JSON."""
    if a.dtype.kind in "iu":
        return dict(dtype="i4", bdata=base64.b64encode(a.astype("<i4").tobytes()).decode())
    return dict(dtype="f4", bdata=base64.b64encode(a.astype("<f4").tobytes()).decode())



NOTE_CHARS = {"en": 110, "zh": 55}      # a note's line in a figure's title: plotly does not wrap text


def notes(layout: dict, land, lang: str, fs: int) -> None:
    """The landscape's notes (gaps outside the loss's domain, nothing to draw) under the title, wrapped."""
    import textwrap
    lines = [part for note in getattr(land, "notes", ())
             for part in textwrap.wrap(note.message(lang), NOTE_CHARS.get(lang, NOTE_CHARS["en"]))]
    if lines:
        layout["title"]["text"] += "".join(f'<br><span style="font-size:{fs - 2}px">{escape(x)}</span>' for x in lines)
        layout["margin"]["t"] += int(1.3 * fs * len(lines))


def loss_axis(title: str, loss: np.ndarray, fs: int) -> dict:
    """The y-axis of a one-weight landscape: the loss over the grid, a little to spare. Fixed, like the
    x-axis, so points of the path beyond the grid (a diverging run's later epochs) do not stretch the view."""
    out = axis(title, fs)
    finite = loss[np.isfinite(loss)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        out["range"] = [lo - pad, hi + pad]
    return out


def legend_below(layout: dict, y: float, s: Sizes) -> None:
    """A horizontal legend under the plot, where eight racers can wrap to two rows without running into
    the title; projected, lower and with more room, clear of the larger axis title."""
    layout["legend"].update(orientation="h", yanchor="top", y=y if s.legend_below is None else s.legend_below,
                            xanchor="center", x=0.5)
    if s.legend_room is not None:
        layout["margin"]["b"] = s.legend_room


def slice_note(land, w: dict, k: int, fs: int) -> str:
    """The subtitle saying which slice of a bigger landscape is drawn (a <sup> would be too small on a wall)."""
    words = w["random"] if getattr(land, "directions", "moved") == "random" else w["slice"]
    note = escape(words.format(a=land.coords[0], b=land.coords[1], k=k))
    return f'<br><span style="font-size:{fs - 2}px">{note}</span>'
