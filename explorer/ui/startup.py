"""What the app does once per process, when the server starts: never on import.

`settle()` makes the process-wide settings (one torch thread: many sessions share the box) and imports
everything the page uses, then freezes it out of the garbage collector. `warm()` also computes every
example's first page before the first visitor asks for one: on a server that has just started (a hosted
demo that slept, every morning's first student) the first visitor used to wait 7 s for imports, the
worker pool and training. `streamlit_app.py` runs `warm()` before the server answers; the page itself
calls `settle()`, which is done by then and free.
"""
from __future__ import annotations

import gc
import logging
import threading

log = logging.getLogger(__name__)
_lock = threading.Lock()
_settled = False


def settle() -> None:
    """One torch thread, the page's imports, then gc.freeze(): what the page imports (streamlit, torch,
    plotly, pandas: millions of objects) lives as long as the server, and the collector's full passes
    would otherwise walk it all."""
    global _settled
    with _lock:
        if _settled:
            return
        import torch
        torch.set_num_threads(1)
        import pandas  # noqa: F401
        import plotly.graph_objects  # noqa: F401

        from explorer import compute  # noqa: F401
        from explorer.ui import header, results, running, session, sidebar  # noqa: F401
        gc.freeze()
        _settled = True


def warm() -> None:
    """Every example's opening page, computed into the shared caches: its run, its last epoch's graph,
    the graph's DOT and the explanation of its last step in both languages, and the gradient check (the
    worker pool starts with the first of these). A failure is logged, never fatal: the page computes
    whatever is missing when asked."""
    settle()
    from explorer import PRESETS, compute
    for exp in PRESETS.values():
        try:
            run = compute.train(exp)
            graph = compute.graph_of(run, 1)
            for lang in ("en", "zh"):
                compute.dot_of(run, 1, graph.steps, False, lang)
                compute.explanation(run, 1, graph.steps, lang)
            compute.gradcheck(run, 1)
        except Exception:      # noqa: BLE001 - warming is an optimisation
            log.exception("warming %r failed", exp)
