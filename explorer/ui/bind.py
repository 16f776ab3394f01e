"""Widgets drawn from the page's state, writing into it.

Each function here gives a widget its key, seeded with the state's value, and a callback that copies
the widget's new value into the state before the script runs: `st.number_input(label, **bind.draft("lr"))`.
A key is seeded only when it differs from the state, so a box being typed in keeps its text and a slider
being pressed is not pulled back by the end of an earlier rerun. Options are
keys, never labels (`format_func` shows the label); a widget whose labels are in the page's language is
one widget per language (`optimizer_zh`), seeded from the state, so switching the language carries no
label over to be read back as a value.
"""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explorer import OPTIMIZERS, PRESETS

from .session import current

ss = st.session_state
ROW_KEYS = {"name": "tname_{}", "text": "tdef_{}", "trainable": "ttrain_{}"}


def _seed(key: str, value, identity=None) -> None:
    """Put `value` in widget `key` where it differs. `identity`: what besides the key makes the widget
    (a slider's range): a new one is a new widget, which would start at its minimum while the key still
    reads the old widget's value, so it is seeded whatever the key reads."""
    fresh = identity is not None and ss.get(f"_identity_{key}") != identity
    if fresh or key not in ss or ss[key] != value:
        ss[key] = value
    if fresh:
        ss[f"_identity_{key}"] = identity


def _key(name: str, lang: str | None) -> str:
    return name if lang is None else f"{name}_{lang}"


# ---------------------------------------------------------------- the experiment's fields

def draft(name: str, lang: str | None = None) -> dict:
    """A field of the experiment: loss, lr, epochs, optimizer (per language), zero_grad, seed."""
    key = _key(name, lang)
    _seed(key, getattr(current().draft, name))
    return {"key": key, "on_change": _take_draft, "args": (key, name)}


def _take_draft(key: str, name: str) -> None:
    page = current()
    page.draft = replace(page.draft, **{name: ss[key]})


def row(rid: int, attr: str) -> dict:
    """A tensor row's name, text or trainable switch."""
    key = ROW_KEYS[attr].format(rid)
    _seed(key, getattr(current().draft.row(rid), attr))
    return {"key": key, "on_change": _take_row, "args": (key, rid, attr)}


def _take_row(key: str, rid: int, attr: str) -> None:
    page = current()
    page.draft = page.draft.edit_row(rid, **{attr: ss[key]})


def preset(lang: str) -> dict:
    """The example box: choosing an example fills every field."""
    key = _key("preset", lang)
    _seed(key, current().preset)
    return {"key": key, "on_change": _take_preset, "args": (key,)}


def _take_preset(key: str) -> None:
    if ss[key] in PRESETS:
        current().fill(ss[key])


def reset() -> None:
    """Fill the fields from the chosen example again."""
    page = current()
    if page.preset in PRESETS:
        page.fill(page.preset)


def add_row() -> None:
    current().add_row()


def remove_row(rid: int) -> None:
    page = current()
    page.draft = page.draft.without_row(rid)


# ---------------------------------------------------------------- the view

def view(name: str, lang: str | None = None) -> dict:
    """A view setting: lang, proj, log, race_lr, dirs (per language)."""
    key = _key(name, lang)
    _seed(key, getattr(current().view, name))
    return {"key": key, "on_change": _take_view, "args": (key, name)}


def _take_view(key: str, name: str) -> None:
    current().set(**{name: ss[key]})


def predict() -> dict:
    """The "Predict first" switch: switched on, the step-through starts again at step 0."""
    _seed("predict", current().view.predict)
    return {"key": "predict", "on_change": _take_predict}


def _take_predict() -> None:
    on = bool(ss["predict"])
    current().set(predict=on, **({"step": 0} if on else {}))


def to_part(k: int) -> None:
    """A lesson's part k: its experiment, at its epoch, from step 0."""
    current().to_part(k)


def leave_lesson() -> None:
    current().set(lesson=None, part=1)


def epoch(epochs: int) -> dict:
    """The epoch slider, 1..epochs."""
    _seed("epoch", current().epoch(epochs), identity=epochs)
    return {"key": "epoch", "on_change": _take_view, "args": ("epoch", "epoch")}


def racers() -> dict:
    """The optimizers in the race, kept in OPTIMIZERS order whatever order they were picked in."""
    _seed("race", list(current().view.race))
    return {"key": "race", "on_change": _take_racers}


def _take_racers() -> None:
    current().set(race=tuple(o for o in OPTIMIZERS if o in ss["race"]))


def tabs(lang: str, names: list[str], labels: list[str]) -> dict:
    """The tabs (their labels are in the page's language): the open one, by name."""
    key = _key("tab", lang)
    page = current()
    _seed(key, labels[names.index(page.view.tab)] if page.view.tab in names else labels[0])
    return {"key": key, "on_change": _take_tab, "args": (key, names, labels)}


def _take_tab(key: str, names: list[str], labels: list[str]) -> None:
    if ss[key] in labels:
        current().set(tab=names[labels.index(ss[key])])


# ---------------------------------------------------------------- the backward step

def step(last: int) -> dict:
    """The step slider, 0..last, under a key that changes whenever the step changes other than by the
    slider itself (← / →, Back / Next, a new experiment or epoch): the browser then mounts a new slider
    showing exactly that step. Quick presses set the step while earlier reruns are on their way, so a
    slider kept under one key could report a value from before them, and be taken for a move; a report
    for a key no longer drawn is ignored."""
    want = current().step(last)
    n = ss.get("_step_n", 0)
    if ss.get("_step_shown") != (n, last, want):
        n += 1
        ss["_step_n"], ss["_step_shown"] = n, (n, last, want)
    key = f"step_{n}"
    ss[key] = want               # every rerun: a rerun cut short by a newer one may not have drawn it
    return {"key": key, "on_change": _take_step, "args": (key, last)}


def _take_step(key: str, last: int) -> None:
    page = current()
    page.go_to_step(ss[key], last)
    ss["_step_shown"] = (ss.get("_step_n", 0), last, page.step(last))


def slider_key(key: str) -> bool:
    """Whether a widget key is the step slider's (tests and the class benchmark look it up)."""
    return key == "step" or key.startswith("step_") and key[5:].isdigit()


def move_step(delta: int, last: int) -> None:
    """Back (-1) and Next (+1), as clicks Streamlit sends (the browser's page script counts them itself)."""
    page = current()
    page.go_to_step(page.step(last) + delta, last)


def take_presses(scope: str, last: int) -> None:
    """The step the browser's ← / → presses and Back / Next clicks lead to (`browser.step_presses`),
    numbered within one scope (one experiment and epoch): a press counted for another one is stale."""
    moves = (ss.get("step_moves") or {}).get("moves") or {}
    target, seq = moves.get("target"), moves.get("seq")
    page = current()
    seen = page.presses[1] if page.presses[0] == scope else 0
    if moves.get("scope") == scope and isinstance(target, int) and isinstance(seq, int) and seq > seen:
        page.presses = (scope, seq)
        page.go_to_step(target, last)


def presses_seen(scope: str) -> int:
    page = current()
    return page.presses[1] if page.presses[0] == scope else 0


def take_screen() -> None:
    """Whether the browser's screen is a phone's (`browser.step_presses` reports it)."""
    current().narrow = bool((ss.get("step_moves") or {}).get("narrow"))
