"""`python -m bench load`: a class of N students using the app at once, as their browser tabs would.

Each student is a browser tab speaking Streamlit's own websocket protocol (protobuf `BackMsg` up,
`ForwardMsg` down), so the server does exactly the work a real class gives it: sessions, full
reruns, a fragment rerun, widget states, query-string write-backs, message caching. A rerun
only counts as done when the page it produced is sound and the URL the app wrote back shows the
change: a fast answer that did not take is a failure, not a good latency.

Every N runs on the same warm server, one after the other; students are numbered across the
rows so no row reuses another's experiments (each student trains distinct experiments).

`--predict` makes every student work in predict mode (`?predict=1`): open the example at step 0,
press Next up to each question, answer it (Check with a right or a wrong guess, or Reveal, as the
form's buttons send them), then open the Curves tab the answers unlock and switch to 中文.

`--hostile K` adds K visitors who mean harm: from the start until the last student is done, each opens
the most expensive links of bench/hostile.py, one whole page view after another (every tab, both
landscape slices, the whole race), and the report adds each page view's outcome and latency and the
server's CPU-seconds and peak memory over the run.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from explorer import share
from explorer.limits import MAX_EPOCHS
from explorer.presets import PRESETS
from explorer.ui import bind
from explorer.ui.text import LANG_NAMES, TEXT

ROOT = Path(__file__).resolve().parent.parent
PRESET_CYCLE = ("single_step", "multi_epoch", "linear_layer", "logistic_regression", "mlp",
                "forgot_zero_grad", "lr_too_large")
SHARED_PRESET = "mlp"
THINK, STRESS = (1.0, 3.0), (0.2, 0.5)
RAMP = 1.0                    # seconds over which a class opens its link
ACTIONS = ("open preset", "epochs", "epoch slider", "step slider", "landscape tab", "race tab", "language",
           "shared link")
PREDICT_ACTIONS = ("open predict", "next", "check", "reveal", "curves tab", "language")
QUESTIONS = 3                 # questions a predicting student answers
START_TIMEOUT = 90.0
# Texts that mean the page is broken even though the script finished.
BROKEN = (*TEXT["graph_failed"], *TEXT["internal"], *(s.split("{")[0].strip() for s in TEXT["stale"]))


@dataclass
class Rerun:
    student: int
    action: str
    latency: float | None     # seconds from request to script_finished; None if never sent
    error: str | None = None


@dataclass
class Node:
    run: str
    fragment: str
    element: object | None    # Element proto; None for a block
    tabs: object | None = None    # a keyed st.tabs block's TabContainer proto: a widget too


class TabBroken(Exception):
    """The tab can no longer be trusted (timeout, closed socket): later actions in it fail unsent."""

    def __init__(self, reason: str, waited: float | None = None):
        super().__init__(reason)
        self.waited = waited      # seconds waited in vain, for a timeout


# ------------------------------------------------------------------ HTTP, as the browser does it

async def http_get(url: str, cookies: dict[str, str], timeout: float) -> int:
    """GET `url` with the tab's cookies and keep what it sets: a sticky-session proxy relies on this."""
    u = urlsplit(url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(u.hostname, u.port or 80), timeout)
    try:
        lines = [f"GET {u.path or '/'}{'?' + u.query if u.query else ''} HTTP/1.1", f"Host: {u.netloc}",
                 "Accept: */*", "Connection: close"]
        if cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "set-cookie":
            k, _, v = value.strip().split(";", 1)[0].partition("=")
            cookies[k.strip()] = v.strip()
    return int(head[0].split()[1])


# ------------------------------------------------------------------ one browser tab

