"""Heavy work in worker processes: bounded in time and memory, stoppable, and fair between sessions.

Streamlit runs every session's script in threads of one process; torch's small ops are mostly Python
and dispatcher overhead, so students' computations would serialise on one GIL and one slow request
would hold everyone's page. `call(task, ...)` runs a task (training, tracing an epoch, the gradient
check, a landscape) in a small pool of worker processes, sized from the cores this container may
really use (one fewer: the app's own process needs one), and returns what the same function returns
in-process, bit for bit.

- Stoppable: a task past its deadline (`limits.RUN_LIMIT` of running, `limits.WALL_LIMIT` in all),
  above `limits.MAX_WORKER_MB` of memory, or whose caller has gone (a newer rerun replaced it, the tab
  closed: `clock.cancelled`) is stopped by killing its worker, which is replaced on the next call.
- Fair: workers are handed out in turns between sessions (`clock.owner`): a session waiting gets a
  worker before any session gets a second one, so one student's heavy link costs others one task's wait.
- With no worker (a one-core container, `EXPLORER_WORKERS=0`) the same turns, deadlines and caller
  checks hold in the calling thread, through `clock.check()` in the long loops.

Workers fork from a forkserver that has already imported torch and explorer (fast start, shared pages),
never from the Streamlit process itself, which has threads. They start lazily, and stop with the
forkserver after IDLE_STOP seconds without a call.
"""
from __future__ import annotations

import atexit
import io
import logging
import math
import os
import pickle
import signal
import threading
import time
import traceback
import weakref
from collections import OrderedDict, deque
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, spawn, util
from typing import NamedTuple

from . import clock
from . import limits as L
from .cores import cores
from .errors import ExplorerError

ENV = "EXPLORER_WORKERS"
# Imported once in the forkserver, shared by every worker. torch._dynamo is what the first meta-device op
# (plan()'s dry run) imports lazily: ~1.3 s and hundreds of modules each worker would otherwise pay.
PRELOAD = ["explorer", "explorer.pool", "torch._dynamo"]
IDLE_STOP = 300.0          # seconds without a call before the workers and the forkserver are stopped
POLL = 0.05                # seconds between looks at a running task's clock, memory and caller
log = logging.getLogger(__name__)


def workers() -> int:
    """The pool size: as many as the cores we have, from two (the app's own process is mostly waiting
    then; two workers let heavy tasks run on one while a class's quick ones use the other); none on a
    one-core container, where a worker only adds memory (a forkserver and a worker cost ~290 MB, and
    Community Cloud's smallest container has 690 MB). EXPLORER_WORKERS overrides it (0 = no pool, run in
    the calling thread)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        n = int(env)
        if n < 0:
            raise ValueError(f"{ENV} must be >= 0, got {env!r}")
        return n
    n = cores()
    return n if n >= 2 else 0


# ------------------------------------------------------------------ the tasks

def _train(exp):
    from .engine import run
    return run(exp)


def _trace(run, epoch):
    return run.trace(epoch)


def _gradcheck(run, epoch):
    from .gradcheck import report
    return report(run, epoch)


def _landscape(run, epoch, directions="moved", others=()):
    from .landscape import landscape
    return landscape(run, epoch, directions=directions, others=others)


def _probe():
    """What a worker looks like from inside (tests)."""
    import sys
    import torch
    return {"pid": os.getpid(), "threads": torch.get_num_threads(), "streamlit": "streamlit" in sys.modules,
            "main": getattr(sys.modules["__main__"], "__file__", None), "omp": os.environ.get("OMP_NUM_THREADS")}


def _sleep(seconds):
    """A task that only waits, cooperatively (tests: deadlines, turns, cancellation)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        clock.check()
        time.sleep(0.01)
    return seconds


