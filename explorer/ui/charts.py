"""`st.plotly_chart` for a figure that is already JSON, behind one adapter.

`st.plotly_chart(fig)` copies, validates and serialises the whole figure on every rerun: for the
three curves of a 1,000-epoch run that was most of a slider move's server time. The app builds
each figure's JSON once per run and only patches the marked epoch into it (`render.mark`), so
this sends that text as the same element `st.plotly_chart` would (Streamlit 1.67's proto and
element id), skipping the rebuild. Those are Streamlit's internals: where they are missing or have
changed, the figure goes through `st.plotly_chart` itself, slower but the same picture
(`tests/test_charts.py` compares the two).
"""
from __future__ import annotations

import json
import logging

import streamlit as st

CONFIG = "{}"
THEME = "streamlit"
log = logging.getLogger(__name__)

try:
    from streamlit.elements.lib.form_utils import current_form_id
    from streamlit.elements.lib.layout_utils import LayoutConfig
    from streamlit.elements.lib.utils import compute_and_register_element_id
    from streamlit.proto.PlotlyChart_pb2 import PlotlyChart as PlotlyChartProto
    DIRECT = True
except ImportError:              # pragma: no cover - another Streamlit
    DIRECT = False


def plotly_json(spec: str, *, key: str, height: int) -> None:
    """Show a Plotly figure given as JSON text, full width and `height` px tall."""
    global DIRECT
    if DIRECT:
        try:
            return _direct(spec, key, height)
        except (AttributeError, TypeError) as e:      # the internals changed: say so once, then go the long way
            log.warning("drawing figures through st.plotly_chart from now on: %s", e)
            DIRECT = False
    return through_streamlit(spec, key=key, height=height)


def through_streamlit(spec: str, *, key: str, height: int) -> None:
    """The same figure drawn by `st.plotly_chart` (validated and serialised again)."""
    st.plotly_chart(json.loads(spec), key=key, height=height, width="stretch", theme=THEME, config={})


def _direct(spec: str, key: str, height: int) -> None:
    dg = st._main                 # as in st.plotly_chart: _enqueue writes into the enclosing `with` block
    proto = PlotlyChartProto()
    proto.spec = spec
    proto.config = CONFIG
    proto.theme = THEME
    proto.form_id = current_form_id(dg)
    proto.id = compute_and_register_element_id(
        "plotly_chart", user_key=key, key_as_main_identity=False, dg=dg, plotly_spec=spec,
        plotly_config=CONFIG, selection_mode=("points", "box", "lasso"), is_selection_activated=False,
        theme=THEME, width="stretch", height=height, alt=None)
    dg._enqueue("plotly_chart", proto, layout_config=LayoutConfig(width="stretch", height=height))
