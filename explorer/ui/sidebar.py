"""The inputs: language, example, tensors, loss and training settings, each with its own error spot.

An ExplorerError names the field at fault (`err.field`), and the message is drawn right under
that field in the chosen language; the student's text stays in the box to be fixed.
"""
from __future__ import annotations

import streamlit as st

from explorer import OPTIMIZERS, PRESETS, ExplorerError
from explorer.experiment import Experiment, tensor_field

from . import state
from .text import LANG_NAMES, optimizer_title, plain, preset_title, t

ss = st.session_state
WIDTH = 380    # px: room for a tensor row's name, trainable switch and delete button side by side
FIELDS = ("tensors", "trainable", "loss", "lr", "epochs", "optimizer", "seed")   # each has an error spot below


class ErrorSpot:
    """Shows the error once, at the first place that claims its field (or at the end, unclaimed)."""

    def __init__(self, error: ExplorerError | None, internal: bool, lang: str):
        self.error, self.internal, self.lang = error, internal, lang
        self.done = error is None and not internal

    def at(self, *fields: str) -> None:
        if not self.done and self.error is not None and self.error.field in fields:
            st.error(plain(self.error.message(self.lang)), icon=":material/error:")
            self.done = True

    def rest(self) -> None:
        if self.done:
            return
        st.error(plain(self.error.message(self.lang)) if self.error else t("internal", self.lang),
                 icon=":material/error:")
        self.done = True


def inputs(shown: state.Shown, lang: str) -> None:
    """Every input of the experiment, top to bottom in the order the course introduces them."""
    st.radio(t("language", lang), list(LANG_NAMES), key="lang", format_func=LANG_NAMES.get, horizontal=True)
    spot = ErrorSpot(shown.error, shown.internal, lang)
    rows = {tensor_field((ss.get(state.row_keys(r)[0]) or "").strip()) for r in ss.rows}
    if shown.internal or (shown.error is not None and shown.error.field not in rows | set(FIELDS)):
        spot.rest()

    st.selectbox(t("preset", lang), list(PRESETS), key="preset", on_change=state.on_preset,
                 format_func=lambda k: preset_title(k, lang), placeholder=t("preset_custom", lang),
                 help=t("preset_help", lang))
    if ss.get("preset") in PRESETS and state.typed() != PRESETS[ss.preset]:
        st.button(t("reset", lang), on_click=state.on_preset, help=t("reset_help", lang),
                  icon=":material/undo:", type="tertiary", key="reset")

    st.subheader(t("tensors", lang), divider="gray")
    trained = set(shown.run.plan.trainable) if not shown.stale else set()
    for rid in ss.rows:
        _tensor_row(rid, lang, spot, trained)
    spot.at("tensors", "trainable")
    st.button(t("add_tensor", lang), on_click=state.add_row, icon=":material/add:", key="add_row")

    st.subheader(t("loss", lang), divider="gray")
    st.text_area(t("loss", lang), key="loss", height="content", help=t("loss_help", lang),
                 label_visibility="collapsed")
    spot.at("loss")
    st.caption(t("apply_hint", lang))   # in place of Streamlit's English-only "Press Ctrl+Enter to apply"

    st.subheader(t("settings", lang), divider="gray")
    left, right = st.columns(2)
    with left:
        st.number_input(t("lr", lang), key="lr", format="%g", step=0.001)
    with right:
        st.number_input(t("epochs", lang), key="epochs", step=1)
    spot.at("lr", "epochs")
    st.selectbox(t("optimizer", lang), OPTIMIZERS, key="optimizer", format_func=lambda k: optimizer_title(k, lang))
    spot.at("optimizer")
    st.toggle(t("zero_grad", lang), key="zero_grad", help=t("zero_grad_help", lang))
    st.number_input(t("seed", lang), key="seed", step=1, help=t("seed_help", lang))
    spot.at("seed")
    spot.rest()


def _tensor_row(rid: int, lang: str, spot: ErrorSpot, trained: set) -> None:
    k_name, k_def, k_train = state.row_keys(rid)
    name = (ss.get(k_name) or "").strip()
    with st.container(key=f"row_{rid}"):
        c_name, c_train, c_del = st.columns([4, 6, 1], vertical_alignment="center")
        with c_name:
            st.text_input(t("tensor_name", lang), key=k_name, label_visibility="collapsed",
                          placeholder=t("tensor_name", lang))
        with c_train:
            st.toggle(t("trainable", lang), key=k_train, help=t("trainable_help", lang))
        with c_del:
            st.button("", key=f"del_{rid}", icon=":material/delete:", on_click=state.remove_row, args=(rid,),
                      help=t("remove", lang, name=name), type="tertiary")
        st.text_area(t("tensor_def", lang, name=name), key=k_def, height="content",
                     help=t("tensor_def_help", lang), label_visibility="collapsed")
        if name in trained and not ss.get(k_train):
            st.caption(t("trainable_by_text", lang, name=name))
        spot.at(tensor_field(name))


def share_box(exp: Experiment, lang: str) -> None:
    """The link that reopens this exact experiment, and the classroom version of it."""
    with st.expander(t("share", lang), icon=":material/share:"), st.container(key="share"):
        link, absolute = state.share_link(exp)
        st.caption(t("share_note", lang) if absolute else t("share_relative", lang))
        st.code(link, language=None, wrap_lines=True)
        st.caption(t("classroom", lang))
        st.code(state.share_link(exp, hide="inputs", proj=True)[0], language=None, wrap_lines=True)
