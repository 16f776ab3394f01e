"""`st.plotly_chart` for a figure that is already JSON.

`st.plotly_chart(fig)` copies, validates and serialises the whole figure on every rerun: for the
three curves of a 1,000-epoch run that was most of a slider move's server time. The app builds
each figure's JSON once per run and only patches the marked epoch into it (`render.mark`), so
this sends that text as the same element `st.plotly_chart` would (Streamlit 1.67's proto and
element id), skipping the rebuild.
"""
from __future__ import annotations

import streamlit as st
from streamlit.elements.lib.form_utils import current_form_id
from streamlit.elements.lib.layout_utils import LayoutConfig
from streamlit.elements.lib.utils import compute_and_register_element_id
from streamlit.proto.PlotlyChart_pb2 import PlotlyChart as PlotlyChartProto

CONFIG = "{}"
THEME = "streamlit"


def plotly_json(spec: str, *, key: str, height: int) -> None:
    """Show a Plotly figure given as JSON text, full width and `height` px tall."""
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
