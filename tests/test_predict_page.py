"""Predict mode and lessons on the page, driven through AppTest: a question waits until it is answered,
its value is nowhere on the page meanwhile, answers are judged against the run's own float32 values."""
from __future__ import annotations

import pytest
import torch

import explorer
from explorer import PRESETS, compute, lessons
from explorer.numbers import float32

from test_app import app, open_tab, step_slider


def questions(name: str, epoch: int = 1) -> dict:
    return compute.questions(explorer.run(PRESETS[name]), epoch)


def text_of(value) -> str:
    return str(float32(value.tolist()))


def page_text(at) -> str:
    """Every piece of text the page shows (markdown, captions, messages) and the graph's DOT."""
    parts = [m.value for m in (*at.markdown, *at.caption, *at.success, *at.error, *at.info, *at.warning)]
    return "\n".join(parts + [g.proto.spec for g in at.get("graphviz_chart")])


def step(at) -> int:
    return step_slider(at).value


def next_step(at):
    return at.button(key="step_next").click().run()


def guess(at, text: str | None, button: str = "check"):
    if text is not None:
        at.text_input(key="guess").input(text)
    return at.button(key=button).click().run()


def to_last_question(at, qs: dict):
    """Step through, revealing every question before the last one, and stop at the last."""
    for k in sorted(qs):
        while step(at) < k:
            next_step(at)
        if k < max(qs):
            guess(at, None, "reveal")
    return at


def test_a_predict_link_opens_at_step_0_and_stops_at_the_first_question():
    qs = questions("single_step")
    first = min(qs)
    at = app(preset="single_step", predict="1")
    assert not at.exception and step(at) == 0
    assert at.toggle(key="predict").value is True
    while step(at) < first:
        next_step(at)
    assert step(at) == first
    next_step(at)                    # Next at a waiting step: stays there
    assert step(at) == first
    assert any("Your turn" in m.value for m in at.markdown)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "?" in dot
    assert at.text_input(key="guess").value in ("", None)


def test_a_waiting_answer_is_nowhere_on_the_page():
    """At the step that asks, the value asked for is in no label, explanation, gradient check or told tab."""
    qs = questions("single_step")
    last = max(qs)
    at = to_last_question(app(preset="single_step", predict="1"), qs)
    answer = text_of(qs[last].value)           # the update: w after the step, [9.6, 19.2]
    assert answer == "[9.6, 19.2]"
    shown = page_text(at)
    assert "9.6" not in shown and "19.2" not in shown
    assert not at.get("gradcheck") and any("gradient check shows once" in c.value for c in at.caption)
    for tab in ("curves", "log"):
        at = open_tab(at, tab)
        assert not at.exception
        assert any("Predicting" in i.value for i in at.info), tab
        assert not at.get("plotly_chart")
        assert "9.6" not in page_text(at)


def test_check_right_wrong_and_reveal_with_score():
    qs = questions("single_step")
    steps = sorted(qs)
    at = app(preset="single_step", predict="1")
    for n, k in enumerate(steps):
        while step(at) < k:
            next_step(at)
        assert step(at) == k
        if n == 0:
            guess(at, text_of(qs[k].value))
            assert not at.exception
            assert at.success and at.success[0].value.startswith("Right")
            assert any("1 of 1 right" in c.value for c in at.caption)
        elif n == 1:
            guess(at, str((-qs[k].value).tolist()))                  # the sign flipped
            assert at.error and "sign" in at.error[0].value.lower()
            assert any("1 of 2 right" in c.value for c in at.caption)
        else:
            guess(at, None, "reveal")
    assert any("The answer: [9.6, 19.2]" in i.value for i in at.info)
    assert "9.6" in page_text(at)
    assert "?" not in at.get("graphviz_chart")[0].proto.spec
    assert any(f"1 of {len(steps)} right" in c.value for c in at.caption)
    at = open_tab(at, "curves")                  # every question answered: the told tabs tell
    assert at.get("plotly_chart") and not any("Predicting" in i.value for i in at.info)


def test_a_guess_that_does_not_read_says_why_beside_the_box_and_keeps_the_text():
    qs = questions("single_step")
    at = app(preset="single_step", predict="1")
    while step(at) < min(qs):
        next_step(at)
    guess(at, "[1, 2")
    assert not at.exception and at.error
    assert at.text_input(key="guess").value == "[1, 2"
    assert step(at) == min(qs)
    guess(at, "")
    at.text_input(key="guess").set_value("")
    at.button(key="check").click().run()
    assert any("Type an answer first" in e.value for e in at.error)


def test_a_wrong_shape_is_named():
    qs = questions("single_step")
    at = to_last_question(app(preset="single_step", predict="1"), qs)
    guess(at, "[1, 2, 3]")
    assert at.error and "shape" in at.error[0].value


