"""The whole page state as URL query parameters, so a refresh or a copied link loses nothing.

Only what differs from the chosen preset is written, which keeps a link to a lightly edited
example short, and only view settings that differ from their defaults. Reading never raises: a
malformed parameter falls back to the preset's value (or the view's default) and the app then
validates the experiment like anything the student typed.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple

from .experiment import OPTIMIZERS, Experiment
from .lessons import LESSONS
from .presets import PRESETS

LANGS = ("en", "zh")

# experiment field -> query key; tensors travel as one JSON list of [name, text] pairs (order matters:
# random tensors are drawn from one generator in row order).
FIELDS = {"tensors": "t", "trainable": "tr", "loss": "loss", "lr": "lr", "epochs": "epochs",
          "optimizer": "opt", "zero_grad": "zg", "seed": "seed"}


def racers(text: str) -> tuple[str, ...] | None:
    """`race=gd,adam`: the optimizers that race, each once, in OPTIMIZERS order (`race=none`: nobody);
    None if the text names no optimizer."""
    if text == "none":
        return ()
    chosen = {n.strip() for n in text.split(",")[:len(OPTIMIZERS) * 2]}
    names = tuple(n for n in OPTIMIZERS if n in chosen)
    return names or None


def number(text: str) -> float | None:
    """A finite float (`race_lr=0.1`), bounded in length; the app validates its range like the lr's."""
    if len(text) > 32:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def directions(text: str) -> str | None:
    """`dirs=random`: the landscape's slice through two random directions (default: the two that moved most)."""
    return text if text in ("moved", "random") else None


# Links made before tabs had names numbered them, in this order.
NUMBERED_TABS = ("graph", "curves", "log", "code", "landscape", "race")


def tab_name(text: str) -> str | None:
    """`tab=landscape`, or an old link's `tab=4`. Any short lowercase name reads: the page knows its tabs
    and opens the first one for a name it does not know."""
    text = text.strip().lower()
    if text.isdigit():
        i = int(text[:3])
        return NUMBERED_TABS[i] if i < len(NUMBERED_TABS) else None
    return text if 0 < len(text) <= 20 and text.replace("_", "").isalpha() and text.isascii() else None


def flag(text: str) -> bool | None:
    return _parse(bool, text)


def integer(text: str) -> int | None:
    return _parse(int, text)


def lang_code(text: str) -> str | None:
    return text if text in LANGS else None


def lesson_name(text: str) -> str | None:
    """`lesson=course`: a lesson of `explorer.lessons`."""
    return text if text in LESSONS else None


class Param(NamedTuple):
    read: Callable[[str], Any]          # URL text -> value, None when the text cannot be one
    write: Callable[[Any], str]


def param(default, read, write=str):
    """A view field: its default (never written to the URL) and how it reads from and writes to the URL."""
    return field(default=default, metadata={"url": Param(read, write)})


@dataclass(frozen=True)
class View:
    """How the page shows its experiment: everything in the URL that is not the experiment.

    A new view setting (say `predict=1`) is one field here, with its default and its URL form."""
    lang: str = param("en", lang_code)
    epoch: int = param(1, integer)
    step: int | None = param(None, integer)            # None: the last step, every gradient filled in
    tab: str = param("graph", tab_name)
    hide: bool = param(False, lambda s: True if s == "inputs" else None, lambda v: "inputs")
    proj: bool = param(False, flag, lambda v: "1")
    log: bool = param(False, flag, lambda v: "1")
    race: tuple = param(OPTIMIZERS, racers, lambda v: ",".join(v) or "none")
    race_lr: float | None = param(None, number, repr)
    dirs: str = param("moved", directions)
    predict: bool = param(False, flag, lambda v: "1")      # predict first: each step asks before it tells
    lesson: str | None = param(None, lesson_name)
    part: int = param(1, integer)                          # the lesson's part, 1-based

    def replace(self, **changes) -> "View":
        return replace(self, **changes)


VIEW_PARAMS = {f.name: (f.default, f.metadata["url"]) for f in fields(View)}


def write(exp: Experiment, preset: str | None, view: View) -> dict[str, str]:
    """Query parameters for `exp` seen through `view`: `lang`, `preset`, the fields that differ from the
    preset, then the view settings that differ from their defaults.

    Without a preset the tensors and every field that differs from `Experiment()`'s defaults are written."""
    q = {"lang": view.lang if view.lang in LANGS else "en"}
    base = PRESETS.get(preset) if preset else None
    if base is not None:
        q["preset"] = preset
    default = base or Experiment()
    for attr, key in FIELDS.items():
        value = getattr(exp, attr)
        if value != getattr(default, attr) or (base is None and attr == "tensors"):
            q[key] = _encode(attr, value)
    for name, (default_value, url) in VIEW_PARAMS.items():
        value = getattr(view, name)
        if name != "lang" and value != default_value:
            q[name] = url.write(value)
    return q


def to_query(exp: Experiment, lang: str = "en", preset: str | None = None, **view) -> dict[str, str]:
    """`write` for a link made by hand: `to_query(exp, "zh", "mlp", tab="race")`."""
    return write(exp, preset, View(lang=lang, **view))


def read(params: Mapping[str, str]) -> tuple[Experiment | None, str | None, View]:
    """(experiment or None, preset or None, view) from query parameters; never raises.

    The experiment is None when the URL names neither a preset nor any field, so the app
    opens its default. Repeated parameters (lists) count by their last value; a view setting that
    does not read keeps its default.
    """
    try:
        p = {str(k): _last(v) for k, v in dict(params).items()}
    except (TypeError, ValueError):
        p = {}
    preset = p.get("preset") if p.get("preset") in PRESETS else None
    changes = {}
    for attr, key in FIELDS.items():
        if key in p:
            value = _decode(attr, p[key])
            if value is not None:
                changes[attr] = value
    exp = None
    if preset or changes:
        base = PRESETS[preset] if preset else Experiment()
        exp = base.replace(**changes)
    view = {}
    for name, (_, url) in VIEW_PARAMS.items():
        if name in p:
            value = url.read(p[name])
            if value is not None:
                view[name] = value
    return exp, preset, View(**view)


def _last(v) -> str:
    if isinstance(v, (list, tuple)):
        v = v[-1] if v else ""
    return v if isinstance(v, str) else str(v)


def _encode(attr: str, value) -> str:
    if attr == "tensors":
        return json.dumps([list(p) for p in value], ensure_ascii=False, separators=(",", ":"))
    if attr == "trainable":
        return ",".join(value)
    if attr == "zero_grad":
        return "1" if value else "0"
    if attr == "lr":
        return repr(float(value))
    return str(value)


def _decode(attr: str, text: str):
    """The field's value, or None when `text` cannot be one (the caller keeps the preset's)."""
    if attr == "tensors":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in data):
            return None
        return tuple((name, body) for name, body in data)
    if attr == "trainable":
        return tuple(n for n in text.split(",") if n)
    if attr == "loss":
        return text
    if attr == "lr":
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    if attr in ("epochs", "seed"):
        return _parse(int, text)
    if attr == "optimizer":
        return text if text in OPTIMIZERS else None
    if attr == "zero_grad":
        return _parse(bool, text)
    return None


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse(kind, text: str):
    text = text.strip()
    if kind is bool:
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else None
    if len(text) > 20:
        return None
    try:
        return int(text)
    except ValueError:
        return None
