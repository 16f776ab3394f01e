"""The shared caches: bounded in bytes, one computation per key however many sessions ask at once."""
import threading
import time

import pytest
import torch

import explorer
from explorer.store import Store, sizeof


def test_sizeof_counts_tensor_storage_once():
    t = torch.zeros(1000)
    assert 4000 <= sizeof(t) < 4200
    assert sizeof([t, t[10:]]) < 4400        # a view shares its storage
    run = explorer.run(explorer.PRESETS["multi_epoch"])
    assert sizeof(run) >= run.history.params["w"].numel() * 4


def test_evicts_least_recently_used_to_stay_within_budget():
    s = Store(budget=10_000)
    for i in range(5):
        s.get(i, lambda: torch.zeros(500))                    # ~2 KB each
    assert len(s) == 4 and s.used <= 10_000
    s.get(1, lambda: pytest.fail("1 is cached"))            # 1 becomes the most recent
    s.get(9, lambda: torch.zeros(500))
    assert s.get(1, lambda: "recomputed") is not "recomputed"
    assert s.get(2, lambda: "recomputed") == "recomputed"


def test_a_value_bigger_than_the_budget_is_returned_but_not_kept():
    s = Store(budget=1000)
    big = s.get("big", lambda: torch.zeros(10_000))
    assert big.numel() == 10_000 and len(s) == 0 and s.used == 0


def test_errors_are_not_cached():
    s = Store(budget=10_000)
    with pytest.raises(ValueError):
        s.get("k", lambda: (_ for _ in ()).throw(ValueError("bad input")))
    assert s.get("k", lambda: 42) == 42


def test_concurrent_askers_share_one_computation():
    s = Store(budget=10**6)
    calls = []

    def make():
        calls.append(1)
        time.sleep(0.2)
        return "run"

    results = []
    threads = [threading.Thread(target=lambda: results.append(s.get("same", make))) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == ["run"] * 20 and len(calls) == 1
