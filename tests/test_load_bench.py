"""`python -m bench load` smoke test: one student's eight reruns all take on a live server.

It guards the bench's protocol handling (widget states, the fragment rerun, the URL checks), so
a broken client cannot pass off as a slow or failing app. Speed is not asserted.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os

import pytest

from bench import load

pytestmark = pytest.mark.skipif(
    "PYTEST_XDIST_WORKER" in os.environ,
    reason="drives a live server with real timing: run it in a plain `python -m pytest`, not under xdist")


def test_one_student_all_reruns_take(app_url):
    with concurrent.futures.ThreadPoolExecutor(1) as own_loop:     # pytest-playwright runs a loop in this thread
        results = own_loop.submit(asyncio.run, load.run_class(1, app_url, think=load.STRESS, timeout=60)).result()
    assert [r.action for r in results] == list(load.ACTIONS)
    assert [f"{r.action}: {r.error}" for r in results if r.error] == []
    assert all(r.latency is not None and r.latency > 0 for r in results)


def test_a_broken_page_or_unchanged_url_counts_as_failed():
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    tab = load.Tab("http://127.0.0.1:1", {}, 1.0)
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = [0, 3]
    msg.delta.new_element.alert.body = load.TEXT["graph_failed"][1]
    tab._apply(msg)
    tab.query = "lang=en&preset=mlp&epochs=301"
    assert len(tab.page_errors()) == 1
    assert load._expect(tab, epochs="301", lang="en") == []
    assert load._expect(tab, lang="zh") == ["URL has lang='en', expected 'zh'"]
