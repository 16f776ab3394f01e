"""What only the browser can do: count step presses between reruns, say where the graph starts, and
make links from the address as it is now.

Streamlit merges the presses of one button that arrive while a rerun is pending into a single
trigger (`_coalesce_widget_states`), so five quick presses of Next moved two or three steps. Here
the page counts every press itself (← / → anywhere outside a text field or a slider, and clicks on
Back / Next) and sends the step they lead to, numbered: a step is a value, and of several pending
values Streamlit keeps the newest, so no press is lost. Sending a difference instead would not do: the
same message carries the slider's value from before the presses, which Streamlit applies first.
Until the server has seen the last number sent, the page counts on from its own step. The count
belongs to one scope, an (experiment, epoch): another one starts it again, and the server ignores
a press counted for another scope. The listeners are installed once per page and always act for
the component's latest mount: listeners left behind by earlier mounts, each with its own old step and
count, were what froze the steps after switching the example and made later presses jump.

The same script tells CSS how far down the graph starts (`--graph-top`) and how much an
explanation below it needs (`--graph-below`), so projection mode can fit the graph into what is
left of the screen, and tells the server whether the screen is a phone's (`narrow`), where the graph
is drawn top to bottom.

The share box's links are made here too, from the address bar, which the page rewrites after every
rerun (the step-through and the tabs rerun only their part of the page, not the sidebar).
"""
from __future__ import annotations

from functools import partial

import streamlit as st

from . import bind

STEPS_JS = """
// Kept on the window: Streamlit may load this module afresh when it redraws the component.
const S = (window.explorerSteps ??= { scope: null, target: null, seq: 0 });
const KEYS = {ArrowLeft: -1, ArrowRight: 1};
const BUTTONS = [[".st-key-step_prev button", -1], [".st-key-step_next button", 1]];
const NARROW = 640;     // px: a phone, where a graph reads best top to bottom

function theirs(el) {
  // a text field, a slider or a menu keeps its arrow keys; so does a tab reached with the Tab key,
  // but not one just clicked (the teacher clicks "Graph", then presses →)
  if (!el || !el.closest) return false;
  if (el.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], " +
                 "[role='slider'], [role='textbox'], [role='combobox'], [role='listbox'], [role='menu']")) return true;
  return !!el.closest("[role='tab']") && S.keyboard === true;
}

function send(d) {
  const { data, setStateValue } = S.now;
  if (d > 0 && data.waits && S.target >= data.last) {     // a question waits here: answer it, not skip it
    const box = document.querySelector(".st-key-guess input");
    if (box) box.focus();
    return;
  }
  S.target = Math.min(data.last, Math.max(0, S.target + d));
  S.seq += 1;
  setStateValue("moves", { scope: S.scope, target: S.target, seq: S.seq });
}

function measure() {
  const main = document.querySelector("[data-testid='stMain']");
  const g = [...document.querySelectorAll("[data-testid='stGraphVizChart']")]
    .find((c) => !c.closest("[class*='st-key-wall_map']"));      // the graph itself, not its map
  if (!g || !main) return;
  const top = g.getBoundingClientRect().top - main.getBoundingClientRect().top + main.scrollTop;
  // an explanation below the graph needs its own room on the screen; one beside it does not. A question
  // waiting below it takes that room instead: the room reads the question, the explanation can wait.
  const picture = g.querySelector("svg");
  const words = document.querySelector(".st-key-question") || document.querySelector(".st-key-explain");
  let below = 0;
  if (picture && words) {
    const p = picture.getBoundingClientRect(), w = words.getBoundingClientRect();
    if (w.top >= p.bottom - 1) below = w.bottom - p.bottom;
  }
  const css = document.documentElement.style;
  css.setProperty("--graph-top", Math.round(top) + "px");
  css.setProperty("--graph-below", Math.round(below) + "px");
}

function screen() {
  const narrow = window.innerWidth < NARROW;
  if (S.now && narrow !== S.now.data.narrow) S.now.setStateValue("narrow", narrow);
}

function install() {
  document.addEventListener("pointerdown", () => { S.keyboard = false; }, true);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Tab") { S.keyboard = true; return; }
    const d = KEYS[e.key];
    if (!S.now || !d || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || e.defaultPrevented) return;
    if (theirs(e.target) || theirs(document.activeElement)) return;
    e.preventDefault();
    e.stopPropagation();        // a clicked tab would also take it and switch tabs
    send(d);
  }, true);
  document.addEventListener("click", (e) => {
    if (!S.now) return;
    for (const [sel, d] of BUTTONS) {
      const b = e.target.closest && e.target.closest(sel);
      if (b && !b.disabled) { e.preventDefault(); e.stopImmediatePropagation(); send(d); return; }
    }
  }, true);
  window.addEventListener("resize", screen);
  S.watch = new ResizeObserver(measure);
}

export default function (component) {
  const { data } = component;
  S.now = component;
  if (data.scope !== S.scope) {                 // another experiment or epoch: count afresh from its step
    S.scope = data.scope; S.seq = 0; S.target = data.step;
  } else if (data.seq >= S.seq || S.target === null) {     // the server has seen every press: its step is the truth
    S.seq = data.seq; S.target = data.step;
  }
  if (!S.installed) { S.installed = true; install(); }
  document.documentElement.dataset.steps = data.scope;      // counting (tests wait for it before pressing)
  const block = document.querySelector("[data-testid='stMainBlockContainer']");
  S.watch.disconnect();
  if (block) S.watch.observe(block);
  measure();
  screen();
  return () => {
    if (S.now === component) { S.now = null; delete document.documentElement.dataset.steps; }
  };
}
"""

