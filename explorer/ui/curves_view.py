"""Loss, parameters and gradients over the epochs, with the epoch shown marked."""
from __future__ import annotations

import streamlit as st

import explorer
from explorer import compute, render

from . import bind
from .charts import plotly_json
from .state import Page
from .text import t


def show(page: Page, run: explorer.Run, epoch: int) -> None:
    """A log scale shows what a linear one hides: how fast the loss and the gradients shrink."""
    lang, projection = page.view.lang, page.view.proj
    height = render.sizes(projection).curve_px          # the loss and the two tensor plots fit one screen
    log_y = st.toggle(t("log_y", lang), **bind.view("log"))
    plotly_json(compute.curve(run, "loss", epoch, log_y, projection, lang), key="fig_loss", height=height)
    left, right = st.columns(2)
    with left:
        plotly_json(compute.curve(run, "params", epoch, log_y, projection, lang), key="fig_params", height=height)
    with right:
        plotly_json(compute.curve(run, "grads", epoch, log_y, projection, lang), key="fig_grads", height=height)
