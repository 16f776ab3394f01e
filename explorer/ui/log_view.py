"""The course's per-epoch printout as a table, from just before the epoch shown; the CSV has every epoch."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

import explorer
from explorer import compute

from .state import Page
from .text import t

BEFORE = 2       # epochs above the one shown: its row stays near the top of the table, in view
HEIGHT = 440     # px: about ten rows, eight projected; a longer table scrolls inside
SHORT = 8        # rows that never need scrolling: the table is as tall as they are


def show(page: Page, run: explorer.Run, epoch: int) -> None:
    """A window of epochs starting just before the one shown, marked ▶: a 10,000-epoch table would
    swamp the browser. An HTML table, not st.dataframe: its text is the exact printout, its size
    follows projection mode's CSS, and it has no toolbar in English only."""
    lang, n = page.view.lang, len(run.history)
    window, in_csv = compute.log_limits(run)
    start = max(0, epoch - 1 - BEFORE)
    stop = min(n, start + window)
    header, rows = compute.log_rows(run, lang, start, stop)
    per = t("log_per_tensor", lang) if len(run.history.names) > 1 else ""
    st.caption(t("log_caption", lang, per=per))
    frame = pd.DataFrame(rows, columns=header)
    frame.insert(0, " ", ["▶" if r[0] == epoch else "" for r in rows])
    with st.container(key="log_table"):
        st.table(frame, hide_index=True, height="content" if len(rows) <= SHORT else HEIGHT)
    if stop - start < n:
        st.caption(t("log_window", lang, a=start + 1, b=stop, n=n))
    if in_csv < n:
        st.caption(t("csv_capped", lang, n=in_csv))
    st.download_button(t("download_csv", lang), partial(compute.log_csv, run, lang), "autograd_log.csv",
                       "text/csv", key="dl_csv", icon=":material/download:", on_click="ignore")
