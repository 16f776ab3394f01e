"""The worker pool: the same numbers and errors as in-process, its guard, its recovery, its size."""
import os
import signal
import sys
import time
import types

import pytest
import torch

import explorer
from explorer import Experiment, ExplorerError, PRESETS, limits, pool

BAD_LOSS = Experiment(tensors={"w": "torch.ones(2)"}, trainable=("w",), loss="loss = w @@ 2")


@pytest.fixture(autouse=True, scope="module")
def two_workers():
    """Two workers on any box, and no pool left behind for other test modules."""
    old = os.environ.get(pool.ENV)
    os.environ[pool.ENV] = "2"
    yield
    pool.shutdown()
    if old is None:
        del os.environ[pool.ENV]
    else:
        os.environ[pool.ENV] = old


def same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (x is None and b[k] is None) or (x is not None and b[k] is not None and torch.equal(x, b[k]))
        for k, x in a.items())


@pytest.mark.parametrize("name", list(PRESETS))
def test_bit_identical_to_in_process(name):
    here, there = explorer.run(PRESETS[name]), pool.run(PRESETS[name])
    assert torch.equal(here.history.losses, there.history.losses)
    assert same_tensors(here.history.params, there.history.params)
    assert same_tensors(here.history.grads, there.history.grads)
    assert same_tensors(here.data, there.data)
    assert there.experiment == here.experiment and there.plan.trainable == here.plan.trainable
    assert there.notes == here.notes and there.diverged_at == here.diverged_at
    nodes = [[(n.id, n.label, n.order) for n in r.graph.nodes] for r in (here, there)]
    assert nodes[0] == nodes[1]


def test_error_comes_back_the_same():
    with pytest.raises(ExplorerError) as here:
        explorer.run(BAD_LOSS)
    with pytest.raises(ExplorerError) as there:
        pool.run(BAD_LOSS)
    a, b = here.value, there.value
    assert (b.code, b.field, b.details, b.en, b.zh) == (a.code, a.field, a.details, a.en, a.zh)
    assert str(b) == str(a)


def test_wall_clock_guard(monkeypatch):
    pool.run(PRESETS["single_step"])                           # the pool is up: only the run is timed
    monkeypatch.setattr(limits, "WALL_LIMIT", 0.05)
    start = time.monotonic()
    with pytest.raises(ExplorerError) as err:
        pool.run(PRESETS["mlp"].replace(epochs=3000))          # ~1 s of training
    assert err.value.code == "too_slow" and err.value.details == {"limit": 0.05}
    assert time.monotonic() - start < 2.0                       # not the run's own seconds
    monkeypatch.setattr(limits, "WALL_LIMIT", 60.0)
    assert len(pool.run(PRESETS["mlp"]).history) == 300


def test_workers_are_single_threaded_and_never_run_the_app_script(tmp_path):
    """Streamlit installs each session's script as __main__; a stock forkserver child would run it."""
    marker = tmp_path / "ran"
    script = tmp_path / "app.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    pool.run(PRESETS["single_step"])
    pool._discard(pool._pool)                                  # new workers, from the same forkserver
    real, sys.modules["__main__"] = sys.modules["__main__"], fake
    try:
        inside = pool._submit(pool._probe)
    finally:
        sys.modules["__main__"] = real
    assert inside["threads"] == 1 and inside["omp"] == "1"
    assert inside["main"] is None and not inside["streamlit"] and not marker.exists()


def test_recovers_when_a_worker_dies():
    pid = pool._submit(pool._probe)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert len(pool.run(PRESETS["multi_epoch"]).history) == 500
    assert pool._submit(pool._probe)["pid"] != pid


def test_stops_when_idle(monkeypatch):
    monkeypatch.setattr(pool, "IDLE_STOP", 0.2)
    pool.shutdown()                                            # a new pool, whose idle check sees 0.2 s
    assert len(pool.run(PRESETS["single_step"]).history) == 1
    server = f"/proc/{pool._ctx.server._forkserver_pid}"
    deadline = time.monotonic() + 10
    while os.path.exists(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(server)                          # the forkserver is gone, not only the workers
    assert pool._pool is None and pool._ctx is None


def test_inline_mode(monkeypatch):
    pool.shutdown()
    monkeypatch.setenv(pool.ENV, "0")
    assert pool.workers() == 0
    r = pool.run(PRESETS["multi_epoch"])
    assert torch.equal(r.history.losses, explorer.run(PRESETS["multi_epoch"]).history.losses)
    with pytest.raises(ExplorerError) as err:
        pool.run(BAD_LOSS)
    assert err.value.code == "syntax"
    assert pool._pool is None


def test_workers_setting(monkeypatch):
    monkeypatch.setenv(pool.ENV, "3")
    assert pool.workers() == 3
    monkeypatch.delenv(pool.ENV)
    assert pool.workers() == pool.cores() - 1 >= 0
    assert pool.cores() <= len(os.sched_getaffinity(0))
    monkeypatch.setenv(pool.ENV, "-1")
    with pytest.raises(ValueError):
        pool.workers()


def test_cpu_quota_parsing():
    assert pool.quota_v2("max 100000\n") is None
    assert pool.quota_v2("max") is None
    assert pool.quota_v2("50000 100000") == 0.5
    assert pool.quota_v2("150000 100000\n") == 1.5
    assert pool.quota_v2("7800 100000") == 0.078
    assert pool.quota_v1("-1\n", "100000\n") is None
    assert pool.quota_v1("250000", "100000") == 2.5


@pytest.mark.parametrize("affinity, quotas, expected", [
    (2, [], 2), (2, [None], 2), (8, [1.5], 1), (2, [0.078], 1), (1, [4.0], 1), (16, [None, 3.0, 2.5], 2),
])
def test_cores_from(affinity, quotas, expected):
    assert pool.cores_from(affinity, quotas) == expected
