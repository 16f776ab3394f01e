"""Loss, parameters and gradients over the epochs, with the epoch shown marked."""
from __future__ import annotations

import streamlit as st

from explorer.experiment import Experiment

from . import compute
from .text import t

HEIGHT = 360   # px: the loss and the two tensor plots fit one laptop screen


def show(exp: Experiment, epoch: int, lang: str, projection: bool) -> None:
    """A log scale shows what a linear one hides: how fast the loss and the gradients shrink."""
    log_y = st.toggle(t("log_y", lang), key="log_y")
    st.plotly_chart(compute.loss_figure(exp, epoch, log_y, projection, lang),
                    width="stretch", height=HEIGHT, key="fig_loss")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(compute.tensor_figure(exp, "params", epoch, log_y, projection, lang),
                        width="stretch", height=HEIGHT, key="fig_params")
    with right:
        st.plotly_chart(compute.tensor_figure(exp, "grads", epoch, log_y, projection, lang),
                        width="stretch", height=HEIGHT, key="fig_grads")