def test_predict_speaks_chinese():
    qs = questions("single_step")
    at = app(preset="single_step", predict="1", lang="zh")
    while step(at) < min(qs):
        next_step(at)
    assert at.toggle(key="predict").label == "先猜再看"
    assert any("梯度" in m.value for m in at.markdown)
    guess(at, text_of(qs[min(qs)].value))
    assert at.success and at.success[0].value.startswith("答对了")
    assert any("答对 1 / 1 题" in c.value for c in at.caption)


def test_the_toggle_turns_predicting_on_at_step_0_and_off_shows_everything():
    at = app(preset="single_step")
    assert step(at) == 4                      # a plain link shows backward done
    at.toggle(key="predict").set_value(True).run()
    assert step(at) == 0 and at.query_params.get("predict") in ("1", ["1"])
    at.toggle(key="predict").set_value(False).run()
    for _ in range(4):
        next_step(at)
    assert step(at) == 4 and "?" not in at.get("graphviz_chart")[0].proto.spec


def test_big_answers_ask_for_one_element():
    exp = PRESETS["mlp"]
    run = explorer.run(exp)
    qs = compute.questions(run, 1)
    big = [q for q in qs.values() if q.element is not None]
    assert big, "the mlp's weights are too big to type: one element is asked"
    for q in big:
        assert q.value.numel() == 1 and len(q.element) == len(q.shape)


# lessons ---------------------------------------------------------------------------------------------

def test_the_course_lesson_is_in_the_course_order_and_every_part_asks_from_its_own_run():
    parts = lessons.LESSONS["course"]
    assert [p.key for p in parts] == ["leaf", "update", "epochs", "zero_grad", "detach", "linear", "lr", "inplace"]
    for p in parts:
        run = explorer.run(p.experiment)
        graph = run.trace(p.epoch)
        asked = lessons.questions(p, run, graph)
        assert asked, p.key
        for q in asked.values():
            assert torch.isfinite(q.value).all()
        assert p.title[0] and p.title[1] and p.text[0] and p.text[1]
    three = lessons.part("course", 3)
    run = explorer.run(three.experiment)
    (q,) = [q for q in lessons.questions(three, run, run.trace(500)).values() if q.kind == "update"]
    assert torch.equal(q.value.reshape(-1), run.history.params["w"][500].reshape(-1))       # w after step 500


def test_the_inplace_part_shows_autograd_recording_the_in_place_add():
    p = lessons.part("course", 8)
    dot = compute.dot_of(explorer.run(p.experiment), 1, None, False, "en")
    assert "AddBackward0" in dot and "MulBackward0" in dot


@pytest.mark.parametrize("k", [1, 4, 8])
def test_a_lesson_link_opens_its_part(k):
    p = lessons.part("course", k)
    at = app(lesson="course", part=str(k))
    assert not at.exception and not at.error
    assert any(f"Part {k} of 8" in m.value for m in at.markdown)
    assert any(p.title[0] in m.value for m in at.markdown)
    assert step(at) == 0
    assert at.toggle(key="predict").value is True
    if p.epoch > 1:
        assert any(s.value == p.epoch for s in at.slider)


def test_lesson_next_and_back_keep_the_part_in_the_url():
    at = app(lesson="course", part="3")
    assert at.button(key="lesson_prev").disabled is False
    at.button(key="lesson_next").click().run()
    assert not at.exception
    assert at.query_params.get("part") in ("4", ["4"]) and at.query_params.get("lesson") in ("course", ["course"])
    assert any("Part 4 of 8" in m.value for m in at.markdown)
    assert any(s.value == 2 for s in at.slider)              # forgetting zero_grad looks at epoch 2
    at.button(key="lesson_prev").click().run()
    at.button(key="lesson_prev").click().run()
    assert any("Part 2 of 8" in m.value for m in at.markdown)
    at = app(lesson="course", part="8")
    assert at.button(key="lesson_next").disabled
    at = app(lesson="course", part="1")
    assert at.button(key="lesson_prev").disabled


def test_a_lesson_in_chinese_and_its_close_button():
    at = app(lesson="course", part="2", lang="zh")
    assert any("第 2 / 8 部分" in m.value for m in at.markdown)
    assert any("一次更新" in m.value for m in at.markdown)
    at.button(key="lesson_close").click().run()
    assert not at.exception and at.query_params.get("lesson") in (None, [], "")
    assert not any("第 2 / 8 部分" in m.value for m in at.markdown)


def test_a_lesson_question_answered_right_counts():
    p = lessons.part("course", 2)
    run = explorer.run(p.experiment)
    qs = lessons.questions(p, run, run.trace(1))
    assert [q.kind for q in qs.values()] == ["grad", "update"]
    at = app(lesson="course", part="2")
    for k, q in qs.items():
        while step(at) < k:
            next_step(at)
        assert step(at) == k
        guess(at, text_of(q.value) if q.kind == "update" else None, "check" if q.kind == "update" else "reveal")
    assert at.success and any("1 of 2 right" in c.value for c in at.caption)
