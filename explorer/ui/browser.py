"""What only the browser can do: count step presses between reruns, and say where the graph starts.

Streamlit merges the presses of one button that arrive while a rerun is pending into a single
trigger (`_coalesce_widget_states`), so five quick presses of Next moved two or three steps. Here
the page counts every press itself (← / → anywhere outside a text field or a slider, and clicks on
Back / Next)
and sends the step they lead to, numbered: a step is a value, and of several pending values
Streamlit keeps the newest, so no press is lost. Sending a difference instead would not do: the
same message carries the slider's value from before the presses, which Streamlit applies first.
Until the server has seen the last number sent, the page counts on from its own step.

The same script tells CSS how far down the graph starts (`--graph-top`) and how much an
explanation below it needs (`--graph-below`), so projection mode can fit the graph into what is
left of the screen, and tells the server whether the screen is a
phone's (`narrow`), where the graph is drawn top to bottom.
"""
from __future__ import annotations

import streamlit as st

from . import state

JS = """
// Kept on the window: Streamlit may load this module afresh when it redraws the component.
const count = (window.explorerSteps ??= { target: null, seq: 0 });
const KEYS = {ArrowLeft: -1, ArrowRight: 1};
const BUTTONS = [[".st-key-step_prev button", -1], [".st-key-step_next button", 1]];

// How the focus last moved: by the Tab key or by the mouse (kept for the page's life, once).
if (!count.watching) {
  count.watching = true;
  document.addEventListener("pointerdown", () => { count.keyboard = false; }, true);
  document.addEventListener("keydown", (e) => { if (e.key === "Tab") count.keyboard = true; }, true);
}

function theirs(el) {
  // a text field, a slider or a menu keeps its arrow keys; so does a tab reached with the Tab key,
  // but not one just clicked (the teacher clicks "Graph", then presses →)
  if (!el || !el.closest) return false;
  if (el.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], " +
                 "[role='slider'], [role='textbox'], [role='combobox'], [role='listbox'], [role='menu']")) return true;
  return !!el.closest("[role='tab']") && count.keyboard === true;
}

const NARROW = 640;     // px: a phone, where a graph reads best top to bottom

export default function ({ data, setStateValue }) {
  // the server has seen every press: its step is the truth (a slider move, an epoch change)
  if (data.seq === count.seq || count.target === null) count.target = data.step;
  const screen = () => {
    const narrow = window.innerWidth < NARROW;
    if (narrow !== data.narrow) setStateValue("narrow", narrow);
  };
  const send = (d) => {
    count.target = Math.min(data.last, Math.max(0, count.target + d));
    count.seq += 1;
    setStateValue("moves", { target: count.target, seq: count.seq });
  };
  const onKey = (e) => {
    const d = KEYS[e.key];
    if (!d || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || e.defaultPrevented) return;
    if (theirs(e.target) || theirs(document.activeElement)) return;
    e.preventDefault();
    e.stopPropagation();        // a clicked tab would also take it and switch tabs
    send(d);
  };
  const onClick = (e) => {
    for (const [sel, d] of BUTTONS) {
      const b = e.target.closest && e.target.closest(sel);
      if (b && !b.disabled) { e.preventDefault(); e.stopImmediatePropagation(); send(d); return; }
    }
  };
  const main = document.querySelector("[data-testid='stMain']");
  const measure = () => {
    const g = document.querySelector("[data-testid='stGraphVizChart']");
    if (!g || !main) return;
    const top = g.getBoundingClientRect().top - main.getBoundingClientRect().top + main.scrollTop;
    // an explanation below the graph needs its own room on the screen; one beside it does not
    const picture = g.querySelector("svg"), words = document.querySelector(".st-key-explain");
    let below = 0;
    if (picture && words) {
      const p = picture.getBoundingClientRect(), w = words.getBoundingClientRect();
      if (w.top >= p.bottom - 1) below = w.bottom - p.bottom;
    }
    const css = document.documentElement.style;
    css.setProperty("--graph-top", Math.round(top) + "px");
    css.setProperty("--graph-below", Math.round(below) + "px");
  };
  const watch = new ResizeObserver(measure);
  const block = document.querySelector("[data-testid='stMainBlockContainer']");
  if (block) watch.observe(block);
  measure();
  screen();
  window.addEventListener("resize", screen);
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("click", onClick, true);
  return () => {
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("click", onClick, true);
    window.removeEventListener("resize", screen);
    watch.disconnect();
  };
}
"""

_steps = st.components.v2.component("explorer_steps", js=JS)


def step_presses(step: int, last: int) -> None:
    """Mount the counter (invisible): it starts from the step shown, and each press it sends sets the
    step before the fragment reruns (`state.take_moves`)."""
    with st.container(key="step_presses"):
        _steps(key="step_moves", data={"step": step, "last": last, "seq": state.moves_seen(), "narrow": state.narrow()},
               on_moves_change=state.take_moves, on_narrow_change=state.take_screen, height=0)
