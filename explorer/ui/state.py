"""Session state: the fields as typed, first load from the URL, presets, and the URL written back.

Widgets own their values through keys; this module seeds those keys (from the URL on first
load, from a preset when one is chosen) and reads them back as an Experiment, so the page is
always described by one hashable value plus a few view settings.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import streamlit as st

import explorer
from explorer import PRESETS, ExplorerError, share
from explorer.experiment import Experiment

from . import compute

DEFAULT_PRESET = "single_step"
log = logging.getLogger(__name__)
ss = st.session_state


@dataclass
class Shown:
    """What the page shows: the typed experiment if it runs, else the last one that did."""
    experiment: Experiment
    run: explorer.Run
    error: ExplorerError | None = None     # why the typed experiment was not shown
    internal: bool = False                 # a bug, not the student's input

    @property
    def stale(self) -> bool:
        return self.error is not None or self.internal


def init() -> None:
    """On a session's first run, take everything from the URL (or the default preset)."""
    if "rows" in ss:
        return
    exp, lang, preset, view = share.from_query(st.query_params.to_dict())
    if exp is None:
        preset = DEFAULT_PRESET
        exp = PRESETS[preset]
    ss.lang = lang
    ss.preset = preset
    fill(exp)
    ss.hide = view.get("hide") == "inputs"
    ss.proj = bool(view.get("proj"))
    ss.log_y = bool(view.get("log"))
    if "epoch" in view:
        ss.epoch = view["epoch"]
    if "tab" in view:
        ss.tab = view["tab"]
    if "step" in view:
        ss.step = view["step"]
        ss.step_for = typed()
    ss.race = list(view.get("race", explorer.OPTIMIZERS))
    ss.race_lr = view.get("race_lr")
    ss.dirs = view.get("dirs", "moved")


def lang() -> str:
    return "zh" if ss.get("lang") == "zh" else "en"


def inputs_hidden() -> bool:
    """The classroom link (`hide=inputs`) shows results only."""
    if "hide" in ss:
        return ss.hide
    return st.query_params.get("hide") == "inputs"


# ---------------------------------------------------------------- fields <-> Experiment

def row_keys(rid: int) -> tuple[str, str, str]:
    return f"tname_{rid}", f"tdef_{rid}", f"ttrain_{rid}"


def fill(exp: Experiment) -> None:
    """Put `exp` into the widgets' keys; rows get fresh ids so no old widget state lingers."""
    for rid in ss.get("rows", []):
        for k in row_keys(rid):
            ss.pop(k, None)
    ss.rows = []
    for name, text in exp.tensors:
        _new_row(name, text, name in exp.trainable)
    ss.loss = exp.loss
    ss.lr = float(exp.lr) if isinstance(exp.lr, (int, float)) else 0.01
    ss.epochs = int(exp.epochs) if isinstance(exp.epochs, int) else 1
    ss.optimizer = exp.optimizer
    ss.zero_grad = bool(exp.zero_grad)
    ss.seed = int(exp.seed) if isinstance(exp.seed, int) else 0


def _new_row(name: str, text: str, trainable: bool) -> None:
    rid = ss.get("next_row", 0)
    ss.next_row = rid + 1
    k_name, k_def, k_train = row_keys(rid)
    ss[k_name], ss[k_def], ss[k_train] = name, text, trainable
    ss.rows = [*ss.rows, rid]


def typed() -> Experiment:
    """The experiment exactly as the fields read now, valid or not."""
    tensors, trainable = [], []
    for rid in ss.rows:
        k_name, k_def, k_train = row_keys(rid)
        name = (ss.get(k_name) or "").strip()
        tensors.append((name, ss.get(k_def) or ""))
        if ss.get(k_train):
            trainable.append(name)
    return Experiment(tensors=tuple(tensors), trainable=tuple(trainable), loss=ss.get("loss") or "",
                      lr=ss.get("lr"), epochs=ss.get("epochs"), optimizer=ss.get("optimizer"),
                      zero_grad=bool(ss.get("zero_grad")), seed=ss.get("seed"))


# ---------------------------------------------------------------- callbacks

def on_preset() -> None:
    if ss.get("preset") in PRESETS:
        fill(PRESETS[ss.preset])


def add_row() -> None:
    taken = {ss.get(row_keys(r)[0]) for r in ss.rows}
    name = next(f"t{i}" for i in range(1, len(taken) + 2) if f"t{i}" not in taken)
    _new_row(name, "torch.zeros(2)", False)


def remove_row(rid: int) -> None:
    ss.rows = [r for r in ss.rows if r != rid]
    for k in row_keys(rid):
        ss.pop(k, None)


TABS = 6


def tab() -> int:
    """The open tab (0 graph, 1 curves, 2 log, 3 code, 4 landscape, 5 race)."""
    i = ss.get("tab", 0)
    return i if isinstance(i, int) and 0 <= i < TABS else 0


