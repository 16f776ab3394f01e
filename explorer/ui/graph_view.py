"""The backward graph and a step-through of backward in the order autograd really ran it.

The step-through is a fragment: moving the step redraws only the graph and its explanation,
from cached DOT, without rerunning the page.
"""
from __future__ import annotations

import logging
import shutil
from functools import partial

import streamlit as st

import explorer
from explorer import ExplorerError

from explorer import compute, render

from . import bind, browser, predict_view, runtime, session, wall
from .state import Page, scope
from .text import plain, preset_note, t

log = logging.getLogger(__name__)
GRADCHECK_ROWS = 8      # rows of the gradient-check table visible at once; it scrolls for more
ss = st.session_state


def show(page: Page, run: explorer.Run, epoch: int) -> None:
    _step_through(run, epoch)


@st.fragment
@runtime.guarded
@session.in_url
def _step_through(run: explorer.Run, epoch: int) -> None:
    """Step controls, the graph at that step, and what autograd did there, in words."""
    page = session.current()
    lang, projection, narrow = page.view.lang, page.view.proj, page.narrow
    exp = run.experiment
    try:
        graph = compute.graph_of(run, epoch)
    except ExplorerError as e:          # stopped: the server is too busy, or the worker ran out of memory
        st.warning(plain(e.message(lang)), icon=":material/timer:")
        return
    except Exception:      # noqa: BLE001 - the rest of the page stays useful
        log.exception("tracing failed for %r epoch %d", exp, epoch)
        st.error(t("graph_failed", lang))
        return
    last = graph.steps
    questions = predict_view.asked(page, run, epoch)
    waits = predict_view.waiting(page, run, epoch, questions)
    page.reach = waits[0] if waits else None
    step = _step_controls(page, exp, epoch, last, waits=bool(waits))
    conceal = step in waits
    focus = compute.focus(graph, projection)             # on the wall: the step's part big, the whole as a map
    dot = compute.dot_of(run, epoch, step, projection, lang, narrow, focus, conceal)
    numbers = "" if conceal else compute.worked(run, epoch, step, lang)
    matrices = "```" in numbers
    # Aligned matrices need the page's width: the words go below the graph. Projected, they are also
    # taller than the screen has room for, so they get their own box below and the words stay beside.
    apart = projection and matrices
    explanation = compute.explanation(run, epoch, step, lang, worked=not apart, conceal=conceal)
    if compute.wide(graph) or narrow or (matrices and not apart):      # a short wide graph, a phone
        picture, words = st.container(), st.container()
    else:                            # a tall one: its words beside it, so both fit a projected screen
        picture, words = st.columns(list(render.sizes(projection).beside), gap="medium")
    if focus:
        with picture:
            picture, whole = wall.columns(projection)
        with whole:
            wall.draw_map(run, epoch, step, projection, lang)
    with picture, st.container(key=_fresh_key(dot)):
        if ss.graph_n % 2:
            st.empty()          # moves the chart one slot: a new element id, so a fresh chart is mounted
        st.graphviz_chart(dot, width="content", alt=t("graph_alt", lang))
    with words:
        if step in questions:
            predict_view.ask(page, questions[step], (scope(exp, epoch), step))
        if not projection:       # projected, the explanation's first line says it
            st.caption(t("step_of", lang, k=step, n=last, epoch=epoch))
        with st.container(border=True, key="explain"):
            st.markdown(f"**{t('explain', lang)}**")
            st.markdown(explanation)
        note = preset_note(exp, lang)
        if note:
            st.info(note, icon=":material/content_cut:")
    if apart:
        with st.container(border=True, key="worked"):
            st.markdown(numbers)
    st.caption(t("legend", lang))
    _downloads(dot, lang)
    if waits:                   # its numbers are the answers
        st.caption(t("gradcheck_after", lang))
    else:
        _gradcheck(run, epoch, lang, projection)


