"""The worker pool: the same numbers and errors as in-process; deadlines, memory, callers gone, turns; recovery; size."""
import os
import signal
import sys
import threading
import time
import types

import pytest
import torch

import explorer
from explorer import Experiment, ExplorerError, PRESETS, clock, cores, limits, pool

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


def test_views_of_a_run_come_back_the_same_whether_the_worker_has_the_run_or_not():
    pool.shutdown()                                             # fresh workers: they have no run yet
    here = explorer.run(PRESETS["mlp"])
    g = pool.call("trace", here, 7)                             # sent whole once ...
    again = pool.call("trace", here, 8)                          # ... then by reference
    assert [(n.label, n.order) for n in g.nodes] == [(n.label, n.order) for n in here.trace(7).nodes]
    assert torch.equal(again.node("W1").grad, here.trace(8).node("W1").grad)
    rep = pool.call("gradcheck", here, 3)
    assert rep == explorer.gradcheck_report(here, 3)
    land = pool.call("landscape", here, 2, directions="random")
    assert torch.equal(land.loss, explorer.landscape(here, 2, directions="random").loss)


def test_error_comes_back_the_same():
    with pytest.raises(ExplorerError) as here:
        explorer.run(BAD_LOSS)
    with pytest.raises(ExplorerError) as there:
        pool.run(BAD_LOSS)
    a, b = here.value, there.value
    assert (b.code, b.field, b.details, b.en, b.zh) == (a.code, a.field, a.details, a.en, a.zh)
    assert str(b) == str(a)


def test_a_task_past_its_running_limit_is_stopped_and_its_worker_replaced(monkeypatch):
    pid = pool.call("probe")["pid"]
    monkeypatch.setattr(limits, "RUN_LIMIT", 0.3)
    start = time.monotonic()
    with pytest.raises(ExplorerError) as err:
        pool.call("hog", 30)                                    # ignores every clock: only a kill stops it
    assert err.value.code == "too_slow" and err.value.details["limit"] == 0.3
    assert "0.3" in err.value.en and "0.3" in err.value.zh
    assert time.monotonic() - start < 5
    assert not os.path.exists(f"/proc/{pid}") or pool.call("probe")["pid"] != pid
    monkeypatch.undo()
    assert len(pool.run(PRESETS["mlp"]).history) == 300


def test_a_task_whose_caller_has_gone_is_stopped():
    gone = threading.Event()
    threading.Timer(0.3, gone.set).start()
    start = time.monotonic()
    with clock.caller(cancelled=gone.is_set), pytest.raises(clock.Cancelled):
        pool.call("hog", 30)
    assert time.monotonic() - start < 5
    assert pool.call("probe")["threads"] == 1                   # a fresh worker took its place


def test_a_task_over_its_memory_limit_is_stopped(monkeypatch):
    monkeypatch.setattr(limits, "MAX_WORKER_MB", 600)           # a worker idles at ~300 MB
    with pytest.raises(ExplorerError) as err:
        pool.call("grow", 800)
    assert err.value.code == "too_much_memory_live" and "600 MB" in err.value.en and "600 MB" in err.value.zh


