"""Training in worker processes, so a classroom's runs use every core instead of queueing on one GIL.

Streamlit runs every session's script in threads of one process; training with torch's small ops is
mostly Python and dispatcher overhead, so runs from different students would serialise. `run(exp)`
sends the experiment to a small pool of worker processes, sized from the cores this container may
really use (one fewer: the app's own process needs one), and returns the same `Run` that `explorer.run(exp)` returns in-process, bit for bit.

Workers fork from a forkserver that has already imported torch and explorer (fast start, shared
pages), never from the Streamlit process itself, which has threads. They start lazily, one more only
when all are busy, and stop with the forkserver after IDLE_STOP seconds without a run.
"""
from __future__ import annotations

import atexit
import functools
import io
import logging
import math
import os
import pickle
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, spawn, util

from . import limits as L
from .engine import Run, run as run_here
from .errors import ExplorerError
from .experiment import Experiment

ENV = "EXPLORER_WORKERS"
# Imported once in the forkserver, shared by every worker. torch._dynamo is what the first meta-device op
# (plan()'s dry run) imports lazily: ~1.3 s and hundreds of modules each worker would otherwise pay.
PRELOAD = ["explorer", "explorer.pool", "torch._dynamo"]
IDLE_STOP = 300.0          # seconds without a run before the workers and the forkserver are stopped
CGROUP = "/sys/fs/cgroup"
log = logging.getLogger(__name__)


# ------------------------------------------------------------------ how many cores are really ours

def quota_v2(text: str) -> float | None:
    """Cores allowed by a cgroup v2 `cpu.max` ("max 100000" or "<quota> <period>"); None = no limit."""
    parts = text.split()
    if not parts or parts[0] == "max":
        return None
    quota, period = int(parts[0]), int(parts[1]) if len(parts) > 1 else 100_000
    return quota / period if quota > 0 and period > 0 else None


def quota_v1(quota: str, period: str) -> float | None:
    """Cores allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = no limit)."""
    q, p = int(quota.strip()), int(period.strip())
    return q / p if q > 0 and p > 0 else None