def _gradcheck(run: explorer.Run, epoch: int, lang: str, projection: bool) -> None:
    """Per trainable tensor, autograd's gradient beside the float64 estimate and their largest
    difference; kinks (relu at 0, ...) say which subgradient PyTorch picked. Projection mode draws the
    table as Markdown: a dataframe is a canvas whose type no stylesheet can enlarge."""
    try:
        rep = compute.gradcheck(run, epoch)
    except ExplorerError as e:
        st.warning(plain(e.message(lang)), icon=":material/timer:")
        return
    except Exception:      # noqa: BLE001 - the graph above stays useful
        log.exception("gradient check failed for %r epoch %d", run.experiment, epoch)
        st.warning(t("gradcheck_failed", lang))
        return
    with st.container(border=True, key="gradcheck"):
        st.markdown(f"**{t('gradcheck', lang)}**")
        st.caption(t("gradcheck_intro", lang, eps=f"{rep.eps:g}", epoch=rep.epoch))
        lines, table = [], []
        for c in rep.checks:
            shape = "×".join(map(str, c.shape)) if c.shape else t("scalar", lang)
            err = f"{c.max_error:.2e}"
            key = ("gradcheck_unreached" if not c.reached else "gradcheck_none" if not c.rows else
                   "gradcheck_all" if len(c.rows) == c.numel else "gradcheck_spread")
            lines.append("- " + t(key, lang, name=c.name, shape=f"({shape})", n=f"{c.numel:,}", k=len(c.rows), err=err))
            table += [(f"{c.name}{r.index}", "None" if r.autograd is None else repr(r.autograd), repr(r.estimate),
                       f"{r.diff:.2e}") for r in c.rows]
        st.markdown("\n".join(lines))
        cols = [t(k, lang) for k in ("col_element", "col_autograd", "col_estimate", "col_diff")]
        if table and projection:
            st.markdown("\n".join(["| " + " | ".join(cols) + " |", "|---|---:|---:|---:|"] +
                                   ["| " + " | ".join(r) + " |" for r in table]))
        elif table:
            st.dataframe({c: list(v) for c, v in zip(cols, zip(*table))}, hide_index=True,
                         height=min(len(table), GRADCHECK_ROWS) * 35 + 38, key="gradcheck_table")
        if rep.detached:
            st.info(t("gradcheck_detached", lang), icon=":material/content_cut:")
        for note in rep.notes:
            st.info(note.message(lang), icon=":material/info:")
        for k in rep.kinks:
            st.warning(t("kink", lang, epoch=rep.epoch, count=k.count, what=f"`{k.of}`" if k.of else t("kink_value", lang),
                         op=k.op, why=k.zh if lang == "zh" else k.en), icon=":material/warning:")


def _fresh_key(dot: str) -> str:
    """A new container key whenever the DOT changes, so the browser draws the graph afresh.

    Updated in place, the browser's d3-graphviz tries to morph the old drawing into the new
    one and fails on these graphs ("<path> attribute d: Expected number, MNaN"), leaving the
    old picture up: the step-through would look frozen. Streamlit names the chart's element by
    its position, so the caller also shifts the chart by one slot every other time.
    """
    if ss.get("graph_dot") != dot:
        ss.graph_dot, ss.graph_n = dot, ss.get("graph_n", 0) + 1
    return f"graph_{ss.graph_n}"


def _step_controls(page: Page, exp: explorer.Experiment, epoch: int, last: int, waits: bool = False) -> int:
    """Back, the step slider, Next. Projected, the slider goes without its label: the caption above the
    explanation says which step this is, and the line goes to the graph. Predicting, a question that waits
    stops them (`page.reach`): there Next and → put the cursor in the answer box."""
    step_slider = bind.step(last)           # first: a move of the slider itself sets the step
    lang, step = page.view.lang, page.step(last)
    reach = last if page.reach is None else page.reach
    browser.step_presses(step, last, scope(exp, epoch), page.narrow, waits=waits, reach=reach)
    prev, slider, nxt = st.columns([2, 9, 2], vertical_alignment="bottom")
    with prev:
        st.button(t("prev", lang), key="step_prev", icon=":material/chevron_left:",
                  on_click=bind.move_step, args=(-1, last), disabled=step <= 0, width="stretch",
                  help=t("prev_help", lang))
    with nxt:
        st.button(t("next", lang), key="step_next", icon=":material/chevron_right:", icon_position="right",
                  on_click=bind.move_step, args=(1, last), disabled=step >= reach and not waits, width="stretch",
                  help=t("next_help", lang))
    with slider, st.container(key="step"):
        if last > 0:
            st.slider(t("step", lang), 0, last, help=t("step_help", lang),
                      label_visibility="collapsed" if page.view.proj else "visible", **step_slider)
    return step


def _downloads(dot: str, lang: str) -> None:
    """DOT always; SVG and PNG only where Graphviz's `dot` can draw them. Each file is made only when
    clicked (a callable): handed over as data, every rerun would store a copy for the download."""
    with st.container(horizontal=True):
        st.download_button(t("download_dot", lang), partial(str, dot), "autograd_graph.dot", "text/vnd.graphviz",
                           key="dl_dot", icon=":material/download:", on_click="ignore")
        if shutil.which("dot"):
            for fmt, mime in (("svg", "image/svg+xml"), ("png", "image/png")):
                st.download_button(t(f"download_{fmt}", lang), partial(compute.image, dot, fmt),
                                   f"autograd_graph.{fmt}", mime, key=f"dl_{fmt}", icon=":material/download:",
                                   on_click="ignore")