def test_sessions_take_turns(monkeypatch):
    """One worker, one session with three tasks queued and another with one: the other session's task
    runs second, not last."""
    monkeypatch.setenv(pool.ENV, "1")
    pool.call("probe")
    done = []

    def ask(owner, name, delay):
        time.sleep(delay)
        with clock.caller(owner=owner):
            pool.call("sleep", 0.3)
        done.append(name)

    threads = [threading.Thread(target=ask, args=("A", f"A{i}", 0.05 * i)) for i in range(3)]
    threads.append(threading.Thread(target=ask, args=("B", "B", 0.2)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done.index("B") == 1, done


def test_heavy_tasks_leave_a_worker_to_quick_ones():
    """Two slots: a heavy task holds one; another heavy task waits, a quick one takes the other at once."""
    turns = pool.Turns(2)
    first = turns.acquire("A", time.monotonic() + 5, "train", heavy=True)
    with pytest.raises(ExplorerError):
        turns.acquire("B", time.monotonic() + 0.3, "train", heavy=True)
    quick = turns.acquire("C", time.monotonic() + 0.3, "train", heavy=False)
    turns.release(first, heavy=True)
    assert turns.acquire("B", time.monotonic() + 0.3, "train", heavy=True) != quick


def test_a_quick_task_runs_in_the_calling_thread():
    pool.shutdown()
    r = pool.run(PRESETS["single_step"], estimate=1e6)          # 1 ms: no round trip to a worker
    assert len(r.history) == 1 and pool._ctx is None
    assert pool.call("probe", estimate=0)["pid"] == os.getpid()


def test_a_wait_for_a_turn_is_bounded(monkeypatch):
    monkeypatch.setenv(pool.ENV, "1")
    pool.call("probe")
    busy = threading.Thread(target=lambda: pool.call("sleep", 1.0))
    busy.start()
    time.sleep(0.2)
    monkeypatch.setattr(limits, "WALL_LIMIT", 0.3)
    with pytest.raises(ExplorerError) as err:
        pool.call("probe")
    assert err.value.code == "too_slow"
    busy.join()


def test_workers_are_single_threaded_and_never_run_the_app_script(tmp_path):
    """Streamlit installs each session's script as __main__; a stock forkserver child would run it."""
    marker = tmp_path / "ran"
    script = tmp_path / "app.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    pool.run(PRESETS["single_step"])
    pool.shutdown()                                            # new workers, from a new forkserver
    real, sys.modules["__main__"] = sys.modules["__main__"], fake
    try:
        inside = pool.call("probe")
    finally:
        sys.modules["__main__"] = real
    assert inside["threads"] == 1 and inside["omp"] == "1"
    assert inside["main"] is None and not inside["streamlit"] and not marker.exists()


def test_recovers_when_a_worker_dies():
    pid = pool.call("probe")["pid"]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert len(pool.run(PRESETS["multi_epoch"]).history) == 500
    assert pool.call("probe")["pid"] != pid


def test_a_worker_dying_mid_task_is_explained():
    def kill_soon():
        time.sleep(0.3)
        for w in list(pool._slots):
            if w is not None:
                os.kill(w.pid, signal.SIGKILL)
    threading.Thread(target=kill_soon).start()
    with pytest.raises(ExplorerError) as err:
        pool.call("hog", 3)
    assert err.value.code == "worker_lost" and err.value.zh


def test_stops_when_idle(monkeypatch):
    monkeypatch.setattr(pool, "IDLE_STOP", 0.2)
    pool.shutdown()
    assert len(pool.run(PRESETS["single_step"]).history) == 1
    server = f"/proc/{pool._ctx.server._forkserver_pid}"
    deadline = time.monotonic() + 10
    while os.path.exists(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(server)                          # the forkserver is gone, not only the workers
    assert pool._ctx is None and not any(pool._slots)


def test_inline_mode(monkeypatch):
    pool.shutdown()
    monkeypatch.setenv(pool.ENV, "0")
    assert pool.workers() == 0
    r = pool.run(PRESETS["multi_epoch"])
    assert torch.equal(r.history.losses, explorer.run(PRESETS["multi_epoch"]).history.losses)
    with pytest.raises(ExplorerError) as err:
        pool.run(BAD_LOSS)
    assert err.value.code == "syntax"
    assert pool._ctx is None
    g = pool.call("trace", r, 3)
    assert g.steps == r.trace(3).steps


def test_inline_mode_keeps_the_same_bounds(monkeypatch):
    """No worker to kill: the long loops look at the clock and the caller themselves."""
    monkeypatch.setenv(pool.ENV, "0")
    monkeypatch.setattr(limits, "RUN_LIMIT", 0.2)
    with pytest.raises(ExplorerError) as err:
        pool.call("sleep", 5)
    assert err.value.code == "too_slow"
    gone = threading.Event()
    gone.set()
    with clock.caller(cancelled=gone.is_set), pytest.raises(clock.Cancelled):
        pool.run(PRESETS["mlp"].replace(epochs=3000))


def test_workers_setting(monkeypatch):
    monkeypatch.setenv(pool.ENV, "3")
    assert pool.workers() == 3
    monkeypatch.delenv(pool.ENV)
    n = cores.cores()
    assert pool.workers() == (n if n >= 2 else 0)
    assert cores.cores() <= len(os.sched_getaffinity(0))
    monkeypatch.setenv(pool.ENV, "-1")
    with pytest.raises(ValueError):
        pool.workers()


def test_cpu_quota_parsing():
    assert cores.quota_v2("max 100000\n") is None
    assert cores.quota_v2("max") is None
    assert cores.quota_v2("50000 100000") == 0.5
    assert cores.quota_v2("150000 100000\n") == 1.5
    assert cores.quota_v2("7800 100000") == 0.078
    assert cores.quota_v1("-1\n", "100000\n") is None
    assert cores.quota_v1("250000", "100000") == 2.5


@pytest.mark.parametrize("affinity, quotas, expected", [
    (2, [], 2), (2, [None], 2), (8, [1.5], 1), (2, [0.078], 1), (1, [4.0], 1), (16, [None, 3.0, 2.5], 2),
])
def test_cores_from(affinity, quotas, expected):
    assert cores.cores_from(affinity, quotas) == expected
