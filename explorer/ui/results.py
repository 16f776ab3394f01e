"""The epoch shown and the tabs: everything that shows one run.

A fragment: moving the epoch slider, switching the log scale or the tab reruns only this part of
the page, not the inputs in the sidebar, which on a six-tensor example were half of a rerun's
server time.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import streamlit as st

import explorer

from . import (bind, code_view, curves_view, graph_view, header, landscape_view, log_view, predict_view, race_view,
               runtime, session)
from .text import t

class Tab(NamedTuple):
    show: Callable          # show(page, run, epoch)
    tells: bool             # shows an epoch's gradients or updated weights: predicting, it waits for the answers


# The tabs, in order: name (in the URL, `tab=landscape`; its label is the text `tab_<name>`) -> what it shows.
# Adding a tab is adding a line here and its label.
TABS = {"graph": Tab(graph_view.show, False), "curves": Tab(curves_view.show, True), "log": Tab(log_view.show, True),
        "code": Tab(code_view.show, False), "landscape": Tab(landscape_view.show, True),
        "race": Tab(race_view.show, True)}


@st.fragment
@runtime.guarded
@session.in_url
def show(run: explorer.Run) -> None:
    """Only the open tab is computed and sent: a page that drew all four cost a busy server twice
    as much per rerun (the curves, the log table and the code travel on every rerun otherwise)."""
    page = session.current()
    if page.view.tab not in TABS:               # a link naming a tab this page does not have
        page.set(tab="graph")
    lang = page.view.lang
    epoch = header.epoch_scrubber(page, run)
    names = list(TABS)
    labels = [t(f"tab_{name}", lang) for name in names]
    for tab, name in zip(st.tabs(labels, **bind.tabs(lang, names, labels)), names, strict=True):
        if tab.open:
            with tab:
                waits = predict_view.waiting(page, run, epoch) if TABS[name].tells else ()
                if waits:
                    st.info(t("predict_hidden", lang, epoch=epoch, n=len(waits)), icon=":material/quiz:")
                else:
                    TABS[name].show(page, run, epoch)
