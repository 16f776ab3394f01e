"""What the page needs from Streamlit's internals, behind one adapter: who the session is, and whether
the run that asked for a computation is still wanted.

Streamlit stops a script run only at its next `st.*` call, and a run waiting for a worker makes none,
so the page asks here instead (`ScriptRequests`: a STOP, or a rerun that preempts this run). Where
those internals change, this answers "still wanted" and the work simply finishes (`clock` still bounds
it), so an upgrade degrades to what Streamlit does anyway.
"""
from __future__ import annotations

import functools
import logging

import streamlit as st

from explorer import clock

log = logging.getLogger(__name__)

try:
    from streamlit.runtime.scriptrunner_utils.script_requests import (ScriptRequestType,
                                                                       _fragment_run_should_not_preempt_script)
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
except ImportError:                   # pragma: no cover - another Streamlit: nothing is cancelled early
    get_script_run_ctx = None


def _gone(requests):
    def gone() -> bool:
        try:
            state = requests._state
            if state == ScriptRequestType.STOP:
                return True
            data = requests._rerun_data
            return state == ScriptRequestType.RERUN and not _fragment_run_should_not_preempt_script(
                data.fragment_id_queue, data.is_fragment_scoped_rerun)
        except AttributeError:        # pragma: no cover - internals changed
            return False
    return gone


def bind() -> None:
    """Tell `clock` who this run works for: the session (turns at the workers) and whether it is still wanted."""
    ctx = get_script_run_ctx() if get_script_run_ctx else None
    requests = getattr(ctx, "script_requests", None)
    clock.set_caller(getattr(ctx, "session_id", None), _gone(requests) if requests is not None else None)


def guarded(fn):
    """A page part (the script, a fragment) that binds its caller first and, when the run is no longer
    wanted, ends quietly instead of showing the interruption."""
    @functools.wraps(fn)
    def part(*args, **kwargs):
        bind()
        try:
            return fn(*args, **kwargs)
        except clock.Cancelled:
            st.stop()
    return part
