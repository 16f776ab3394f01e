"""The loss over the weights with the run's path, drawn: for one weight the curve, the tangent whose
slope is the epoch's gradient and the step as an arrow; for two or more, a contour map of a slice."""
from __future__ import annotations

import numpy as np

from ..numbers import num
from .figures import axis, finite, fonts, loss_axis, notes, slice_note, template, typed
from .style import CURRENT, sizes
from .words import words


def landscape_json(land, losses, epoch: int, *, projection: bool = False, lang: str = "en") -> str:
    """Plotly JSON of `explorer.landscape(...)`: for one weight the loss curve, the run's path on
    it, the tangent whose slope is the epoch's gradient and the step w → w − lr·grad as an arrow;
    for two, a contour map with the path. `losses` are the run's losses per epoch (the path's heights)."""
    import plotly.io as pio
    w = words(lang)
    k = epoch
    path = land.path.double().numpy()
    s = sizes(projection)
    fs = s.text
    layout = dict(title=dict(text=w["landscape"], font=dict(size=fs + 4)), template=template(),
                  margin=dict(l=60, r=20, t=60, b=50), showlegend=True, **fonts(fs))
    layout["legend"].update(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1)
    if not land.coords:
        traces = []
        layout.update(xaxis=dict(visible=False), yaxis=dict(visible=False))
    elif len(land.coords) == 1:
        grid, loss = land.grid[0].double().numpy(), land.loss.double().numpy()
        heights = np.asarray(losses, dtype=np.float64)
        xs = path[:len(heights), 0]
        traces = [dict(type="scatter", x=typed(grid), y=typed(finite(loss, False)), mode="lines",
                       name=w["loss"], line=dict(width=s.line)),
                  dict(type="scatter", x=typed(xs), y=typed(finite(heights, False)), mode="markers",
                       name=w["path"], marker=dict(size=s.dot, color="#868e96"))]
        if k > 1:       # the steps taken before the shown one, in order: a too-large rate's bounces read as a zigzag
            traces.append(dict(type="scatter", x=typed(xs[:k]), y=typed(finite(heights[:k], False)), mode="lines",
                               showlegend=False, hoverinfo="skip",
                               line=dict(color="#868e96", width=s.thin - 0.5, dash="dot")))
        x0, y0 = float(path[k - 1, 0]), float(heights[k - 1])
        if land.slope is not None and np.isfinite(x0) and np.isfinite(y0):
            half = (grid[-1] - grid[0]) / 8
            traces.append(dict(type="scatter", x=[x0 - half, x0 + half], y=[y0 - land.slope * half, y0 + land.slope * half],
                               mode="lines", name=w["tangent"].format(k=k, g=num(land.slope)),
                               line=dict(color=CURRENT, width=s.thin, dash="dash")))
        traces.append(dict(type="scatter", x=[x0], y=[y0], mode="markers", name=w["shown"].format(k=k),
                           marker=dict(color=CURRENT, size=s.point)))
        if k < len(heights) and np.all(np.isfinite([path[k, 0], heights[k]])):
            # The arrow carries no text: at a small learning rate it is shorter than its label, which then sat
            # on the marker. Its words go in the legend beside the tangent's, which never overlaps the plot.
            layout["annotations"] = [dict(x=float(path[k, 0]), y=float(heights[k]), ax=x0, ay=y0, xref="x", yref="y",
                                          axref="x", ayref="y", showarrow=True, arrowhead=3, arrowwidth=2,
                                          arrowcolor=CURRENT, text="")]
            step = w["step"].format(k2=k + 1) + " = " + num(float(path[k, 0]))     # the step's size, tiny or not
            traces.append(dict(type="scatter", x=[None], y=[None], mode="lines+markers", name=step,
                               line=dict(color=CURRENT, width=2),
                               marker=dict(color=CURRENT, symbol="triangle-right", size=10)))
        layout["xaxis"] = axis(land.coords[0], fs, range=[float(grid[0]), float(grid[-1])])
        layout["yaxis"] = loss_axis(w["loss"], loss, fs)
    else:
        a, b = (g.double().numpy() for g in land.grid)
        traces = [dict(type="contour", x=typed(a), y=typed(b), z=finite(land.loss.double().numpy().T, False).tolist(),
                       colorscale="Viridis", contours=dict(coloring="heatmap"), name=w["loss"], showscale=True,
                       colorbar=dict(tickfont=dict(size=fs))),
                  dict(type="scatter", x=typed(path[:, 0]), y=typed(path[:, 1]), mode="lines+markers", name=w["path"],
                       line=dict(color="white", width=2), marker=dict(size=4, color="white")),
                  dict(type="scatter", x=[float(path[k - 1, 0])], y=[float(path[k - 1, 1])], mode="markers",
                       name=w["shown"].format(k=k), marker=dict(color=CURRENT, size=s.point))]
        layout["xaxis"] = axis(land.coords[0], fs, range=[float(a[0]), float(a[-1])])
        layout["yaxis"] = axis(land.coords[1], fs, range=[float(b[0]), float(b[-1])])
        if land.is_slice:
            layout["title"]["text"] += slice_note(land, w, k, fs)
            layout["margin"]["t"] += 2 * fs        # room for that second line above the plot
    notes(layout, land, lang, fs)
    return pio.to_json(dict(data=traces, layout=layout), validate=False)
