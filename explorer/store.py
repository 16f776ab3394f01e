"""Caches shared by every session, bounded in bytes, each value computed once.

Streamlit runs each session's script in a thread of one process: when thirty students open the
same link, thirty threads ask for the same run at once. `Store.get` lets the first one compute
it and the others wait for that result instead of training thirty times. Entries are evicted
least recently used first once their estimated size passes the budget, so a class's distinct
experiments stay cached together and one huge run cannot crowd out memory. Plain Python, no
Streamlit: testable alone.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import torch

from . import clock

WAIT_POLL = 0.1             # seconds between a waiter's looks at whether its own caller has gone


class Store:
    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self._items: OrderedDict = OrderedDict()      # key -> (value, size)
        self._pending: dict = {}                      # key -> Future of a value being computed
        self._lock = threading.Lock()

    def get(self, key, make):
        """The cached value for `key`, else `make()`'s (errors propagate and are not cached).

        The value is made for everyone waiting for it: it is given up (clock.Cancelled) only when every
        one of them has gone, and a waiter whose maker gave up while it stayed makes it itself."""
        mine = clock.watcher()
        while True:
            with self._lock:
                hit = self._items.get(key)
                if hit is not None:
                    self._items.move_to_end(key)
                    return hit[0]
                pending = self._pending.get(key)
                making = pending is None
                if making:
                    self._pending[key] = pending = _Pending()
                pending.callers.append(mine)
            if making:
                break
            try:
                return pending.wait(mine)
            except clock.Cancelled:
                if mine():
                    raise
        try:
            with clock.caller(cancelled=pending.abandoned):
                value = make()
        except BaseException as e:
            with self._lock:
                del self._pending[key]
            pending.future.set_exception(e)
            raise
        size = sizeof(value)
        with self._lock:
            del self._pending[key]
            if size <= self.budget:
                self._items[key] = (value, size)
                self.used += size
                while self.used > self.budget:
                    _, (_, dropped) = self._items.popitem(last=False)
                    self.used -= dropped
        pending.future.set_result(value)
        return value

    def __len__(self):
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0


class _Pending:
    """A value being made, and whether anyone still wants it."""

    def __init__(self):
        self.future = Future()
        self.callers = []           # each caller's clock.watcher()

    def abandoned(self) -> bool:
        return all(gone() for gone in list(self.callers))

    def wait(self, gone):
        while True:
            try:
                return self.future.result(timeout=WAIT_POLL)
            except FutureTimeout:
                if gone():
                    raise clock.Cancelled() from None


def sizeof(obj, seen: set | None = None) -> int:
    """Estimated bytes held by `obj`: tensor storages counted once, containers and objects walked."""
    seen = set() if seen is None else seen
    if isinstance(obj, torch.Tensor):
        if obj.device.type == "meta":
            return 64
        key = obj.untyped_storage().data_ptr()
        if key in seen:
            return 64
        seen.add(key)
        return 64 + obj.untyped_storage().nbytes()
    if isinstance(obj, (str, bytes, int, float, bool, type(None))):
        return sys.getsizeof(obj)
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, dict):
        return sys.getsizeof(obj) + sum(sizeof(k, seen) + sizeof(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sys.getsizeof(obj) + sum(sizeof(v, seen) for v in obj)
    fields = getattr(obj, "__dict__", None)
    if fields is None and hasattr(type(obj), "__slots__"):
        fields = {s: getattr(obj, s, None) for c in type(obj).__mro__ for s in getattr(c, "__slots__", ())}
    return sys.getsizeof(obj) + (sizeof(fields, seen) if fields else 0)