class Tab:
    """One browser tab: its websocket session, the page it shows and the widget values it holds.

    Mirrors the frontend: the element tree is keyed by delta path and pruned of stale elements when
    a run finishes (only the fragment's own, for a fragment run); the widget values sent with every
    rerun are those of the widgets still on the page, seeded from each widget's proto when it
    mounts; cacheable messages are remembered and announced, and refs to them resolved.
    """

    def __init__(self, base: str, cookies: dict[str, str], timeout: float):
        self.base, self.cookies, self.timeout = base.rstrip("/"), cookies, timeout
        self.query = ""
        self.page_hash = ""
        self.nodes: dict[tuple, Node] = {}
        self.states: dict[str, WidgetState] = {}
        self.cache: dict[str, list] = {}          # hash -> [ForwardMsg, run count last seen, fragment]
        self.max_age = 2
        self.finished_runs = 0
        self.run_id = ""
        self.run_fragments: tuple = ()
        self.problems: list[str] = []
        self.events: asyncio.Queue = asyncio.Queue()
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.broken: str | None = None

    # ---- session

    async def open(self, query: str) -> float:
        """Load the page at `?query` and wait for its first run; returns seconds from the click."""
        t0 = time.perf_counter()
        try:
            status = await http_get(f"{self.base}/?{query}", self.cookies, self.timeout)
            if status != 200:
                raise ValueError(f"GET / answered {status}")
            for path in ("_stcore/health", "_stcore/host-config"):
                await http_get(f"{self.base}/{path}", self.cookies, self.timeout)
            u = urlsplit(self.base)
            ws_url = f"{'wss' if u.scheme == 'https' else 'ws'}://{u.netloc}{u.path}/_stcore/stream"
            self.ws = await connect(
                ws_url, origin=f"{u.scheme}://{u.netloc}",
                subprotocols=["streamlit", self.cookies.get("_streamlit_xsrf") or "PLACEHOLDER_AUTH_TOKEN"],
                additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())},
                max_size=None, ping_interval=None, open_timeout=self.timeout)
        except (OSError, asyncio.TimeoutError, ValueError, IndexError, WebSocketException) as e:
            self.broken = f"could not open the page: {type(e).__name__} {e}".rstrip()
            raise TabBroken(self.broken, time.perf_counter() - t0) from e
        self.reader = asyncio.create_task(self._read())
        self.query = query
        await self._rerun("", t0)
        return time.perf_counter() - t0

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait([self.reader], timeout=10)

    @property
    def url(self) -> str:
        return f"{self.base}/?{self.query}" if self.query else f"{self.base}/"

    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    # ---- widgets

    def widget(self, key):
        """(kind, proto, fragment id) of the widget with user key `key` (or whose key `key(k)` accepts) on
        the page, or None."""
        for node in self.nodes.values():
            kind, w = _widget_of(node)
            if w is not None and (key(w.id.split("-", 2)[-1]) if callable(key) else w.id.split("-", 2)[-1] == key):
                return kind, w, node.fragment
        return None

    def value(self, key: str):
        """The value this tab holds for widget `key` (what it would send), or None."""
        found = self.widget(key)
        state = self.states.get(found[1].id) if found else None
        if state is None or state.WhichOneof("value") is None:
            return None
        v = getattr(state, state.WhichOneof("value"))
        return list(v.data) if state.WhichOneof("value") == "double_array_value" else v

    async def set(self, key: str, value) -> float:
        """Change widget `key` as a student would; returns seconds until the rerun finished."""
        found = self.widget(key)
        if found is None:
            raise LookupError(f"no widget with key {key!r} on the page")
        kind, w, fragment = found
        self.states[w.id] = _state(w.id, VALUES[kind](w), value)
        t0 = time.perf_counter()
        await self._rerun(fragment, t0)
        return time.perf_counter() - t0

    def button(self, key: str):
        """(Button proto, fragment id) of the button with user key `key` on the page, or None."""
        for node in self.nodes.values():
            el = node.element
            if el is not None and el.WhichOneof("type") == "button" and el.button.id.split("-", 2)[-1] == key:
                return el.button, node.fragment
        return None

    async def click(self, key: str, **fields) -> float:
        """Press button `key` (a form's submit button sends the form's `fields` with it); returns seconds
        until the rerun finished. A press is a trigger: sent once, then gone, as the frontend does."""
        found = self.button(key)
        if found is None:
            raise LookupError(f"no button with key {key!r} on the page")
        b, fragment = found
        for k, v in fields.items():
            w = self.widget(k)
            if w is None:
                raise LookupError(f"no widget with key {k!r} on the page")
            self.states[w[1].id] = _state(w[1].id, VALUES[w[0]](w[1]), v)
        self.states[b.id] = WidgetState(id=b.id, trigger_value=True)
        t0 = time.perf_counter()
        try:
            await self._rerun(fragment, t0)
        finally:
            self.states.pop(b.id, None)
        return time.perf_counter() - t0

    def texts(self) -> str:
        """The page's Markdown and alert texts, one per line."""
        out = []
        for n in self.nodes.values():
            el = n.element
            kind = el.WhichOneof("type") if el is not None else None
            if kind == "markdown":
                out.append(el.markdown.body)
            elif kind == "alert":
                out.append(el.alert.body)
        return "\n".join(out)

    # ---- protocol

    async def _rerun(self, fragment: str, t0: float) -> None:
        """Send a rerun as the frontend's sendRerunBackMsg does, then wait for that run to finish."""
        if self.broken:
            raise TabBroken(f"not sent, the tab broke earlier: {self.broken}")
        while not self.events.empty():
            if self.events.get_nowait()[0] == "closed":
                self.broken = "websocket closed between reruns"
                raise TabBroken(self.broken)
        self.problems.clear()
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment
        cs.widget_states.widgets.extend(self.states.values())
        cs.cached_message_hashes.extend(self.cache)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        ci.url, ci.is_embedded, ci.color_scheme = self.url, False, "light"
        try:
            await self.ws.send(msg.SerializeToString())
        except ConnectionClosed as e:
            self.broken = f"websocket closed: {e}"
            raise TabBroken(self.broken) from e
        deadline = t0 + self.timeout
        while True:
            try:
                event, status, run = await asyncio.wait_for(self.events.get(), deadline - time.perf_counter())
            except asyncio.TimeoutError:
                self.broken = f"no script_finished within {self.timeout:g} s"
                raise TabBroken(self.broken, time.perf_counter() - t0) from None
            if event == "closed":
                self.broken = f"websocket closed mid-run: {status}"
                raise TabBroken(self.broken)
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN or (run and run != self.run_id):
                continue
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self.problems.append("script finished with a compile error")
            return

    async def _read(self) -> None:
        reason = "closed"
        try:
            async for data in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._apply(msg)
        except ConnectionClosed as e:
            reason = str(e)
        except Exception as e:  # noqa: BLE001 - a client bug must end the tab, not hang it
            reason = f"client error {type(e).__name__}: {e}"
        self.events.put_nowait(("closed", reason, ""))

    def _apply(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            hit = self.cache.get(msg.ref_hash)
            if hit is None:
                self.problems.append(f"server referred to uncached message {msg.ref_hash}")
                return
            hit[1] = self.finished_runs
            full = ForwardMsg()
            full.CopyFrom(hit[0])
            full.metadata.CopyFrom(msg.metadata)
            msg, kind = full, full.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = [msg, self.finished_runs, msg.delta.fragment_id]
        if kind == "new_session":
            self.page_hash = msg.new_session.page_script_hash
            self.run_id = msg.metadata.run.script_run_id
            self.run_fragments = tuple(msg.metadata.run.fragment_ids)
            self.max_age = msg.new_session.config.max_cached_message_age or self.max_age
        elif kind == "delta":
            self._delta(msg)
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
            e = msg.session_event.script_compilation_exception
            self.problems.append(f"script error {e.type}: {e.message[:200]}")
        elif kind == "script_finished":
            if msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._finish()
            self.events.put_nowait(("finished", msg.script_finished, msg.metadata.run.script_run_id))

    def _delta(self, msg: ForwardMsg) -> None:
        path, d = tuple(msg.metadata.delta_path), msg.delta
        kind = d.WhichOneof("type")
        if kind not in ("new_element", "add_block"):
            return
        old = self.nodes.get(path)
        if kind == "new_element" and old is not None and old.element is None:
            n = len(path)
            for p in [p for p in self.nodes if len(p) > n and p[:n] == path]:
                del self.nodes[p]
        el = d.new_element if kind == "new_element" else None
        tabs = d.add_block.tab_container if kind == "add_block" and d.add_block.HasField("tab_container") \
            and d.add_block.tab_container.id else None
        self.nodes[path] = node = Node(self.run_id, d.fragment_id, el, tabs)
        ek, w = _widget_of(node)
        if ek == "tabs":
            return          # the frontend sends a tab's label only once a tab is clicked
        if w is not None and (w.set_value or w.id not in self.states):
            self.states[w.id] = _state(w.id, VALUES[ek](w), _mounted_value(ek, w))

    def _finish(self) -> None:
        """Drop what this run did not redraw, and the values of widgets no longer on the page."""
        frags = set(self.run_fragments)
        stale = [p for p, n in self.nodes.items() if n.run != self.run_id and (not frags or n.fragment in frags)]
        for p in stale:
            del self.nodes[p]
        live = {w.id for n in self.nodes.values() if (w := _widget_of(n)[1]) is not None}
        self.states = {k: v for k, v in self.states.items() if k in live}
        self.finished_runs += 1
        for h in [h for h, (_, seen, frag) in self.cache.items()
                  if self.finished_runs - seen > self.max_age and (not frags or frag in frags)]:
            del self.cache[h]

    def page_errors(self) -> list[str]:
        """What on the page says this rerun did not work: exceptions, and the app's own failure texts."""
        errors = list(self.problems)
        for node in self.nodes.values():
            el = node.element
            kind = el.WhichOneof("type") if el is not None else None
            if kind == "exception":
                errors.append(f"exception on page {el.exception.type}: {el.exception.message[:200]}")
            elif kind == "alert" and any(s and s in el.alert.body for s in BROKEN):
                errors.append(f"alert on page: {el.alert.body[:160]}")
        return errors


def _widget_of(node: Node) -> tuple[str | None, object | None]:
    """(kind, proto) of the widget a page node is, or (None, None)."""
    if node.tabs is not None:
        return "tabs", node.tabs
    kind = node.element.WhichOneof("type") if node.element is not None else None
    return (kind, getattr(node.element, kind)) if kind in VALUES else (None, None)


# Widget kind -> the WidgetState field the frontend sends for it.
VALUES = {
    "tabs": lambda w: "string_value",
    "slider": lambda w: "double_array_value",
    "number_input": lambda w: "int_value" if w.data_type == NumberInput.INT else "double_value",
    "radio": lambda w: "string_value",
    "selectbox": lambda w: "string_value",
    "checkbox": lambda w: "bool_value",
    "text_input": lambda w: "string_value",
    "text_area": lambda w: "string_value",
}


def _mounted_value(kind: str, w):
    """The value a widget takes when it mounts: the server's `value` if it set one, else its default."""
    if kind == "slider":
        return list(w.value if w.set_value else w.default)
    if kind in ("radio", "selectbox"):
        if w.set_value:
            return w.raw_value if w.HasField("raw_value") else None
        return w.options[w.default] if w.HasField("default") and w.default < len(w.options) else None
    if kind == "number_input":
        name = "value" if w.set_value else "default"
        return getattr(w, name) if w.HasField(name) else None
    return w.value if w.set_value else w.default


def _state(wid: str, field_name: str, value) -> WidgetState:
    s = WidgetState(id=wid)
    if value is None:
        return s
    if field_name == "double_array_value":
        s.double_array_value.data.extend(float(v) for v in value)
    elif field_name == "int_value":
        s.int_value = int(value)
    else:
        setattr(s, field_name, value)
    return s


# ------------------------------------------------------------------ one student

def _expect(page: Tab, /, **want) -> list[str]:
    """Differences between the URL the app wrote back and what the action should have put there."""
    have = page.params()
    wrong = []
    for k, v in want.items():
        got = have.get(k)
        same = got == v
        if not same and k == "lr" and got is not None:
            try:
                same = math.isclose(float(got), float(v))
            except ValueError:
                pass
        if not same:
            wrong.append(f"URL has {k}={got!r}, expected {v!r}")
    return wrong


def _pick(rng: random.Random, lo: int, hi: int, avoid) -> int:
    """A value in lo..hi other than `avoid` (hi >= lo + 1)."""
    if not lo <= avoid <= hi:
        return rng.randint(lo, hi)
    v = rng.randint(lo, hi - 1)
    return v + 1 if v >= avoid else v


async def _record(g: int, name: str, tab: Tab, act) -> Rerun:
    """One action of student `g` in `tab`, checked: its latency, and what the page or the URL got wrong."""
    if tab.broken:
        return Rerun(g, name, None, f"not sent, the tab broke earlier: {tab.broken}")
    try:
        lat, errors = await act()
        errors = tab.page_errors() + errors
        return Rerun(g, name, lat, "; ".join(errors) or None)
    except TabBroken as e:
        return Rerun(g, name, e.waited, str(e))
    except LookupError as e:
        return Rerun(g, name, None, str(e))


async def student(g: int, base: str, rng: random.Random, think=THINK, timeout: float = 120.0) -> list[Rerun]:
    """Student number `g`: the eight reruns of the workload, each checked; returns one record per rerun."""
    preset = PRESET_CYCLE[g % len(PRESET_CYCLE)]
    cookies: dict[str, str] = {}
    tab, shared = Tab(base, cookies, timeout), Tab(base, cookies, timeout)
    out: list[Rerun] = []
    ctx: dict = {}

    async def open_preset():
        lat = await tab.open(urlencode({"preset": preset}))
        epochs = tab.value("epochs")
        if epochs is None:
            return lat, ["no epochs field on the page"]
        ctx["epochs"] = min(MAX_EPOCHS, int(epochs) + 1 + g)
        return lat, _expect(tab, preset=preset, lang="en")

    async def change_epochs():
        if "epochs" not in ctx:
            return None, ["nothing to change: the preset did not open"]
        return await tab.set("epochs", ctx["epochs"]), _expect(tab, epochs=str(ctx["epochs"]))

    async def epoch_slider():
        found = tab.widget("epoch")
        if found is None:
            return None, ["no epoch slider on the page"]
        lo, hi = max(2, int(found[1].min)), int(found[1].max)
        if hi < lo:
            return None, [f"epoch slider too short ({found[1].min}..{hi})"]
        cur = int((tab.value("epoch") or [1])[0])
        v = _pick(rng, lo, hi, cur) if hi > lo else lo
        return await tab.set("epoch", [v]), _expect(tab, epoch=str(v))

    async def step_slider():
        found = tab.widget(bind.slider_key)
        if found is None:
            return None, ["no backward-step slider on the page"]
        key = found[1].id.split("-", 2)[-1]
        lo, hi = int(found[1].min), int(found[1].max)
        cur = int((tab.value(key) or [hi])[0])
        v = _pick(rng, lo, hi, cur) if hi > lo else lo
        errors = [] if found[2] else ["the step slider is not inside a fragment"]
        return await tab.set(key, [v]), errors + _expect(tab, step=str(v))

    async def open_tab(name: str, charts: int):
        """Click a tab: the tabs widget is keyed per language (`tab_en`), its value the tab's label.
        The tab counts as open when the URL names it (`tab=landscape`) and its `charts` figures are drawn."""
        if tab.widget("tab_en") is None:
            return None, ["no tabs on the page"]
        lat = await tab.set("tab_en", TEXT[f"tab_{name}"][0])
        drawn = sum(1 for n in tab.nodes.values()
                    if n.element is not None and n.element.WhichOneof("type") == "plotly_chart")
        return lat, _expect(tab, tab=name) + ([] if drawn >= charts else [f"{drawn} of {charts} figures drawn"])

    async def landscape_tab():
        return await open_tab("landscape", 1)

    async def race_tab():
        return await open_tab("race", 2)

    async def language():
        found = tab.widget("lang")
        if found is None:
            return None, ["no language switch on the page"]
        if LANG_NAMES["zh"] not in found[1].options:
            return None, [f"the language switch offers {list(found[1].options)}, not {LANG_NAMES['zh']!r}"]
        return await tab.set("lang", LANG_NAMES["zh"]), _expect(tab, lang="zh")

    async def shared_link():
        base_exp = PRESETS[SHARED_PRESET]
        exp = base_exp.replace(epochs=min(MAX_EPOCHS, base_exp.epochs + 1 + g),
                               lr=round(base_exp.lr * (1 + (g % 97 + 1) / 100), 6))
        q = share.to_query(exp, "en", SHARED_PRESET)
        lat = await shared.open(urlencode(q, quote_via=quote, safe=":,*"))
        errors = _expect(shared, preset=SHARED_PRESET, epochs=str(exp.epochs), lr=repr(exp.lr))
        if shared.value("epochs") != exp.epochs or not math.isclose(shared.value("lr") or 0, exp.lr):
            errors.append(f"fields show epochs={shared.value('epochs')} lr={shared.value('lr')}, "
                          f"expected {exp.epochs}, {exp.lr}")
        return lat, errors

    steps = (open_preset, change_epochs, epoch_slider, step_slider, landscape_tab, race_tab, language, shared_link)
    try:
        for i, (name, act) in enumerate(zip(ACTIONS, steps)):
            if i:
                await asyncio.sleep(rng.uniform(*think))
            out.append(await _record(g, name, shared if act is shared_link else tab, act))
    finally:
        await asyncio.gather(tab.close(), shared.close(), return_exceptions=True)
    return out


_ANSWERS: dict[str, dict] = {}


def answers(preset: str) -> dict:
    """{step: (the float32 answer as a student would type it, a wrong one: twice that)} of the preset's
    first epoch, from a run made here (the client's own torch), so a right guess is right for the same
    reason a student's is."""
    if preset not in _ANSWERS:
        import explorer
        from explorer import compute
        from explorer.numbers import float32
        qs = compute.questions(explorer.run(PRESETS[preset]), 1)
        _ANSWERS[preset] = {k: (str(float32(q.value.tolist())), str(float32((2 * q.value).tolist())))
                            for k, q in qs.items()}
    return _ANSWERS[preset]


async def predicting_student(g: int, base: str, rng: random.Random, think=THINK,
                             timeout: float = 120.0) -> list[Rerun]:
    """Student `g` in predict mode: opens `?preset=P&predict=1` (step 0), presses Next up to each of the
    first QUESTIONS questions and answers it (right, wrong or Reveal), opens Curves, switches to 中文.
    Each answer counts when the page shows the verdict and the session's score has counted it."""
    preset = PRESET_CYCLE[g % len(PRESET_CYCLE)]
    tab = Tab(base, {}, timeout)
    out: list[Rerun] = []
    asked = sorted(answers(preset))[:QUESTIONS]

    async def act(name, fn):
        if out:
            await asyncio.sleep(rng.uniform(*think))
        out.append(await _record(g, name, tab, fn))

    async def open_link():
        lat = await tab.open(urlencode({"preset": preset, "predict": "1"}))
        return lat, _expect(tab, preset=preset, predict="1", step="0")

    def next_to(k):
        async def press():
            lat = await tab.click("step_next")
            slider = tab.widget(bind.slider_key)
            last = int(slider[1].max) if slider else None
            return lat, [] if k == last and tab.params().get("step") is None else _expect(tab, step=str(k))
        return press

    def answer(k, n, how):
        async def send():
            if how == "reveal":
                lat = await tab.click("reveal")
            else:
                right, wrong = answers(preset)[k]
                lat = await tab.click("check", guess=right if how == "right" else wrong)
            text = tab.texts()
            errors = [] if f"of {n} right" in text else [f"no score 'of {n} right' after answering step {k}: "
                                                         f"{text[-300:]!r}"]
            if how == "reveal" and "The answer:" not in text:
                errors.append("Reveal did not show the answer")
            if how == "right" and "Right:" not in text:
                errors.append(f"a right answer at step {k} was not judged right")
            return lat, errors
        return send

    async def curves():
        if tab.widget("tab_en") is None:
            return None, ["no tabs on the page"]
        lat = await tab.set("tab_en", TEXT["tab_curves"][0])
        drawn = sum(1 for n in tab.nodes.values()
                    if n.element is not None and n.element.WhichOneof("type") == "plotly_chart")
        return lat, _expect(tab, tab="curves") + ([] if drawn or len(asked) < len(answers(preset)) else
                                                  ["Curves drew no figure once every question was answered"])

    async def language():
        return await tab.set("lang", LANG_NAMES["zh"]), _expect(tab, lang="zh")

    try:
        await act("open predict", open_link)
        at = 0
        for n, k in enumerate(asked, 1):
            for s in range(at + 1, k + 1):
                await act("next", next_to(s))
            at = k
            how = rng.choice(("right", "right", "wrong", "reveal"))
            await act("reveal" if how == "reveal" else "check", answer(k, n, how))
        await act("curves tab", curves)
        await act("language", language)
    finally:
        await asyncio.gather(tab.close(), return_exceptions=True)
    return out


async def warm_up(base: str) -> None:
    """One unmeasured page load, so the first row does not pay for the app's first imports."""
    tab = Tab(base, {}, START_TIMEOUT)
    try:
        await tab.open("")
    finally:
        await tab.close()


async def run_class(n: int, base: str, *, first: int = 0, seed: int = 0, think=THINK,
                    timeout: float = 120.0, predict: bool = False) -> list[Rerun]:
    """Students first..first+n-1, opening their links staggered over RAMP seconds."""
    who = predicting_student if predict else student

    async def one(j: int) -> list[Rerun]:
        await asyncio.sleep(RAMP * j / n)
        g = first + j
        return await who(g, base, random.Random(seed * 1_000_003 + g), think, timeout)

    done = await asyncio.gather(*(one(j) for j in range(n)))
    return [r for rs in done for r in rs]


# ------------------------------------------------------------------ the app's processes

def _children(pid: int) -> list[int]:
    kids = []
    for f in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(k) for k in f.read_text().split()]
        except OSError:
            pass
    return kids


