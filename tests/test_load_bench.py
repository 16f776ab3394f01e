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


# ------------------------------------------------------------------ hostile visitors (bench/hostile.py)

def _hostile_links():
    from bench import hostile
    from explorer import PRESETS
    mlp = PRESETS["mlp"]
    return (hostile.Link("small", "a cheap link with every tab and both slices", mlp.replace(epochs=40)),
            hostile.Link("refused", "more work than the budget accepts", hostile._edge_mlp().replace(epochs=10_000),
                         {"tab": 4}))


def test_hostile_visitor_beside_one_student(app_url):
    """`bench load --hostile 1` in small: a student's eight reruns all take while a visitor opens links,
    whose page views visit every tab (both slices, the whole race) and are judged shown or refused."""
    from bench import hostile
    small, refused = _hostile_links()
    with concurrent.futures.ThreadPoolExecutor(1) as own_loop:
        async def play():
            alone = [await hostile.page_view(app_url, link, 60, seed=7) for link in (small, refused)]
            results, views = await hostile.with_class(1, app_url, 1, [small, refused], 60, think=load.STRESS,
                                                      student_timeout=60)
            return alone, results, views
        (shown, bad), results, views = own_loop.submit(asyncio.run, play()).result()
    assert [s.name for s in shown.steps] == ["open: graph", "curves", "log", "code", "landscape",
                                             "landscape: random", "race", "race: moved"]
    assert [(s.name, s.outcome, s.message) for s in shown.steps if s.outcome != "shown"] == []
    assert shown.outcome == ("shown", "") and not shown.cut_short
    assert all(s.latency is not None and s.latency > 0 for s in shown.steps)
    assert bad.steps[0].name == "open: landscape" and bad.outcome[0] == "refused"
    assert "10000" in bad.outcome[1] or "10,000" in bad.outcome[1]       # the budget's own message
    assert [r.action for r in results] == list(load.ACTIONS)
    assert [f"{r.action}: {r.error}" for r in results if r.error] == []
    assert views and views[0].link == "small" and all(v.session == 0 for v in views)
    assert all(v.cut_short in ("", "unfinished") for v in views)
    assert "| small" in hostile.views_table([(1, views)])


def test_hostile_page_judged_from_its_alerts():
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from bench import hostile

    def page(*alerts, markdown=None):
        tab = load.Tab("http://127.0.0.1:1", {}, 1.0)
        for i, (fmt, icon, body) in enumerate(alerts):
            msg = ForwardMsg()
            msg.metadata.delta_path[:] = [0, i]
            a = msg.delta.new_element.alert
            a.format, a.icon, a.body = fmt, icon, body
            tab._apply(msg)
        if markdown:
            msg = ForwardMsg()
            msg.metadata.delta_path[:] = [1, 0]
            msg.delta.new_element.markdown.body = markdown
            tab._apply(msg)
        return hostile.judge(tab)

    from streamlit.proto.Alert_pb2 import Alert
    E, W, I = Alert.ERROR, Alert.WARNING, Alert.INFO  # noqa: E741
    stale = load.TEXT["stale"][0].format(field="**Epochs**")
    assert page() == ("shown", "")
    assert page((I, ":material/lightbulb:", "The loss has shape (3,)"), (W, ":material/warning:",
                "**Kink** at epoch 1: `w` has 1 element(s)")) == ("shown", "")
    assert page((W, ":material/history:", stale), (E, ":material/error:", "This run would do about 1e10")) == \
        ("refused", "This run would do about 1e10")
    assert page((E, ":material/error:", "The server could not finish")) == ("cut", "The server could not finish")
    assert page((I, ":material/hourglass:", "Left out: this page's budget is spent")) == \
        ("cut", "Left out: this page's budget is spent")
    assert page(markdown="- `w` (1×10000): not checked, this loss is too big to run twice per element.")[0] == "cut"
    assert page(markdown="- `w` (2): all 2 elements checked")[0] == "shown"
    assert page((W, "", load.TEXT["gradcheck_failed"][0]))[0] == "failed"