def _hog(seconds):
    """A task that ignores the clock (tests: only killing its worker stops it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return seconds


def _grow(mb):
    """A task that takes `mb` MB and holds it (tests: the memory guard)."""
    block = bytearray(mb * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(30)
    return len(block)


# name -> (function, the page part a message names)
TASKS = {"train": (_train, "train"), "trace": (_trace, "trace"), "gradcheck": (_gradcheck, "check"),
         "landscape": (_landscape, "landscape"), "probe": (_probe, "train"), "sleep": (_sleep, "train"),
         "hog": (_hog, "train"), "grow": (_grow, "train")}


class RunRef(NamedTuple):
    """A run the worker is asked to find in its own cache instead of receiving it again: a run's
    history can be tens of MB, and every epoch a student looks at is a new trace of the same run."""
    experiment: object


class _Runs:
    """A worker's recent runs, by experiment: those it trained and those it was sent (bounded in bytes)."""

    def __init__(self, budget: int = 256 * 2**20):
        self.budget, self.items = budget, OrderedDict()

    def keep(self, run) -> None:
        size = sum(t.untyped_storage().nbytes() for t in run.history.params.values()) * 2 + 4096
        self.items[run.experiment] = (run, size)
        self.items.move_to_end(run.experiment)
        while len(self.items) > 1 and sum(s for _, s in self.items.values()) > self.budget:
            self.items.popitem(last=False)

    def resolve(self, x):
        """`x` with every RunRef replaced by the run it names; KeyError where this worker has none."""
        if isinstance(x, RunRef):
            run, _ = self.items[x.experiment]
            self.items.move_to_end(x.experiment)
            return run
        if isinstance(x, (list, tuple)) and any(isinstance(v, RunRef) for v in x):
            return type(x)(self.resolve(v) for v in x)
        return x


def _refs(x):
    """`x` with every Run replaced by a RunRef (the app's first try: the worker probably has it)."""
    from .engine import Run
    if isinstance(x, Run):
        return RunRef(x.experiment)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Run) for v in x):
        return type(x)(_refs(v) for v in x)
    return x


def _answer(task: str, args, kwargs, seconds: float, runs: _Runs) -> bytes:
    """Run a task under a deadline; the answer as plain pickle bytes (torch's multiprocessing pickler
    would move every tensor into shared memory and pass file descriptors). An ExplorerError goes back
    as (code, field, details): its custom __init__ does not unpickle. A run this worker no longer has
    is asked for ("need")."""
    from .engine import Run
    fn, part = TASKS[task]
    try:
        args = tuple(runs.resolve(a) for a in args)
        kwargs = {k: runs.resolve(v) for k, v in kwargs.items()}
    except KeyError:
        return pickle.dumps(("need",))
    for a in (*args, *kwargs.values()):
        for r in (a if isinstance(a, (list, tuple)) else (a,)):
            if isinstance(r, Run):
                runs.keep(r)
    try:
        if seconds <= 0:
            raise clock.too_slow(L.WALL_LIMIT, part)
        with clock.deadline(seconds, part):
            result = fn(*args, **kwargs)
        if isinstance(result, Run):
            runs.keep(result)
        out = ("ok", result)
    except ExplorerError as e:
        out = ("error", e.code, e.field, e.details)
    except Exception:      # noqa: BLE001 - a bug: the app logs it and shows the page without this part
        out = ("crash", traceback.format_exc())
    return pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)


def _serve(conn) -> None:
    """A worker's life: its start-up settings (one torch and OpenMP thread: workers share the box with
    each other and the app), then tasks until the pipe closes. gc.freeze(): the garbage collector would
    otherwise walk, and so copy-on-write, every object inherited from the forkserver (torch, explorer),
    turning ~200 MB of shared pages private."""
    import gc
    import torch
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    gc.freeze()
    runs = _Runs()
    while True:
        try:
            task, args, kwargs, deadline = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        conn.send_bytes(_answer(task, args, kwargs, deadline - time.monotonic(), runs))


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



# ------------------------------------------------------------------ the app side

