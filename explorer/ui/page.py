"""Autograd Explorer's page: type tensors and a loss, watch real torch.autograd run.

Top to bottom: the title, anything worth knowing about this run, the epoch shown, then the tabs (the
graph with its backward step-through, the curves, the log, the code, the landscape, the race); the
inputs and the share box in the sidebar, hidden by a classroom link. Everything it shows is one state
object (`explorer.ui.state.Page`). The graph is drawn before the sidebar: it is what a visitor waits for.
Served by `streamlit_app.py`, which sets the process up and warms the caches before the first visitor.
"""
import streamlit as st

from explorer.ui import header, lesson_view, results, running, runtime, session, sidebar, startup

startup.settle()
st.set_page_config(page_title="Autograd Explorer", page_icon="∂", layout="wide",
                   initial_sidebar_state="collapsed" if session.current().view.hide else sidebar.WIDTH)


@runtime.guarded
@session.in_url
def page() -> None:
    state = session.current()
    shown = running.attempt(state)
    header.title(state, shown)
    header.status(state, shown)
    lesson_view.show(state, shown.experiment)
    results.show(shown.run)
    if not state.view.hide:
        with st.sidebar:
            sidebar.inputs(state, shown)
            sidebar.share_box(state)


page()