def cores_from(affinity: int, quotas) -> int:
    """Whole cores usable: the CPUs we may be scheduled on, capped by the tightest quota, at least 1."""
    limits = [affinity] + [q for q in quotas if q is not None]
    return max(1, math.floor(min(limits)))


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _own_cgroups() -> dict[str, str]:
    """controller ('' for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    out = {}
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for c in parts[1].split(",") if parts[1] else [""]:
                out[c] = parts[2]
    return out


def _quotas() -> list[float | None]:
    """Every CPU quota that applies to us: our own cgroup's and the mount root's (a container's cgroup
    namespace usually shows ours as the root), in v2 and, where the cpu controller is v1, in v1."""
    own = _own_cgroups()
    found = []
    for d in {CGROUP + own.get("", "/").rstrip("/"), CGROUP}:
        text = _read(f"{d}/cpu.max")
        if text:
            found.append(_parsed(quota_v2, text))
    for mount in (f"{CGROUP}/cpu", f"{CGROUP}/cpu,cpuacct"):
        for d in {mount + own.get("cpu", "/").rstrip("/"), mount}:
            q, p = _read(f"{d}/cpu.cfs_quota_us"), _read(f"{d}/cpu.cfs_period_us")
            if q and p:
                found.append(_parsed(quota_v1, q, p))
    return found


def _parsed(parse, *texts) -> float | None:
    """A file we cannot read as a quota sets no limit: sizing the pool must never stop the app."""
    try:
        return parse(*texts)
    except (ValueError, IndexError):
        log.warning("unreadable CPU quota %r", texts)
        return None


@functools.cache
def cores() -> int:
    """Whole cores this process may really use (affinity and cgroup quota), at least 1."""
    return cores_from(len(os.sched_getaffinity(0)), _quotas())


def workers() -> int:
    """The pool size: one core fewer than we have, for the app's own process serves every page from
    the one left; so none on a one-core container, where a worker only adds memory (a forkserver and
    a worker cost ~290 MB, and Community Cloud's smallest container has 690 MB). EXPLORER_WORKERS
    overrides it (0 = no pool, run in the calling thread)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        n = int(env)
        if n < 0:
            raise ValueError(f"{ENV} must be >= 0, got {env!r}")
        return n
    return cores() - 1


# ------------------------------------------------------------------ processes that never run the app's script

class _Popen(popen_forkserver.Popen):
    """The stdlib forkserver launch (Python 3.11), through the pool's own forkserver and minus
    re-running `__main__` in the child.

    Streamlit installs each session's script as `sys.modules["__main__"]`, so a stock forkserver (or
    spawn) child would execute streamlit_app.py, importing streamlit and drawing a page, in every
    worker. Workers need nothing from `__main__`: they only call functions of this package.
    """

    def __init__(self, process_obj, server: forkserver.ForkServer):
        self._server = server
        super().__init__(process_obj)

    def _launch(self, process_obj):
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            mp_context.reduction.dump(prep_data, buf)
            mp_context.reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        self.sentinel, w = self._server.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


_server_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Process(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj, _server_of[process_obj])


class _Context(mp_context.ForkServerContext):
    """A forkserver context with a forkserver of its own: its preload list touches no global state,
    and it can be stopped with the pool, which gives its ~250 MB back."""

    def __init__(self):
        self.server = forkserver.ForkServer()
        self.server.set_forkserver_preload(PRELOAD)

    def Process(self, *args, **kwargs):
        p = _Process(*args, **kwargs)
        _server_of[p] = self.server
        return p

    def stop(self):
        self.server._stop()


# ------------------------------------------------------------------ the worker side

def _init_worker():
    """One torch thread per worker, as in-process: workers share the box with each other and the app.

    gc.freeze(): the garbage collector would otherwise walk, and so copy-on-write, every object the
    worker inherited from the forkserver (torch, explorer), turning ~200 MB of shared pages private."""
    import gc
    import torch
    torch.set_num_threads(1)
    gc.freeze()


def _work(exp: Experiment, deadline: float):
    """Train in the worker, within what is left of the caller's wall-clock limit: a run whose caller
    has given up is skipped or stopped by the engine's clock instead of loading a busy box further
    (CLOCK_MONOTONIC is shared by all processes). The Run goes back as plain pickle bytes: torch's
    multiprocessing pickler would move every tensor into shared memory and pass file descriptors.
    An ExplorerError goes back as (code, field, details): its custom __init__ does not unpickle."""
    left = deadline - time.monotonic()
    if left <= 0:
        return "too_slow", "epochs", {}
    full, L.WALL_LIMIT = L.WALL_LIMIT, min(L.WALL_LIMIT, left)
    try:
        return pickle.dumps(run_here(exp), protocol=pickle.HIGHEST_PROTOCOL)
    except ExplorerError as e:
        return e.code, e.field, e.details
    finally:
        L.WALL_LIMIT = full


def _probe(deadline: float = 0.0) -> dict:
    """What a worker looks like from inside (tests; `_submit` passes the deadline)."""
    import sys
    import torch
    return {"pid": os.getpid(), "threads": torch.get_num_threads(), "streamlit": "streamlit" in sys.modules,
            "main": getattr(sys.modules["__main__"], "__file__", None), "omp": os.environ.get("OMP_NUM_THREADS")}


# ------------------------------------------------------------------ the app side

_lock = threading.Lock()
_replaced = threading.Condition(_lock)     # wakes the idle check of a pool that is gone
_inline = threading.Lock()     # runs in the calling thread take turns
_pool: ProcessPoolExecutor | None = None
_ctx: _Context | None = None
_busy = 0                  # calls between _acquire and _release
_last_used = 0.0


def _acquire(size: int) -> ProcessPoolExecutor:
    """The pool, started on first use; counted busy so the idle stop never takes it from under a call."""
    global _pool, _ctx, _busy
    with _lock:
        if _pool is None:
            _ctx = _ctx or _Context()
            _pool = ProcessPoolExecutor(size, mp_context=_ctx, initializer=_init_worker)
            threading.Thread(target=_stop_when_idle, args=(_pool,), name="explorer-pool-idle", daemon=True).start()
        _busy += 1
        return _pool


def _release() -> None:
    global _busy, _last_used
    with _lock:
        _busy -= 1
        _last_used = time.monotonic()


def _stop_when_idle(pool: ProcessPoolExecutor) -> None:
    """Stop the workers and the forkserver after IDLE_STOP seconds without a call: an idle app then
    holds only its own process's memory; the next run pays the forkserver's start (~2 s) again."""
    global _pool, _ctx
    with _lock:
        while _pool is pool and (_busy or time.monotonic() - _last_used < IDLE_STOP):
            _replaced.wait(IDLE_STOP / 4)
        if _pool is not pool:
            return
        _pool, ctx, _ctx = None, _ctx, None
    pool.shutdown(wait=True, cancel_futures=True)
    ctx.stop()


def _discard(broken: ProcessPoolExecutor) -> None:
    """Forget a broken pool once, however many threads saw it break; the next call starts a fresh one
    (from the same forkserver, which restarts itself if it is the one that died)."""
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
            _replaced.notify_all()
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the workers and the forkserver (tests; at exit). A later `run` starts them again."""
    global _pool, _ctx
    with _lock:
        pool, ctx, _pool, _ctx = _pool, _ctx, None, None
        _replaced.notify_all()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    if ctx is not None:
        ctx.stop()


atexit.register(shutdown)


def _submit(fn, *args):
    """`fn(*args, deadline)` in a worker, within limits.WALL_LIMIT of now; a broken pool is replaced
    and the call retried once (a dying worker breaks every call in flight, not only its own)."""
    limit = L.WALL_LIMIT
    deadline = time.monotonic() + limit
    for attempt in (1, 2):
        pool = _acquire(workers())
        try:
            future = pool.submit(fn, *args, deadline)
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            future.cancel()
            raise ExplorerError("too_slow", "epochs", limit=limit) from None
        except BrokenProcessPool as e:
            log.warning("worker pool broke (attempt %d): %s", attempt, e)
            _discard(pool)
            if attempt == 2 or time.monotonic() >= deadline:
                raise ExplorerError("too_slow", "epochs", limit=limit) from e
        finally:
            _release()


def run(exp: Experiment) -> Run:
    """`explorer.run(exp)` in a worker process: the same Run, bit for bit, or the same ExplorerError.

    Raises ExplorerError("too_slow") if the answer is not back within limits.WALL_LIMIT seconds,
    counted from this call (time queued behind other runs counts), or if workers die twice in a row.
    With EXPLORER_WORKERS=0 the run happens in the calling thread, one run at a time: threads share one
    GIL, so concurrent runs only slow each other down (8 runs from 8 threads on 2 cores: 4.6 s together,
    2.2 s one at a time); the wait for the turn is guarded, the run by the engine's own clock.
    """
    if workers() == 0:
        if not _inline.acquire(timeout=L.WALL_LIMIT):
            raise ExplorerError("too_slow", "epochs", limit=L.WALL_LIMIT)
        try:
            return run_here(exp)
        finally:
            _inline.release()
    out = _submit(_work, exp)
    if isinstance(out, bytes):
        return pickle.loads(out)
    code, field, details = out
    if code == "too_slow":
        raise ExplorerError("too_slow", "epochs", limit=L.WALL_LIMIT)
    raise ExplorerError(code, field, **details)