class Turns:
    """`slots` handed out in turns between owners (sessions): each owner waiting has a queue, and a free
    slot goes to the waiting owner served least recently (one never served first), so a session waiting
    gets a worker before any other gets its next one. Heavy tasks (seconds, by their estimate) never take
    the last free slot of several, so a class's quick tasks are not queued behind them. A waiter gives up
    at its deadline (too_slow) or when its caller has gone (Cancelled)."""

    def __init__(self, slots: int):
        self._cond = threading.Condition()
        self._free = list(range(slots))
        self._heavy_slots = max(1, slots - 1)            # heavy tasks leave one worker to everyone else
        self._heavy_busy = 0
        self._queues: OrderedDict = OrderedDict()        # owner -> deque of tickets, in order of arrival
        self._served: dict = {}                          # owner -> when it last got a slot (a counter)
        self._count = 0

    def acquire(self, owner, deadline: float, part: str, heavy: bool = False) -> int:
        ticket = (object(), heavy)
        with self._cond:
            self._queues.setdefault(owner, deque()).append(ticket)
            try:
                while not (self._free and self._next() is ticket):
                    if clock.cancelled():
                        raise clock.Cancelled()
                    if time.monotonic() > deadline:
                        raise clock.too_slow(L.WALL_LIMIT, part)
                    self._cond.wait(POLL)
            except BaseException:
                self._drop(owner, ticket)
                raise
            self._drop(owner, ticket)
            self._heavy_busy += heavy
            self._count += 1
            self._served[owner] = self._count
            if len(self._served) > 4 * len(self._queues) + 64:        # forget sessions that stopped asking
                self._served = {o: c for o, c in self._served.items() if o in self._queues or o == owner}
            return self._free.pop()

    def release(self, slot: int, heavy: bool = False) -> None:
        with self._cond:
            self._free.append(slot)
            self._heavy_busy -= heavy
            self._cond.notify_all()

    def waiting(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())

    def _next(self):
        """The head ticket of the waiting owner served least recently (ties: the first to arrive) among
        those whose head may run now: a heavy one only while a worker stays free for the rest."""
        ready = [o for o, q in self._queues.items() if not q[0][1] or self._heavy_busy < self._heavy_slots]
        if not ready:
            return None
        return self._queues[min(ready, key=lambda o: self._served.get(o, 0))][0]

    def _drop(self, owner, ticket) -> None:
        q = self._queues.get(owner)
        if q is not None:
            q.remove(ticket)
            if not q:
                del self._queues[owner]
        self._cond.notify_all()


class _Worker:
    """One worker process and the app's end of its pipe."""

    def __init__(self, ctx: _Context):
        here, there = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, args=(there,), daemon=True, name="explorer-worker")
        self.process.start()
        there.close()
        self.conn = here

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return 0.0

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, TypeError):
            pass
        self.process.join(timeout=10)
        self.conn.close()


_lock = threading.RLock()
_ctx: _Context | None = None
_slots: list = []                  # slot -> _Worker or None (started on first use)
_turns: Turns | None = None
_busy = 0
_last_used = 0.0
_idle: threading.Thread | None = None


def _turns_for(size: int) -> Turns:
    """The turns over `size` slots (1 in-process), made again when the size changes (tests)."""
    global _turns, _slots
    with _lock:
        if _turns is None or len(_slots) != size:
            shutdown()
            _turns, _slots = Turns(size), [None] * size
        return _turns


def _worker(slot: int) -> _Worker:
    """The slot's worker, started (with the forkserver, the first time) if it has none or it died."""
    global _ctx, _idle
    with _lock:
        w = _slots[slot]
        if w is not None and w.alive():
            return w
        if w is not None:
            w.kill()
        _ctx = _ctx or _Context()
        _slots[slot] = w = _Worker(_ctx)
        if _idle is None or not _idle.is_alive():
            _idle = threading.Thread(target=_stop_when_idle, name="explorer-pool-idle", daemon=True)
            _idle.start()
        return w


def _retire(slot: int, w: _Worker) -> None:
    with _lock:
        if _slots and slot < len(_slots) and _slots[slot] is w:
            _slots[slot] = None
    w.kill()


def call(task: str, *args, estimate: float = math.inf, **kwargs):
    """`task(*args, **kwargs)` in a worker process (in this thread where there is none), in turn with
    other sessions; returns its result, or raises its ExplorerError, `too_slow` past the deadline, or
    clock.Cancelled when the caller has gone. Errors are never cached by the caller's Store.

    `estimate` is the budget's nanoseconds for the task: a quick one (under limits.LIGHT_TASK) runs in
    this thread at once, as a round trip to a worker would cost more than it; a heavy one (over
    limits.HEAVY_TASK) waits for a worker that is not the last one free."""
    global _busy, _last_used
    part = TASKS[task][1]
    deadline = time.monotonic() + min(L.WALL_LIMIT, clock.left())
    if estimate <= L.LIGHT_TASK * 1e9:
        with clock.deadline(min(L.RUN_LIMIT, deadline - time.monotonic()), part):
            return TASKS[task][0](*args, **kwargs)
    size = workers()
    heavy = estimate > L.HEAVY_TASK * 1e9
    turns = _turns_for(max(1, size))
    slot = turns.acquire(clock.owner(), deadline, part, heavy)
    with _lock:
        _busy += 1
    try:
        if size == 0:
            with clock.deadline(min(L.RUN_LIMIT, deadline - time.monotonic()), part):
                return TASKS[task][0](*args, **kwargs)
        return _ask(slot, task, args, kwargs, deadline, part)
    finally:
        with _lock:
            _busy -= 1
            _last_used = time.monotonic()
        turns.release(slot, heavy)


