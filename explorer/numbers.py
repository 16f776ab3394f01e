"""Numbers as a student reads them, shared by the graph's labels, the explanations and the figures.

Four significant digits where a value is a label (`num`), every digit Python prints where it is an
answer to check (`digits`), a big tensor's summary where its first values would say nothing
(`tensor`). One `tolist()` per tensor keeps this in microseconds where torch's repr takes far longer.
"""
from __future__ import annotations

import numpy
import torch

from .graph import Preview

SMALL_NUMEL = 6          # tensors up to this many elements are written out whole
SUMMARY_HEAD = 3         # first values shown of a bigger one
ZEROS = {"en": "{n} zeros", "zh": "{n} 个 0"}


def num(v) -> str:
    """A number at four significant digits; -0.0 reads 0 ("-0" only puzzles a student)."""
    if isinstance(v, float):
        s = format(v + 0.0, ".4g")
        if "e" in s:
            s = s.replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
        return s
    return str(v)


def nested(v) -> str:
    """A nested list of numbers, each at four significant digits."""
    if isinstance(v, list):
        return "[" + ", ".join([nested(x) for x in v]) + "]"
    return num(v)


def digits(v) -> str:
    """A number or nested list with every digit that matters (10 significant): an answer to check."""
    return "[" + ", ".join(digits(x) for x in v) + "]" if isinstance(v, list) else f"{v:.10g}"


def float32(v) -> str:
    """A float32 number or nested list, each the shortest decimal that is that float32 (9.6, not
    9.600000381): an answer to compare a guess with."""
    if isinstance(v, list):
        return "[" + ", ".join(float32(x) for x in v) + "]"
    s = str(numpy.float32(v + 0.0))
    return s[:-2] if s.endswith(".0") else s


def factor(v) -> str:
    """A number inside a product or difference, negatives in brackets: 2·(-3), not 2·-3."""
    s = num(float(v))
    return f"({s})" if s.startswith("-") else s


def index(i) -> str:
    """A multi-index as the student writes it: [1, 2]."""
    return "[" + ", ".join(map(str, i)) + "]"


def shape(s) -> str:
    return str(tuple(s))


def tensor(t, lang: str = "en") -> str:
    """Numbers of a small tensor (4 significant digits), else its first few values and "…", or,
    where those say nothing (a big tensor's preview, a leading run of one repeated value in a tensor
    that is not constant), its min, max, mean and how many zeros. Only digits, brackets and words like
    nan, so it goes into HTML labels unescaped."""
    if t is None:
        return "—"
    if isinstance(t, Preview):
        if t.lo is None or t.lo == t.hi:       # a sum of previews, or a constant: its first values say it all
            return "[" + ", ".join([num(x) for x in t.head[:SUMMARY_HEAD].tolist()]) + ", …]"
        return summary(t.lo, t.hi, t.mean, t.zeros, lang)
    n = t.numel()
    if n <= SMALL_NUMEL:
        return nested(t.tolist())
    try:
        head = t.numpy().ravel()[:SUMMARY_HEAD].tolist()
    except (TypeError, RuntimeError):
        head = t.reshape(-1)[:SUMMARY_HEAD].tolist()
    if len(set(head)) == 1:                 # [0, 0, 0, …] hides what follows: summarise the whole tensor
        x = t.detach().reshape(-1)
        x = x if x.is_floating_point() else x.double()
        lo, hi = x.min().item(), x.max().item()
        if lo != hi:
            return summary(lo, hi, x.mean().item(), int((x == 0).sum()), lang)
    return "[" + ", ".join([num(x) for x in head]) + ", …]"


def summary(lo: float, hi: float, mean: float, zeros: int, lang: str = "en") -> str:
    """A big tensor in a few numbers: "min -0.31 · max 0.92 · mean 0.01 · 40 zeros"."""
    text = f"min {num(lo)} · max {num(hi)} · mean {num(mean)}"
    return text + (" · " + ZEROS.get(lang, ZEROS["en"]).format(n=zeros) if zeros else "")


def described(t, lang: str = "en") -> str:
    """`tensor`, plus the shape where only some values are shown, and a big tensor's largest-magnitude
    entries with their indices (what an explanation says of a value)."""
    if isinstance(t, (torch.Tensor, Preview)) and t.numel() > SMALL_NUMEL:
        text = f"{tensor(t, lang)} ({'×'.join(map(str, t.shape))})"
        if isinstance(t, Preview) and t.top and t.lo != t.hi:
            text += "; |max| " + ", ".join(f"{index(i)} {num(v)}" for i, v in t.top) + " …"
        return text
    return tensor(t, lang) if isinstance(t, (torch.Tensor, Preview)) or t is None else str(t)
