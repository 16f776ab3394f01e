"""The epoch shown and the tabs: everything that shows one run.

A fragment: moving the epoch slider, switching the log scale or the tab reruns only this part of
the page, not the inputs in the sidebar, which on a six-tensor example were half of a rerun's
server time.
"""
from __future__ import annotations

import streamlit as st

import explorer

from . import (code_view, curves_view, graph_view, header, landscape_view, log_view, race_view, runtime,
               state)
from .text import t


TABS = ("tab_graph", "tab_curves", "tab_log", "tab_code", "tab_landscape", "tab_race")


@st.fragment
@runtime.guarded
def show(run: explorer.Run, lang: str, projection: bool) -> None:
    """Only the open tab is computed and sent: a page that drew all four cost a busy server twice
    as much per rerun (the curves, the log table and the code travel on every rerun otherwise)."""
    epoch = header.epoch_scrubber(run, lang, projection)
    labels = [t(k, lang) for k in TABS]
    key = f"tab_{lang}"              # the labels are per language; the open tab's index is kept across
    state.open_tab(key, labels)
    views = (lambda: graph_view.show(run, epoch, lang, projection),
             lambda: curves_view.show(run, epoch, lang, projection),
             lambda: log_view.show(run, epoch, lang),
             lambda: code_view.show(run.experiment, lang),
             lambda: landscape_view.show(run, epoch, lang, projection),
             lambda: race_view.show(run, epoch, lang, projection))
    for tab, view in zip(st.tabs(labels, key=key, on_change="rerun"), views, strict=True):
        if tab.open:
            with tab:
                view()
    state.sync_url(state.typed())
