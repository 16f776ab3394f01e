"""How big and in which colours everything is drawn: one record for a laptop, one for a classroom wall.

Chosen once per page (`sizes(projection)`), so the drawing code reads `s.text`, never `if projection`.
Colours are chosen to stay distinct on projectors.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..optimizers import TABLE


@dataclass(frozen=True)
class Sizes:
    graph: int            # graph text, in points of the DOT
    graph_small: int      # the op under a leaf's name, attributes, edge labels
    pen: int              # node borders and edges
    arrow: str            # arrowheads of the graph's edges
    text: int             # figure text: ticks, axis titles, legends, hover labels (title 4 more)
    line: float           # a curve
    thin: float           # the shown epoch's line, a tangent, the dotted path before the shown step
    mark: int             # the shown epoch's marker on a curve
    point: int            # the marker at the shown epoch on a landscape
    dot: int              # markers of the run's path
    racer_dot: int        # markers of a racer's path
    racer_ring: int       # the ring around a racer's position at the shown epoch
    race_margin: int      # left margin of the race figure (its loss ticks)
    legend_below: float | None    # where a legend under the plot sits (None: just under the axis)
    legend_room: int | None       # bottom margin it needs (None: the figure's own)
    focus_above: int | None       # graphs with more nodes are drawn around the step, the whole as a map (None: never)
    beside: tuple[int, int]       # widths of a tall graph and its explanation beside it
    beside_map: tuple[int, int]   # widths of a focused graph and the map of the whole beside it
    map_px: int                   # the map's longest side on screen (the whole graph beside a focused one)
    curve_px: int                 # each chart of the Curves tab: the loss, then weights | gradients below it
    landscape_px: int             # a landscape (the race's too), under its caption and the choice of slice
    race_px: int                  # the race's curves and winner strip, under the race's controls


# The wall's chart heights fit the smallest projector screen there is, 1280 x 720, so on the wall each chart
# is whole under the tabs with its controls (and the Curves tab whole), and stays so on any bigger one.
LAPTOP = Sizes(graph=11, graph_small=9, pen=1, arrow="0.6", text=13, line=2, thin=2, mark=9, point=10, dot=4,
               racer_dot=3, racer_ring=9, race_margin=60, legend_below=None, legend_room=None,
               focus_above=None, beside=(2, 1), beside_map=(8, 1), map_px=0, curve_px=360, landscape_px=520, race_px=460)
WALL = Sizes(graph=18, graph_small=15, pen=2, arrow="0.8", text=20, line=4, thin=3, mark=14, point=14, dot=6,
             racer_dot=4, racer_ring=12, race_margin=90, legend_below=-0.24, legend_room=110,
             focus_above=6, beside=(3, 2), beside_map=(8, 1), map_px=150, curve_px=285, landscape_px=440, race_px=420)


def sizes(projection: bool) -> Sizes:
    return WALL if projection else LAPTOP


# (light fill, stronger fill once backward has passed the node)
PALETTE = {
    "leaf": ("#d3f9d8", "#8ce99a"),
    "op": ("#e7f0fb", "#a5c8f0"),
    "output": ("#fff3bf", "#ffd43b"),
    "data": ("#f1f3f5", "#ced4da"),
    "saved": ("#ffe8cc", "#ffc078"),
}
CURRENT = "#e8590c"     # the current step, the shown epoch: one colour on every picture
PENDING = "#adb5bd"
FONT = "Helvetica"      # one plain name: the browser's WebAssembly Graphviz only knows metrics by it
# One colour per optimizer in every race figure (the optimizers' table; never the orange of the shown epoch).
RACE_COLORS = {name: o.color for name, o in TABLE.items()}
