"""Traced graphs and training histories as pictures, in rooms of their own: the graph as Graphviz DOT
(`dot`), the curves (`curves`), the landscape (`landscape`) and the race (`race`) as Plotly figures,
all sized by one record chosen once (`style.sizes`), their numbers written by `explorer.numbers`.

Everything works on plain data (`explorer.graph.Graph`, history records), so the app, notebooks and
tests all render the same way.
"""
from ..numbers import SMALL_NUMEL, summary
from ..numbers import tensor as fmt_tensor
from .curves import MARK_X, curve_json, loss_figure, mark, tensor_figure
from .dot import focused, to_dot, to_map
from .landscape import landscape_json
from .race import leader, race_json, race_landscape_json, racer_name, winners
from .style import CURRENT, RACE_COLORS, Sizes, sizes
from .words import WORDS

__all__ = ["CURRENT", "MARK_X", "RACE_COLORS", "SMALL_NUMEL", "Sizes", "WORDS", "curve_json", "fmt_tensor",
           "landscape_json", "leader", "loss_figure", "mark", "race_json", "race_landscape_json", "racer_name",
           "sizes", "summary", "tensor_figure", "to_dot", "to_map", "focused", "winners"]
