"""The whole page state as URL query parameters, so a refresh or a copied link loses nothing.

Only what differs from the chosen preset is written, which keeps a link to a lightly edited
example short. Reading never raises: a malformed parameter falls back to the preset's value
and the app then validates the experiment like anything the student typed.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping

from .experiment import OPTIMIZERS, Experiment
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


# view key -> parser; these describe how the page is looked at, not the experiment.
VIEW = {"epoch": int, "step": int, "tab": int, "hide": str, "proj": bool, "log": bool,
        "race": racers, "race_lr": number, "dirs": directions}

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def to_query(exp: Experiment, lang: str = "en", preset: str | None = None, **view) -> dict[str, str]:
    """Query parameters for `exp`: `lang`, `preset`, the fields that differ from it, then `view`.

    Without a preset the tensors and every field that differs from `Experiment()`'s defaults
    are written. View values that are None or False are left out (they are the defaults).
    """
    q = {"lang": lang if lang in LANGS else "en"}
    base = PRESETS.get(preset) if preset else None
    if base is not None:
        q["preset"] = preset
    default = base or Experiment()
    for attr, key in FIELDS.items():
        value = getattr(exp, attr)
        if value != getattr(default, attr) or (base is None and attr == "tensors"):
            q[key] = _encode(attr, value)
    for key, value in view.items():
        if value is None or value is False:
            continue
        q[key] = "1" if value is True else str(value)
    return q


def from_query(params: Mapping[str, str]) -> tuple[Experiment | None, str, str | None, dict]:
    """(experiment or None, lang, preset or None, view) from query parameters; never raises.

    The experiment is None when the URL names neither a preset nor any field, so the app
    opens its default. Repeated parameters (lists) count by their last value.
    """
    try:
        p = {str(k): _last(v) for k, v in dict(params).items()}
    except (TypeError, ValueError):
        p = {}
    lang = p.get("lang") if p.get("lang") in LANGS else "en"
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
    for key, kind in VIEW.items():
        if key in p:
            value = _parse(kind, p[key])
            if value is not None:
                view[key] = value
    return exp, lang, preset, view


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


def _parse(kind, text: str):
    text = text.strip()
    if kind is bool:
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else None
    if kind is int:
        if len(text) > 20:
            return None
        try:
            return int(text)
        except ValueError:
            return None
    if kind is str:
        return text
    return kind(text)
