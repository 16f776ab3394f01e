"""The loss over the weights with the run's path: why each update goes where it goes."""
from __future__ import annotations

import streamlit as st

import explorer

from . import compute
from .charts import plotly_json
from .text import t

HEIGHT = 520   # px: the curve, its tangent and the step arrow read from the back of a room


def show(run: explorer.Run, epoch: int, lang: str, projection: bool) -> None:
    st.caption(t("landscape_caption", lang))
    plotly_json(compute.landscape(run, epoch, projection, lang), key="fig_landscape", height=HEIGHT)
