"""Who is waiting for a computation, until when, and whether they are still there.

Streamlit runs each session's script in a thread of one process. The page says at the start of each
run who the caller is (`caller`): its session, for fair turns at the workers, and a way to ask
whether it has gone (a newer rerun replaced it, the tab closed). Long loops (training, the landscape's
chunks, the gradient check's elements) call `check()`, so a computation past its deadline, or whose
caller has gone, stops in-process too; in a worker process the pool also kills it from outside.
Nothing here decides *what* is computed: a deadline only ever fails a request, never shortens a result.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from . import limits as L
from .errors import Bi, ExplorerError

# What a page computes, as a message names it; training keeps the field the student can change.
PARTS = {"train": Bi(("this training run", "这次训练")), "trace": Bi(("this epoch's graph", "这一轮的计算图")),
         "check": Bi(("the gradient check", "梯度检验")), "landscape": Bi(("the loss landscape", "损失地形")),
         "race": Bi(("the race", "优化器比赛"))}


class Cancelled(BaseException):
    """The caller has gone: nobody will see this result, so the work stops. A BaseException, like
    KeyboardInterrupt: no `except Exception` on the way up mistakes it for a failure to report."""


_local = threading.local()


def _never() -> bool:
    return False


def set_caller(owner=None, cancelled=None) -> None:
    """Who the calling thread works for from now on (the page calls this at the start of every run)."""
    _local.owner, _local.cancelled = owner, cancelled or _never


def owner():
    return getattr(_local, "owner", None)


def cancelled() -> bool:
    return getattr(_local, "cancelled", _never)()


def watcher():
    """The calling thread's `cancelled` function itself, for work done on its behalf elsewhere."""
    return getattr(_local, "cancelled", _never)


@contextmanager
def caller(owner=None, cancelled=None):
    """`set_caller` for a block, restoring the previous caller after it."""
    before = getattr(_local, "owner", None), getattr(_local, "cancelled", _never)
    set_caller(owner if owner is not None else before[0], cancelled or before[1])
    try:
        yield
    finally:
        _local.owner, _local.cancelled = before


@contextmanager
def deadline(seconds: float, what: str = "train"):
    """Work in this block must finish within `seconds` (a nested deadline never extends an outer one)."""
    outer = getattr(_local, "deadline", None)
    mine = (time.monotonic() + seconds, seconds, what)
    _local.deadline = mine if outer is None or mine[0] < outer[0] else outer
    try:
        yield
    finally:
        _local.deadline = outer


def check() -> None:
    """Raise if the caller has gone (Cancelled) or the deadline has passed (ExplorerError too_slow)."""
    if cancelled():
        raise Cancelled()
    d = getattr(_local, "deadline", None)
    if d is not None and time.monotonic() > d[0]:
        raise too_slow(d[1], d[2])


def left(default: float = L.WALL_LIMIT) -> float:
    """Seconds left before the current deadline (`default` if there is none)."""
    d = getattr(_local, "deadline", None)
    return default if d is None else d[0] - time.monotonic()


def field(part: str) -> str:
    """The input a message about a part sits under: training's under the epochs, a view's in its tab."""
    return "epochs" if part == "train" else part


def too_slow(limit: float, part: str = "train") -> ExplorerError:
    return ExplorerError("too_slow", field(part), limit=round(limit, 2), what=PARTS.get(part, PARTS["train"]))
