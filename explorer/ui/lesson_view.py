"""A lesson's panel: which part this is, its text, and Back / Next between parts (`lesson=course&part=4`).

The part's experiment fills the fields and predict mode is on: the questions come before the telling.
"""
from __future__ import annotations

import streamlit as st

from explorer import lessons

from . import bind
from .state import Page
from .text import pick, t


def show(page: Page, shown_experiment) -> None:
    """The panel above the tabs, when the page is in a lesson."""
    part = lessons.part(page.view.lesson, page.view.part) if page.view.lesson else None
    if part is None:
        return
    lang, parts = page.view.lang, lessons.LESSONS[page.view.lesson]
    k = parts.index(part) + 1
    with st.container(border=True, key="lesson"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f"**{t('lesson_part', lang, k=k, n=len(parts))} · {pick(part.title, lang)}**")
            st.space("stretch")
            st.button(t("lesson_prev", lang), key="lesson_prev", icon=":material/chevron_left:", on_click=bind.to_part,
                      args=(k - 1,), disabled=k <= 1)
            st.button(t("lesson_next", lang), key="lesson_next", icon=":material/chevron_right:",
                      icon_position="right", on_click=bind.to_part, args=(k + 1,), disabled=k >= len(parts),
                      type="primary")
            st.button(t("lesson_close", lang), key="lesson_close", icon=":material/close:", on_click=bind.leave_lesson,
                      type="tertiary")
        st.markdown(pick(part.text, lang))
        if shown_experiment != part.experiment:
            st.caption(t("lesson_edited", lang))
