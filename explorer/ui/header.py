"""Top of the page: title, projection switch, what is wrong or worth knowing, and the epoch shown."""
from __future__ import annotations

import streamlit as st

from . import bind, browser
from .running import Shown
from .state import Page
from .text import plain, t


def _style() -> str:
    """Page CSS: less space above the title (on a projector every line counts), and graph text at the
    sizes the DOT asks for. st.graphviz_chart sets every SVG text to 0.6rem Source Sans, which would
    undo projection mode's larger type and leave text floating in boxes laid out for bigger letters.
    Streamlit's own "Press Enter to apply" under fields is English only: the app says it in the
    help text of each field, in the page's language."""
    sizes = "".join(f"[data-testid='stGraphVizChart'] text[font-size='{n}.00']{{font-size:{n}px}}"
                    for n in range(6, 41))
    return ("<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}"
            "[data-testid='stGraphVizChart'] text{font-family:Helvetica,Arial,'Liberation Sans',sans-serif}"
            "[data-testid='InputInstructions'], .st-key-step_presses{display:none}"
            "[data-testid='stTable'] th p{white-space:nowrap !important}"       # 当前轮次 on one line, not one glyph a line
            # a phone: room below Streamlit's top bar, and the graph at its own size (a tall one
            # scrolls sideways) rather than shrunk to the screen's width
            "@media (max-width:640px){[data-testid='stMainBlockContainer']{padding-top:4rem}"
            "[data-testid='stMain'] h1{font-size:1.75rem}"
            "[data-testid='stGraphVizChart']{overflow-x:auto}"
            "[data-testid='stGraphVizChart'] svg{max-width:none}}"
            f"{sizes}</style>")


STYLE = _style()
# The Chinese page has no English to read: Streamlit's "Running..." in the corner is English only
# (the app's own spinner says 正在训练… where a wait is long enough to notice).
ZH = "<style>[data-testid='stStatusWidget']{visibility:hidden}</style>"
# Projection mode: everything reads from the back of a classroom (18 px and up: captions, code, the
# log, the explanation), and the step controls, the whole graph and its explanation fit one screen.
# The graph's height is capped to the screen left below where it starts (`--graph-top`), less what an
# explanation below it needs (`--graph-below`), both measured by browser.py; its width follows.
BIG = ("<style>[data-testid='stMain'] [data-testid='stMarkdownContainer'] :is(p, li, td, th)"
       "{font-size:1.35rem; line-height:1.5}"
       "[data-testid='stMainBlockContainer']{padding:1rem 1.5rem}"
       "[data-testid='stMain'] h1{font-size:2rem; padding:0}"
       "[data-testid='stMain'] [data-testid='stCaptionContainer'], [data-testid='stMain'] "
       "[data-testid='stCaptionContainer'] p{font-size:1.15rem}"
       "[data-testid='stMain'] :is([data-testid='stCode'], [data-testid='stMarkdownContainer'] pre) code"
       "{font-size:1.15rem}"
       "[data-testid='stMain'] [data-testid='stTable'] :is(th, td){font-size:1.15rem}"
       "[data-testid='stMain'] [data-testid='stGraphVizChart'] svg{width:auto; height:auto; max-width:100%;"
       " max-height:calc(100dvh - var(--graph-top, 0px) - var(--graph-below, 0px) - 1rem)}"
       # the explanation: 18.4 px below a wide graph; beside a tall one 18.4 px on a 1920-wide screen and as
       # large on the wall on a smaller one (14 px at 1280: 21 px in 1920 terms), so on a 720-high screen the
       # longest still fits beside the graph
       ".st-key-explain [data-testid='stMarkdownContainer'] :is(p, li){font-size:1.15rem; line-height:1.4}"
       "[data-testid='stColumn'] .st-key-explain [data-testid='stMarkdownContainer'] :is(p, li)"
       "{font-size:clamp(14px, 0.96vw, 1.15rem)}"
       # inline code as big as the words around it (Streamlit draws it at 0.75em: 13.8 px in 18.4 px text)
       "[data-testid='stMain'] [data-testid='stMarkdownContainer'] :is(p, li, td, th) code{font-size:1em}"
       # a slider's value above its thumb, clear of it, where the larger type would sit on it
       "[data-testid='stMain'] [data-testid='stSliderThumbValue']{transform:translateY(-0.6rem)}"
       # predicting in class: the question, the answer box and the answer read across the room
       ".st-key-question [data-testid='stMarkdownContainer'] :is(p, li){font-size:1.6rem; line-height:1.4}"
       ".st-key-question input{font-size:1.6rem; height:auto}"
       ".st-key-question button p{font-size:1.35rem}</style>")