_steps = st.components.v2.component("explorer_steps", js=STEPS_JS)


def step_presses(step: int, last: int, scope: str, narrow: bool, waits: bool = False, reach: int | None = None) -> None:
    """Mount the counter (invisible): it counts from the step shown, within `scope`, and each press it
    sends sets the step before the fragment reruns (`bind.take_presses`). `last` is the graph's last step,
    `reach` the furthest the presses may go now (predicting: the first question that waits); `waits`: a
    question waits there, and → puts the cursor in its answer box instead."""
    with st.container(key="step_presses"):
        _steps(key="step_moves", data={"step": step, "last": last if reach is None else reach, "scope": scope, "seq": bind.presses_seen(scope),
                                       "narrow": narrow, "waits": waits},
               on_moves_change=partial(bind.take_presses, scope, last), on_narrow_change=bind.take_screen,
               height=0)


LINKS_CSS = """
.links { font-family: var(--st-font, "Source Sans", sans-serif); color: var(--st-text-color, #111827); }
.links p { margin: 0.25rem 0; font-size: 0.875rem; opacity: 0.75; }
.links .box { display: flex; gap: 0.25rem; margin-bottom: 0.75rem; }
.links input { flex: 1; min-width: 0; font-family: var(--st-code-font, monospace); font-size: 0.8rem;
  padding: 0.4rem 0.5rem; border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;
  background: var(--st-secondary-background-color, #f1f5f9); color: inherit; }
.links button, .links a.button { font: inherit; font-size: 0.875rem; padding: 0.4rem 0.75rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2); background: var(--st-background-color, #fff); color: inherit;
  cursor: pointer; text-decoration: none; display: inline-block; }
.links button:hover, .links a.button:hover { border-color: var(--st-primary-color, #1d4ed8);
  color: var(--st-primary-color, #1d4ed8); }
"""

LINKS_JS = """
// Each item: {caption, set: {param: value or null to drop it}, copy (a label: a box with a copy button)
// or open (a label: a link styled as a button)}. Rebuilt from the address whenever it changes.
function address(set) {
  const url = new URL(window.location.href);
  url.hash = "";
  for (const [k, v] of Object.entries(set || {})) {
    if (v === null) url.searchParams.delete(k); else url.searchParams.set(k, v);
  }
  return url.toString();
}

export default function ({ data, parentElement }) {
  const root = document.createElement("div");
  root.className = "links";
  parentElement.replaceChildren(root);
  const fills = [];
  for (const item of data.items) {
    if (item.caption) { const p = document.createElement("p"); p.textContent = item.caption; root.append(p); }
    if (item.copy) {
      const box = document.createElement("div"), input = document.createElement("input"),
            button = document.createElement("button");
      box.className = "box"; input.readOnly = true; input.dataset.link = item.name;
      input.setAttribute("aria-label", item.caption || item.copy);
      button.textContent = item.copy;
      input.addEventListener("focus", () => input.select());
      button.addEventListener("click", async () => {
        input.select();
        try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
        button.textContent = item.copied;
        setTimeout(() => { button.textContent = item.copy; }, 1500);
      });
      box.append(input, button); root.append(box);
      fills.push(() => { const v = address(item.set); if (input.value !== v) input.value = v; });
    } else {
      const a = document.createElement("a");
      a.className = "button"; a.textContent = item.open; a.target = "_self"; a.dataset.link = item.name;
      root.append(a);
      fills.push(() => { const v = address(item.set); if (a.href !== v) a.href = v; });
    }
  }
  const fill = () => fills.forEach((f) => f());
  fill();
  clearInterval(parentElement.__links);
  parentElement.__links = setInterval(fill, 400);      // the page rewrites the address after each rerun
  window.addEventListener("popstate", fill);
  return () => { clearInterval(parentElement.__links); window.removeEventListener("popstate", fill); };
}
"""

_links = st.components.v2.component("explorer_links", css=LINKS_CSS, js=LINKS_JS)


def links(key: str, items: list[dict]) -> None:
    """Links built in the browser from its address as it is now (see LINKS_JS for an item's fields), so
    they say what the page shows even after a part of it reran on its own."""
    _links(key=key, data={"items": items})