def racers() -> tuple[str, ...]:
    """The optimizers in the race, in explorer.OPTIMIZERS order (kept apart from the widget's key, which
    Streamlit forgets while the race tab is closed)."""
    chosen = ss.get("race")
    chosen = explorer.OPTIMIZERS if chosen is None else chosen
    return tuple(n for n in explorer.OPTIMIZERS if n in chosen)


def race_lr() -> float | None:
    """The race's second learning rate, or None; its range is checked where it is used, like the lr's."""
    v = ss.get("race_lr")
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def directions() -> str:
    """The landscape's slice for more than two weights: "moved" (default) or "random"."""
    return "random" if ss.get("dirs") == "random" else "moved"


def open_tab(key: str, labels: list[str]) -> None:
    """Seed the tabs widget `key` with the open tab, or remember which one it has open, by position:
    a language switch makes a new widget (new labels), which opens where the old one was."""
    if ss.get(key) in labels:
        ss.tab = labels.index(ss[key])
    else:
        ss[key] = labels[tab()]


def move_step(delta: int, last: int) -> None:
    ss.step = min(last, max(0, int(ss.get("step", last)) + delta))


def take_moves() -> None:
    """The step the browser's ← / → presses lead to (`browser.step_presses`), and which press that was."""
    moves = (ss.get("step_moves") or {}).get("moves") or {}
    target, seq = moves.get("target"), moves.get("seq")
    if isinstance(target, int) and isinstance(seq, int):
        ss.moves_seq = seq
        ss.step = min(ss.get("step_last", target), max(0, target))


def moves_seen() -> int:
    return ss.get("moves_seq", 0)


def take_screen() -> None:
    """Whether the browser's screen is a phone's (`browser.step_presses` reports it)."""
    ss.narrow = bool((ss.get("step_moves") or {}).get("narrow"))


def narrow() -> bool:
    return bool(ss.get("narrow"))


def keep(widget: str, key: str) -> None:
    """Copy a widget's value to a key of our own: Streamlit drops a widget's key while its tab is closed."""
    ss[key] = ss[widget]


# ---------------------------------------------------------------- running

def attempt(exp: Experiment, spinner: str) -> Shown:
    """Run `exp`; on bad input show the last experiment that ran instead of an empty page."""
    error, internal = None, False
    try:
        with st.spinner(spinner):
            run = compute.train(exp)
        ss.last_good = exp
        return Shown(exp, run)
    except ExplorerError as e:
        error = e
    except Exception:      # noqa: BLE001 - a bug must not cost the student the page
        log.exception("training failed for %r", exp)
        internal = True
    fallback = ss.get("last_good") or PRESETS.get(ss.get("preset")) or PRESETS[DEFAULT_PRESET]
    try:
        return Shown(fallback, compute.train(fallback), error, internal)
    except ExplorerError as again:      # the server is too busy even for the last good run: say so, keep
        lang_ = "zh" if ss.get("lang") == "zh" else "en"          # the inputs, and let the next rerun retry
        st.warning(again.message(lang_), icon=":material/timer:")
        st.stop()


def epoch(n_epochs: int) -> int:
    """The epoch the page shows, kept inside 1..n_epochs (the slider's key may outlive a longer run)."""
    e = ss.get("epoch", 1)
    e = min(n_epochs, max(1, e if isinstance(e, int) else 1))
    ss.epoch = e
    return e


def step(exp: Experiment, last: int) -> int:
    """The backward step shown: a new experiment starts at the last step (every gradient filled in)."""
    if ss.get("step_for") != exp:
        ss.step_for = exp
        ss.step = last
    s = ss.get("step", last)
    s = min(last, max(0, s if isinstance(s, int) else last))
    ss.step, ss.step_last = s, last
    return s


# ---------------------------------------------------------------- the URL

def view() -> dict:
    """Non-default view settings, for the URL."""
    v = {}
    if ss.get("epoch", 1) != 1:
        v["epoch"] = ss.epoch
    if ss.get("step", ss.get("step_last")) != ss.get("step_last"):
        v["step"] = ss.step
    if tab():
        v["tab"] = tab()
    if ss.get("hide"):
        v["hide"] = "inputs"
    v["proj"] = bool(ss.get("proj"))
    v["log"] = bool(ss.get("log_y"))
    if racers() != explorer.OPTIMIZERS:
        v["race"] = ",".join(racers()) or "none"
    if race_lr() is not None:
        v["race_lr"] = repr(race_lr())
    if directions() != "moved":
        v["dirs"] = directions()
    return v


def query(exp: Experiment, **extra) -> dict[str, str]:
    return share.to_query(exp, lang(), ss.get("preset"), **{**view(), **extra})


def sync_url(exp: Experiment) -> None:
    """Write the page's state into the address bar, so refresh and copied links lose nothing."""
    q = query(exp)
    if q != st.query_params.to_dict():
        st.query_params.from_dict(q)


def share_link(exp: Experiment, **extra) -> tuple[str, bool]:
    """(link, absolute?): absolute where the browser told us the app's URL, else a `?query` to append."""
    qs = "?" + urlencode(query(exp, **extra), quote_via=quote, safe=":,*")
    base = st.context.url
    return (base + qs, True) if base else (qs, False)