def title(page: Page, shown: Shown) -> None:
    """Title, what is computed (on a classroom link, whose inputs are hidden) and the projection
    toggle, on one line."""
    lang = page.view.lang
    st.html(STYLE)
    if lang == "zh":
        st.html(ZH)
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        st.title(t("title", lang), anchor=False)
        if page.view.hide:
            summary(shown, lang)
        st.toggle(t("predict", lang), help=t("predict_help", lang), **bind.predict())
        st.toggle(t("projection", lang), help=t("projection_help", lang), **bind.view("proj"))
    if page.view.proj:
        st.html(BIG)
    else:                  # on the wall the teacher says it; the line is better spent on the graph
        st.caption(t("tagline", lang))


def status(page: Page, shown: Shown) -> None:
    """Why the page shows an older experiment (if it does), then the engine's notes on this run."""
    lang = page.view.lang
    if shown.stale:
        if shown.internal:
            st.warning(t("internal", lang), icon=":material/history:")
        else:
            text = t("stale", lang, field=field_name(shown.error.field, lang))
            if page.view.hide:
                text += "\n\n" + plain(shown.error.message(lang))
            st.warning(text, icon=":material/history:")
    for note in shown.run.notes:
        st.info(plain(note.message(lang)), icon=":material/lightbulb:")


def field_name(field: str | None, lang: str) -> str:
    """The input an error names, as its label reads on the page."""
    if field and field.startswith("tensor "):
        return f"**{t('tensors', lang)} · {plain(field[len('tensor '):])}**"
    key = {"tensors": "tensors", "trainable": "tensors", "loss": "loss", "lr": "lr", "epochs": "epochs",
           "optimizer": "optimizer", "seed": "seed", "epoch": "epoch", "experiment": "inputs"}.get(field or "")
    return f"**{t(key, lang)}**" if key else ""


def summary(shown: Shown, lang: str) -> None:
    """With the inputs hidden (classroom link) the audience still sees what is being computed, and the
    teacher a way back to the inputs (this page's address without `hide`)."""
    exp = shown.experiment
    lines = [_assignment(name, text) for name, text in exp.tensors]
    lines += [exp.loss, f"# lr = {exp.lr}, epochs = {exp.epochs}, optimizer = {exp.optimizer}"]
    with st.expander(t("summary", lang), icon=":material/code:"):
        st.code("\n".join(lines), language="python")
        browser.links("show_inputs", [{"name": "show_inputs", "open": t("show_inputs", lang), "set": {"hide": None}}])


def _assignment(name: str, text: str) -> str:
    """A tensor row as a line of code; a row may already read "w = torch.ones(2)"."""
    return text if "=" in text.split("(")[0] else f"{name} = {text}"


def epoch_scrubber(page: Page, run) -> int:
    """Slider over the epochs done; the graph, the curves' marker and the log follow it."""
    lang, n = page.view.lang, len(run.history)
    if n < 2:
        if not page.view.proj:              # projected, the line goes to the graph
            st.caption(t("one_epoch", lang))
        return 1
    return st.slider(t("epoch", lang), 1, n, help=t("epoch_help", lang), **bind.epoch(n))
