"""Autograd Explorer: type tensors and a loss, watch real torch.autograd run.

`streamlit run streamlit_app.py`. The page, top to bottom: the inputs in the sidebar (hidden
by a classroom link), the title, anything worth knowing about this run, the epoch shown,
then the graph with its backward step-through, the curves, the log and the code.
"""
import streamlit as st

from explorer.ui import header, results, runtime, sidebar, state
from explorer.ui.text import t

st.set_page_config(page_title="Autograd Explorer", page_icon="∂", layout="wide",
                   initial_sidebar_state="collapsed" if state.inputs_hidden() else sidebar.WIDTH)


@runtime.guarded
def page() -> None:
    state.init()
    lang = state.lang()
    typed = state.typed()
    shown = state.attempt(typed, t("training", lang))
    projection = header.title(lang, shown)

    if not state.inputs_hidden():
        with st.sidebar:
            sidebar.inputs(shown, lang)
            sidebar.share_box(typed, lang)

    header.status(shown, lang)
    results.show(shown.run, lang, projection)

    state.sync_url(typed)


page()
