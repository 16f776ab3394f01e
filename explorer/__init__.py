"""Autograd Explorer: make PyTorch autograd visible.

text -> lang (safe language) -> experiment (validated) -> engine (train) -> graph (grad_fn as data)
-> render (DOT, plotly) -> ui (Streamlit, in explorer/ui only).

Importing it changes no process-wide setting: the app sets its threads at start-up
(streamlit_app.py, explorer/ui/startup.py) and each worker process its own (pool._serve).
"""
from .engine import Epoch, Run, compare, run
from .errors import ExplorerError, Note
from .experiment import OPTIMIZERS, Experiment, plan
from .export import export_script
from .graph import Edge, Graph, Node, trace_backward
from .gradcheck import gradcheck
from .gradcheck import kinks as gradcheck_kinks
from .gradcheck import report as gradcheck_report
from .landscape import Landscape, landscape
from .landscape import points as landscape_points
from .landscape import random_directions as landscape_directions
from .presets import PRESETS


def to_dot(graph, step=None, **options):
    """DOT source of a traced graph; `step=k` highlights backward steps 1..k."""
    from .render import to_dot as _to_dot
    return _to_dot(graph, step, **options)


__all__ = ["Edge", "Epoch", "Experiment", "ExplorerError", "Graph", "Node", "Note", "OPTIMIZERS", "PRESETS",
           "Landscape", "Run", "compare", "export_script", "gradcheck", "gradcheck_kinks", "gradcheck_report",
           "landscape", "landscape_directions", "landscape_points", "plan", "run", "to_dot",
           "trace_backward"]
