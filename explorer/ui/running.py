"""Running the experiment the fields describe, or, when they do not describe a valid one, the last that ran."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

import explorer
from explorer import PRESETS, ExplorerError, compute
from explorer.experiment import Experiment

from .state import DEFAULT_PRESET, Page
from .text import t

log = logging.getLogger(__name__)


@dataclass
class Shown:
    """What the page shows: the typed experiment if it runs, else the last one that did."""
    experiment: Experiment
    run: explorer.Run
    error: ExplorerError | None = None     # why the typed experiment was not shown
    internal: bool = False                 # a bug, not the student's input

    @property
    def stale(self) -> bool:
        return self.error is not None or self.internal


def attempt(page: Page) -> Shown:
    """Train the typed experiment; on bad input show the last experiment that ran instead of an empty page.
    The page's step then follows what is shown (`Page.showing`)."""
    exp = page.draft.experiment()
    error, internal = None, False
    try:
        with st.spinner(t("training", page.view.lang)):
            run = compute.train(exp)
        page.last_good = exp
        shown = Shown(exp, run)
    except ExplorerError as e:
        error = e
    except Exception:      # noqa: BLE001 - a bug must not cost the student the page
        log.exception("training failed for %r", exp)
        internal = True
    if error is not None or internal:
        fallback = page.last_good or PRESETS.get(page.preset) or PRESETS[DEFAULT_PRESET]
        try:
            shown = Shown(fallback, compute.train(fallback), error, internal)
        except ExplorerError as again:  # too busy even for the last good run: say so, keep the inputs,
            st.warning(again.message(page.view.lang), icon=":material/timer:")      # the next rerun retries
            st.stop()
    page.showing(shown.experiment)
    return shown
