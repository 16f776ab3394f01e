"""The experiment as a plain PyTorch script to take home."""
from __future__ import annotations

from functools import partial

import streamlit as st

from explorer.experiment import Experiment

from explorer import compute

from .text import t


def show(exp: Experiment, lang: str) -> None:
    st.caption(t("code_caption", lang))
    source = compute.script(exp)
    st.code(source, language="python")
    st.download_button(t("download_py", lang), partial(str, source), "autograd_experiment.py", "text/x-python",
                       key="dl_py", icon=":material/download:", on_click="ignore")
