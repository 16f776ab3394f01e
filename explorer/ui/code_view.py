"""The experiment as a plain PyTorch script to take home."""
from __future__ import annotations

from functools import partial

import streamlit as st

import explorer
from explorer import compute

from .state import Page
from .text import t


def show(page: Page, run: explorer.Run, epoch: int) -> None:
    lang = page.view.lang
    st.caption(t("code_caption", lang))
    source = compute.script(run.experiment)
    st.code(source, language="python")
    st.download_button(t("download_py", lang), partial(str, source), "autograd_experiment.py", "text/x-python",
                       key="dl_py", icon=":material/download:", on_click="ignore")
