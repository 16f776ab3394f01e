"""Predict first: the question a backward step asks before it tells, the student's answer, the score.

Until a question is answered its value is nowhere on the page: the graph and the explanation say "?",
the gradient check and the other tabs wait for the epoch's questions, and the step-through stops at the
first question that waits (→ there puts the cursor in the answer box). Answers live in the page's state
for the session; the questions come from the run itself (`explorer.predict`).
"""
from __future__ import annotations

import logging

import streamlit as st

import explorer
from explorer import ExplorerError, compute, lessons, predict
from explorer.numbers import float32

from .session import current
from .state import Answer, Page, scope
from .text import plain, t

log = logging.getLogger(__name__)
ss = st.session_state


def asked(page: Page, run: explorer.Run, epoch: int) -> dict:
    """{step: Question} this page asks at `epoch`: a lesson part's own questions while the part's
    experiment is shown at its epoch, else every question of the epoch; none when not predicting."""
    if not page.view.predict:
        return {}
    questions = compute.questions(run, epoch)
    part = lessons.part(page.view.lesson, page.view.part) if page.view.lesson else None
    if part is not None and part.experiment == run.experiment and part.epoch == epoch:
        questions = {k: q for k, q in questions.items() if part.asks(q)}
    return questions


def waiting(page: Page, run: explorer.Run, epoch: int, questions: dict | None = None) -> list[int]:
    """The steps of `epoch` whose questions (`asked`, unless given) wait for an answer, in order."""
    questions = asked(page, run, epoch) if questions is None else questions
    where = scope(run.experiment, epoch)
    return [k for k in questions if page.answer((where, k)) is None]


def ask(page: Page, question, where: tuple) -> None:
    """The question of this step: a box for the answer with Check and Reveal (Enter checks), or, once
    answered, whether it was right and where it went wrong; then the session's score."""
    lang = page.view.lang
    answer = page.answer(where)
    with st.container(border=True, key="question"):
        st.markdown(f"**{t('question', lang)}** · {question.prompt(lang)}")
        if answer is None:
            with st.form("guess_form", border=False, enter_to_submit=True):
                st.text_input(t("guess", lang), key="guess", placeholder=t("guess_placeholder", lang),
                              help=t("guess_help", lang), max_chars=2000)
                with st.container(horizontal=True):
                    st.form_submit_button(t("check", lang), key="check", type="primary", on_click=_check,
                                          args=(where, question), icon=":material/check:")
                    st.form_submit_button(t("reveal", lang), key="reveal", on_click=_reveal,
                                          args=(where, question), icon=":material/visibility:")
            problem = ss.get("guess_problem")
            if problem:
                st.error(problem[1] if lang == "zh" else problem[0], icon=":material/edit:")
        elif answer.revealed:
            st.info(answer.message[1] if lang == "zh" else answer.message[0], icon=":material/visibility:")
        elif answer.right:
            st.success(answer.message[1] if lang == "zh" else answer.message[0], icon=":material/check_circle:")
        else:
            st.error(answer.message[1] if lang == "zh" else answer.message[0], icon=":material/cancel:")
        right, total = page.score()
        if total:
            with st.container(key="score"):
                st.caption(predict.score(right, total, lang))


def _check(where: tuple, question) -> None:
    """Judge the answer typed; a box that does not read as a number or list says why and keeps the text."""
    text = (ss.get("guess") or "").strip()
    if not text:
        ss["guess_problem"] = (t("type_first", "en"), t("type_first", "zh"))
        return
    try:
        verdict = predict.judge(question, text)
    except ExplorerError as e:
        ss["guess_problem"] = (plain(e.message("en")), plain(e.message("zh")))
        return
    except Exception:      # noqa: BLE001 - a callback that raises would take the whole page down
        log.exception("judging %r against step %d failed", text, question.step)
        ss["guess_problem"] = (t("judge_failed", "en"), t("judge_failed", "zh"))
        return
    ss["guess_problem"] = None
    ss["guess"] = ""
    current().record(where, Answer(verdict.right, verdict.message))


def _reveal(where: tuple, question) -> None:
    answer = float32(question.value.tolist())
    ss["guess_problem"] = None
    ss["guess"] = ""
    current().record(where, Answer(False, (t("revealed", "en", answer=answer), t("revealed", "zh", answer=answer)),
                                   revealed=True))
