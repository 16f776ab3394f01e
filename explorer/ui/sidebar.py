"""The inputs: language, example, tensors, loss and training settings, each with its own error spot.

An ExplorerError names the field at fault (`err.field`), and the message is drawn right under
that field in the chosen language; the student's text stays in the box to be fixed.
"""
from __future__ import annotations

import streamlit as st

from explorer import OPTIMIZERS, PRESETS, ExplorerError
from explorer.experiment import tensor_field

from . import bind, browser
from .running import Shown
from .state import Page, Row
from .text import LANG_NAMES, optimizer_title, plain, preset_title, t
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


def inputs(page: Page, shown: Shown) -> None:
    """Every input of the experiment, top to bottom in the order the course introduces them."""
    lang, draft = page.view.lang, page.draft
    st.radio(t("language", lang), list(LANG_NAMES), format_func=LANG_NAMES.get, horizontal=True, **bind.view("lang"))
    spot = ErrorSpot(shown.error, shown.internal, lang)
    rows = {tensor_field(r.name.strip()) for r in draft.rows}
    if shown.internal or (shown.error is not None and shown.error.field not in rows | set(FIELDS)):
        spot.rest()

    st.selectbox(t("preset", lang), list(PRESETS), format_func=lambda k: preset_title(k, lang),
                 placeholder=t("preset_custom", lang), help=t("preset_help", lang), **bind.preset(lang))
    if page.preset in PRESETS and draft.experiment() != PRESETS[page.preset]:
        st.button(t("reset", lang), on_click=bind.reset, help=t("reset_help", lang),
                  icon=":material/undo:", type="tertiary", key="reset")

    st.subheader(t("tensors", lang), divider="gray")
    trained = set(shown.run.plan.trainable) if not shown.stale else set()
    for row in draft.rows:
        _tensor_row(row, lang, spot, trained)
    spot.at("tensors", "trainable")
    st.button(t("add_tensor", lang), on_click=bind.add_row, icon=":material/add:", key="add_row")

    st.subheader(t("loss", lang), divider="gray")
    st.text_area(t("loss", lang), height="content", help=t("loss_help", lang), label_visibility="collapsed",
                 **bind.draft("loss"))
    spot.at("loss")
    st.caption(t("apply_hint", lang))   # in place of Streamlit's English-only "Press Ctrl+Enter to apply"

    st.subheader(t("settings", lang), divider="gray")
    left, right = st.columns(2)
    with left:
        st.number_input(t("lr", lang), format="%g", step=0.001, **bind.draft("lr"))
    with right:
        st.number_input(t("epochs", lang), step=1, **bind.draft("epochs"))
    spot.at("lr", "epochs")
    st.selectbox(t("optimizer", lang), OPTIMIZERS, format_func=lambda k: optimizer_title(k, lang),
                 **bind.draft("optimizer", lang))
    spot.at("optimizer")
    st.toggle(t("zero_grad", lang), help=t("zero_grad_help", lang), **bind.draft("zero_grad"))
    st.number_input(t("seed", lang), step=1, help=t("seed_help", lang), **bind.draft("seed"))
    spot.at("seed")
    spot.rest()


def _tensor_row(row: Row, lang: str, spot: ErrorSpot, trained: set) -> None:
    name = row.name.strip()
    with st.container(key=f"row_{row.id}"):
        c_name, c_train, c_del = st.columns([4, 6, 1], vertical_alignment="center")
        with c_name:
            st.text_input(t("tensor_name", lang), label_visibility="collapsed", placeholder=t("tensor_name", lang),
                          **bind.row(row.id, "name"))
        with c_train:
            st.toggle(t("trainable", lang), help=t("trainable_help", lang), **bind.row(row.id, "trainable"))
        with c_del:
            st.button("", key=f"del_{row.id}", icon=":material/delete:", on_click=bind.remove_row, args=(row.id,),
                      help=t("remove", lang, name=name), type="tertiary")
        st.text_area(t("tensor_def", lang, name=name), height="content", help=t("tensor_def_help", lang),
                     label_visibility="collapsed", **bind.row(row.id, "text"))
        if name in trained and not row.trainable:
            st.caption(t("trainable_by_text", lang, name=name))
        spot.at(tensor_field(name))


def share_box(page: Page) -> None:
    """The link that reopens what the page shows now, and the classroom version of it: made in the browser
    from the address, which every rerun (of the page or of a part of it) brings up to date."""
    lang = page.view.lang
    with st.expander(t("share", lang), icon=":material/share:"), st.container(key="share"):
        copy = {"copy": t("copy", lang), "copied": t("copied", lang)}
        browser.links("share_links", [
            {"name": "share", "caption": t("share_note", lang), "set": {}, **copy},
            {"name": "classroom", "caption": t("classroom", lang), "set": {"hide": "inputs", "proj": "1"}, **copy}])
