"""The course's per-epoch printout as a table, around the epoch shown; the CSV has every epoch."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

import explorer
from . import compute
from .text import t


def show(run: explorer.Run, epoch: int, lang: str) -> None:
    """A window of epochs around the one shown, marked ▶: a 10,000-epoch table would swamp the browser."""
    n = len(run.history)
    window, in_csv = compute.log_limits(run)
    start = min(max(0, epoch - 1 - window // 2), max(0, n - window))
    stop = min(n, start + window)
    header, rows = compute.log_rows(run, lang, start, stop)
    per = t("log_per_tensor", lang) if len(run.history.names) > 1 else ""
    st.caption(t("log_caption", lang, per=per))
    frame = pd.DataFrame(rows, columns=header)
    frame.insert(0, " ", ["▶" if r[0] == epoch else "" for r in rows])
    st.dataframe(frame, hide_index=True, width="stretch", key="log_table",
                 column_config={" ": st.column_config.TextColumn(width=30)})
    if stop - start < n:
        st.caption(t("log_window", lang, a=start + 1, b=stop, n=n))
    if in_csv < n:
        st.caption(t("csv_capped", lang, n=in_csv))
    st.download_button(t("download_csv", lang), partial(compute.log_csv, run, lang), "autograd_log.csv",
                       "text/csv", key="dl_csv", icon=":material/download:", on_click="ignore")
