"""The epoch shown and the four tabs: everything that shows one run.

A fragment: moving the epoch slider or switching the log scale reruns only this part of the page,
not the inputs in the sidebar, which on a six-tensor example were half of a rerun's server time.
"""
from __future__ import annotations

import streamlit as st

import explorer

from . import code_view, curves_view, graph_view, header, log_view, state
from .text import t


@st.fragment
def show(run: explorer.Run, lang: str, projection: bool) -> None:
    epoch = header.epoch_scrubber(run, lang)
    graph_tab, curves_tab, log_tab, code_tab = st.tabs(
        [t("tab_graph", lang), t("tab_curves", lang), t("tab_log", lang), t("tab_code", lang)])
    with graph_tab:
        graph_view.show(run, epoch, lang, projection)
    with curves_tab:
        curves_view.show(run, epoch, lang, projection)
    with log_tab:
        log_view.show(run, epoch, lang)
    with code_tab:
        code_view.show(run.experiment, lang)
    state.sync_url(state.typed())
