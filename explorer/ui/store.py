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

import torch


class Store:
    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self._items: OrderedDict = OrderedDict()      # key -> (value, size)
        self._pending: dict = {}                      # key -> Future of a value being computed
        self._lock = threading.Lock()

    def get(self, key, make):
        """The cached value for `key`, else `make()`'s (errors propagate and are not cached)."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
            waiting = self._pending.get(key)
            if waiting is None:
                self._pending[key] = mine = Future()
        if waiting is not None:
            return waiting.result()
        try:
            value = make()
        except BaseException as e:
            with self._lock:
                del self._pending[key]
            mine.set_exception(e)
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
        mine.set_result(value)
        return value

    def __len__(self):
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0


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
