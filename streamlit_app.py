"""Autograd Explorer: type tensors and a loss, watch real torch.autograd run.

`streamlit run streamlit_app.py`. The page, top to bottom: the inputs in the sidebar (hidden
by a classroom link), the title, anything worth knowing about this run, the epoch shown,
then the graph with its backward step-through, the curves, the log and the code.
"""
import streamlit as st

from explorer.ui import code_view, curves_view, graph_view, header, log_view, sidebar, state
from explorer.ui.text import t

st.set_page_config(page_title="Autograd Explorer", page_icon="∂", layout="wide",
                   initial_sidebar_state="collapsed" if state.inputs_hidden() else sidebar.WIDTH)
state.init()
lang = state.lang()
typed = state.typed()
projection = header.title(lang)
shown = state.attempt(typed, t("training", lang))

if state.inputs_hidden():
    header.summary(shown, lang)
else:
    with st.sidebar:
        sidebar.inputs(shown, lang)
        sidebar.share_box(typed, lang)

header.status(shown, lang)
epoch = header.epoch_scrubber(shown, lang)

graph_tab, curves_tab, log_tab, code_tab = st.tabs(
    [t("tab_graph", lang), t("tab_curves", lang), t("tab_log", lang), t("tab_code", lang)])
with graph_tab:
    graph_view.show(shown.run, epoch, lang, projection)
with curves_tab:
    curves_view.show(shown.run, epoch, lang, projection)
with log_tab:
    log_view.show(shown.run, epoch, lang)
with code_tab:
    code_view.show(shown.experiment, lang)

state.sync_url(typed)