def _tree(roots) -> set[int]:
    seen, todo = set(), list(roots)
    while todo and len(seen) < 10_000:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo += _children(pid)
    return seen


def streamlit_pids() -> list[int]:
    """Processes running `streamlit run`, other than this one: the app behind --url, best effort."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"streamlit" in cmd and b" run " in cmd + b" ":
                pids.append(int(d.name))
    return pids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pids) -> float:
    """User+system CPU of these processes (and their reaped children)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in f[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


class RssPeak(threading.Thread):
    """Samples the summed VmRSS of the app's process tree every 0.2 s, on its own thread so a busy
    event loop cannot make it miss the peak."""

    def __init__(self, roots, every: float = 0.2):
        super().__init__(daemon=True)
        self.roots, self.every = roots, every
        self.peak_kb = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.sample()

    def sample(self) -> None:
        self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in _tree(self.roots())))

    def reset(self) -> None:
        self.peak_kb = 0
        self.sample()


def start_app(log_dir: Path, app_dir: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """`streamlit run streamlit_app.py` in `app_dir` on a free 127.0.0.1 port; returns once healthy."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out, err = open(log_dir / "streamlit.out", "wb"), open(log_dir / "streamlit.err", "wb")
    with out, err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=app_dir, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return proc, base
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    stop_app(proc)
    tail = (log_dir / "streamlit.err").read_text(errors="replace")[-3000:]
    raise RuntimeError(f"streamlit did not become healthy at {base}:\n{tail}")


def _started(pid: int) -> str | None:
    """A process's start time (field 22 of /proc/PID/stat), to tell it from a later one with its pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def stop_app(proc: subprocess.Popen | None) -> None:
    """Stop the app, then any process it started that outlived it: a worker still busy with a run the
    page gave up on keeps computing after the app is gone, and the next measurement would pay for it."""
    if proc is None:
        return
    left = {pid: _started(pid) for pid in _tree([proc.pid]) - {proc.pid}}
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pid, started in left.items():
        if started is not None and _started(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# ------------------------------------------------------------------ report

def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a value that was really measured."""
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def row(n: int, results: list[Rerun], peak_kb: int) -> tuple:
    lat = [r.latency for r in results if r.latency is not None]
    failed = sum(r.error is not None for r in results)
    fmt = lambda v: f"{v:.2f} s"  # noqa: E731
    stats = (fmt(statistics.median(lat)), fmt(percentile(lat, 95)), fmt(max(lat))) if lat else ("-",) * 3
    return (str(n), str(len(results)), *stats, f"{failed}", f"{peak_kb / 1024:.0f}")


def table(rows: list[tuple]) -> str:
    return markdown_table(("students", "reruns", "p50", "p95", "max", "failed", "peak RSS (MB)"), rows)


def markdown_table(header: tuple, rows: list[tuple]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "| " + " | ".join("-" * w for w in widths) + " |", *map(line, rows)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.splitlines()[0])
    ap.add_argument("--students", default="1,10,30,60", help="class sizes, run in this order on one server")
    ap.add_argument("--stress", action="store_true", help=f"think {STRESS[0]}-{STRESS[1]} s instead of "
                                                          f"{THINK[0]:.0f}-{THINK[1]:.0f} s")
    ap.add_argument("--url", help="an already running app or proxy (http://127.0.0.1:PORT) instead of starting one")
    ap.add_argument("--app", type=Path, default=ROOT,
                    help="directory whose streamlit_app.py to serve, e.g. an export of an older commit "
                         "for a before/after table (default: this checkout)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before a rerun counts as failed")
    ap.add_argument("--predict", action="store_true", help="students work in predict mode: Next to each question, "
                                                           "Check or Reveal, then Curves and 中文")
    ap.add_argument("--hostile", type=int, default=0, metavar="K",
                    help="also K hostile visitors, each opening the worst links of bench/hostile.py one page view "
                         "after another (every tab, both slices, the whole race) until the students are done")
    ap.add_argument("--hostile-timeout", type=float, default=600.0, help="seconds one hostile page view may take")
    ap.add_argument("--hostile-links", help="comma-separated names of the links they open (default: all; "
                                            "`python -m bench hostile --list`)")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in args.students.split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        ap.error("--students takes positive integers, e.g. 1,10,30")
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        ap.error("--url must point at 127.0.0.1")
    think = STRESS if args.stress else THINK
    chosen = []
    if args.hostile < 0:
        ap.error("--hostile takes a number of visitors, 0 or more")
    if args.hostile and args.predict:
        ap.error("--predict and --hostile are separate runs")
    if args.hostile:
        from . import hostile
        try:
            chosen = hostile.by_name(args.hostile_links)
        except ValueError as e:
            ap.error(str(e))

    proc = None
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        if args.url:
            base, roots = args.url.rstrip("/"), streamlit_pids
        else:
            try:
                proc, base = start_app(Path(tmp), args.app.resolve())
            except RuntimeError as e:
                print(e, file=sys.stderr)
                return 2
            roots = lambda: [proc.pid]  # noqa: E731
        sampler = RssPeak(roots)
        sampler.start()
        rows, failures, first, hostile_rows = [], [], 0, []
        try:
            try:
                asyncio.run(warm_up(base))
            except TabBroken as e:
                print(f"the app did not load: {e}", file=sys.stderr)
                return 2
            for n in sizes:
                sampler.reset()
                pids = _tree(roots())
                cpu_app, cpu_me, t0 = cpu_seconds(pids), time.process_time(), time.perf_counter()
                if chosen:
                    results, views = asyncio.run(hostile.with_class(
                        n, base, args.hostile, chosen, args.hostile_timeout, first=first, seed=args.seed,
                        think=think, student_timeout=args.timeout))
                else:
                    results = asyncio.run(run_class(n, base, first=first, seed=args.seed, think=think,
                                                    timeout=args.timeout, predict=args.predict))
                wall = time.perf_counter() - t0
                sampler.sample()
                cpu_used = cpu_seconds(pids | _tree(roots())) - cpu_app
                rows.append(row(n, results, sampler.peak_kb))
                if chosen:        # what the visitors started goes on after them: wait for it, and count it
                    tree = hostile.TreeCpu(roots)
                    tree.pids |= pids
                    busy, still = hostile.settle(tree, time.perf_counter() + args.hostile_timeout)
                    sampler.sample()
                    hostile_rows.append((n, views, cpu_used, wall, sampler.peak_kb,
                                         tree() - cpu_app - cpu_used, busy, still))
                bad = [r for r in results if r.error]
                failures += bad
                print(f"  N={n}: {len(results)} reruns in {wall:.0f} s, {len(bad)} failed; CPU: app "
                      f"{cpu_used:.1f} s, this client "
                      f"{time.process_time() - cpu_me:.1f} s; machine load average {os.getloadavg()[0]:.1f}",
                      file=sys.stderr, flush=True)
                per_action = ", ".join(
                    f"{a} {statistics.median(v):.2f}/{percentile(v, 95):.2f}"
                    for a in (PREDICT_ACTIONS if args.predict else ACTIONS) if (v := [r.latency for r in results if r.action == a and r.latency]))
                print(f"    p50/p95 s by action: {per_action}", file=sys.stderr)
                reasons = Counter((r.action, r.error) for r in bad)
                for (action, error), count in reasons.most_common(5):
                    print(f"    {count} x {action}: {error}", file=sys.stderr)
                first += n
                time.sleep(2)
        finally:
            sampler.halt.set()
            stop_app(proc)
    print(table(rows))
    rss = ("sum of VmRSS of processes whose command line has `streamlit run` (best effort, --url)"
           if args.url else "sum of VmRSS of the app's process tree")
    if args.predict:
        print(f"\nEach student predicts: open ?preset=P&predict=1 (cycling {len(PRESET_CYCLE)} presets; step 0), "
              f"press Next up to each of the first {QUESTIONS} questions and answer it (Check right or wrong, or "
              f"Reveal), open Curves, switch to 中文; think {think[0]}-{think[1]} s, seed {args.seed}. "
              f"An answer counts once the page shows its verdict and the score has counted it.")
    else:
        print(f"\nEach student: open ?preset= (cycling {len(PRESET_CYCLE)} presets), change epochs, move the "
              f"epoch slider, move the backward-step slider (fragment rerun), switch to 中文, open a shared "
              f"{SHARED_PRESET} link in a new session.")
    print(f"Think {think[0]}-{think[1]} s, seed {args.seed}, a class "
          f"opens over {RAMP:.0f} s; rows run in order on one server, warmed by one unmeasured page load. "
          f"Latency: request to script_finished (a timed-out rerun counts as the time waited); failed: "
          f"error on the page, no finish within {args.timeout:g} s, or a URL that does not show the "
          f"change. Peak RSS: {rss}.")
    if hostile_rows:
        print(f"\nHostile visitors ({args.hostile}, from the start until the students were done; a view still "
              f"going then is 'unfinished'), each page view a new session of one link of bench/hostile.py with "
              f"a fresh seed: open it, then every other tab, the other slice where offered, the race at every "
              f"optimizer and race_lr. Latency: the whole page view (timeout {args.hostile_timeout:g} s).\n")
        print(hostile.views_table([(n, views) for n, views, *_ in hostile_rows]))
        print()
        for n, views, cpu_used, wall, peak_kb, cpu_after, busy, still in hostile_rows:
            counts = Counter(v.outcome[0] for v in views)
            after = (f"still busy {busy:.0f} s later (timeout; {cpu_after:.1f} CPU-s by then)" if still else
                     f"then {cpu_after:.1f} CPU-s more in the {busy:.0f} s until it was quiet")
            print(f"- N={n}, K={args.hostile}: {len(views)} hostile page views "
                  f"({', '.join(f'{c} {o}' for o, c in counts.most_common())}); server {cpu_used:.1f} CPU-s over "
                  f"the {wall:.0f} s of the class ({cpu_used / max(wall, 1e-9):.2f} cores), {after}; peak RSS "
                  f"{peak_kb / 1024:.0f} MB")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