def _ask(slot: int, task: str, args, kwargs, deadline: float, part: str):
    """Send the task with runs by reference first; only a worker that lacks one gets it whole."""
    stop = min(deadline, time.monotonic() + L.RUN_LIMIT)
    light = (tuple(_refs(a) for a in args), {k: _refs(v) for k, v in kwargs.items()})
    out = _exchange(slot, task, *light, stop, part)
    if out[0] == "need":
        out = _exchange(slot, task, args, kwargs, stop, part)
    kind = out[0]
    if kind == "ok":
        return out[1]
    if kind == "error":
        _, code, field, details = out
        raise ExplorerError(code, field, **details)
    raise RuntimeError(f"task {task} failed in a worker:\n{out[1]}")


def _exchange(slot: int, task: str, args, kwargs, stop: float, part: str):
    payload = pickle.dumps((task, args, kwargs, stop), protocol=pickle.HIGHEST_PROTOCOL)
    for attempt in (1, 2):
        w = _worker(slot)
        try:
            w.conn.send_bytes(payload)
            break
        except (OSError, EOFError):          # the worker died between tasks: a fresh one, once
            _retire(slot, w)
            if attempt == 2:
                raise ExplorerError("worker_lost", clock.field(part), what=clock.PARTS[part]) from None
    while not w.conn.poll(POLL):
        if not w.alive():
            break
        why = None
        if clock.cancelled():
            why = clock.Cancelled()
        elif time.monotonic() > stop:
            why = clock.too_slow(min(L.RUN_LIMIT, L.WALL_LIMIT), part)
        elif w.rss_mb() > L.MAX_WORKER_MB:
            why = ExplorerError("too_much_memory_live", clock.field(part), what=clock.PARTS[part],
                                limit=L.MAX_WORKER_MB)
        if why is not None:
            log.info("stopping worker %s (%s): %s", w.pid, task, type(why).__name__)
            _retire(slot, w)
            raise why
    try:
        return pickle.loads(w.conn.recv_bytes())
    except (EOFError, OSError):
        _retire(slot, w)
        raise ExplorerError("worker_lost", clock.field(part), what=clock.PARTS[part]) from None


def _stop_when_idle() -> None:
    """Stop the workers and the forkserver after IDLE_STOP seconds without a call: an idle app then holds
    only its own process's memory; the next call pays the forkserver's start (~2 s) again."""
    while True:
        time.sleep(min(IDLE_STOP / 4, 1.0))
        with _lock:
            if _busy or time.monotonic() - _last_used < IDLE_STOP:
                continue
            if _ctx is None and not any(_slots):
                return
        shutdown()
        return


def shutdown() -> None:
    """Stop the workers and the forkserver (tests; when idle; at exit). A later call starts them again."""
    global _ctx
    with _lock:
        ws, ctx = [w for w in _slots if w is not None], _ctx
        for i in range(len(_slots)):
            _slots[i] = None
        _ctx = None
    for w in ws:
        w.kill()
    if ctx is not None:
        ctx.stop()


atexit.register(shutdown)


def start() -> None:
    """Start the forkserver and one worker in the background, so the first visitor does not wait for them."""
    if workers() > 0:
        _turns_for(workers())
        threading.Thread(target=_worker, args=(0,), name="explorer-pool-start", daemon=True).start()


def run(exp, estimate: float = math.inf):
    """`explorer.run(exp)` in a worker: the same Run, bit for bit, or the same ExplorerError."""
    return call("train", exp, estimate=estimate)
