"""Predict mode and lessons in Chromium: → at a question puts the cursor in the answer box and never
reveals, Enter checks, Reveal tells the room; a lesson link opens its part; projected, the question is big."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from test_browser import TIMEOUT, open_app, settle

FOCUSED_IN_GUESS = "() => !!document.activeElement && !!document.activeElement.closest('.st-key-guess')"


def at_step(page: Page, k: int) -> None:
    expect(page.locator(".st-key-explain")).to_contain_text(f"Step {k} of", timeout=TIMEOUT)
    settle(page)


def test_arrow_keys_stop_at_a_question_enter_checks_and_reveal_tells(page: Page, app_url, shot):
    page.set_viewport_size({"width": 1280, "height": 900})
    open_app(page, f"{app_url}/?preset=single_step&predict=1")
    at_step(page, 0)
    page.keyboard.press("ArrowRight")
    at_step(page, 1)
    question = page.locator(".st-key-question")
    expect(question).to_contain_text("Your turn", timeout=TIMEOUT)
    page.keyboard.press("ArrowRight")                # a question waits: → puts the cursor in the box
    page.wait_for_function(FOCUSED_IN_GUESS, timeout=TIMEOUT)
    at_step(page, 1)
    shot(page, "predict_question")
    page.keyboard.type("[1, 1]")
    page.keyboard.press("Enter")
    expect(question.locator("[data-testid='stAlertContentSuccess']")).to_contain_text("Right", timeout=TIMEOUT)
    expect(page.locator(".st-key-score")).to_contain_text("1 of 1 right", timeout=TIMEOUT)
    shot(page, "predict_right")
    page.keyboard.press("ArrowRight")
    at_step(page, 2)
    page.locator(".st-key-guess input").fill("[-2, -2]")
    page.locator(".st-key-guess input").press("Enter")
    expect(question.locator("[data-testid='stAlertContentError']")).to_contain_text("sign", timeout=TIMEOUT)
    expect(page.locator(".st-key-score")).to_contain_text("1 of 2 right", timeout=TIMEOUT)
    shot(page, "predict_wrong")
    page.get_by_role("button", name="Next").click()
    at_step(page, 3)
    page.locator(".st-key-reveal button").click()
    expect(question).to_contain_text("The answer: [40, 80]", timeout=TIMEOUT)
    expect(page.locator(".st-key-explain")).to_contain_text("40", timeout=TIMEOUT)


def test_projected_question_is_big_and_reveal_shows_the_room(page: Page, app_url, shot):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_app(page, f"{app_url}/?preset=single_step&predict=1&proj=1&hide=inputs")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    question = page.locator(".st-key-question")
    expect(question).to_be_visible(timeout=TIMEOUT)
    settle(page)
    box = question.bounding_box()
    assert box["y"] + box["height"] <= 720, box              # the question is on the wall's first screen
    graph = page.locator("[data-testid='stGraphVizChart'] svg").first.bounding_box()
    assert graph["height"] >= 100 and graph["y"] + graph["height"] <= box["y"] + 1, graph    # and the graph above it
    px = question.locator("p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert px >= 24, px
    shot(page, "predict_projected_question")
    question.locator(".st-key-reveal button").click()
    expect(question.locator("[data-testid='stAlertContentInfo']")).to_contain_text("The answer", timeout=TIMEOUT)
    px = question.locator("[data-testid='stAlertContentInfo'] p").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert px >= 24, px
    shot(page, "predict_projected_reveal")


@pytest.mark.parametrize("lang, label", [("en", "Part 4 of 8"), ("zh", "第 4 / 8 部分")])
def test_a_lesson_link_opens_its_part_and_next_moves_on(page: Page, app_url, shot, lang, label):
    page.set_viewport_size({"width": 1280, "height": 900})
    open_app(page, f"{app_url}/?lesson=course&part=4&lang={lang}")
    panel = page.locator(".st-key-lesson")
    expect(panel).to_contain_text(label, timeout=TIMEOUT)
    settle(page)
    shot(page, f"lesson_part4_{lang}")
    panel.locator(".st-key-lesson_next button").click()
    expect(panel).to_contain_text(label.replace("4", "5", 1), timeout=TIMEOUT)
    page.wait_for_function("() => location.search.includes('part=5')", timeout=TIMEOUT)
    settle(page)
    shot(page, f"lesson_part5_{lang}")
