"""The moves a class makes, in sequences, in the real browser: ← / → presses (in bursts), Back / Next
clicks, the example and language pickers, the tabs and the epoch slider, seeded.

After every move the page settles where a model of the page says it should: the address names the
example, language, tab, epoch and step the moves lead to, the step shown is that step, and the share
box offers that address. At the end of each walk the share link, opened in a new tab, shows the same
page: example, language, tab, epoch, step and graph.

CI runs WALKS seeded walks of MOVES moves; EXPLORER_BROWSER_WALKS=200 runs more (and longer ones).
"""
from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Page, expect

from explorer import PRESETS, compute
from explorer.presets import EXAMPLES
from explorer.ui.text import TEXT

TIMEOUT = 60_000
MORE = int(os.environ.get("EXPLORER_BROWSER_WALKS") or 0)
WALKS = MORE or 20
MOVES = 12 if MORE else 6
EXAMPLES_USED = ["single_step", "multi_epoch", "linear_layer", "detach_target", "mlp", "forgot_zero_grad"]
TABS = ["graph", "curves", "log", "code"]
LANGS = {"en": "English", "zh": "简体中文"}


def steps_of(preset: str) -> int:
    run = compute.train(PRESETS[preset])
    return compute.graph_of(run, 1).steps


def epochs_of(preset: str) -> int:
    return len(compute.train(PRESETS[preset]).history)


@dataclass(frozen=True)
class Model:
    """What the page should show: the example, language, tab, epoch asked for and step (None: the last)."""
    preset: str
    lang: str = "en"
    tab: str = "graph"
    epoch: int = 1
    step: int | None = None

    @property
    def last(self) -> int:
        return steps_of(self.preset)

    @property
    def shown_epoch(self) -> int:
        return min(self.epoch, epochs_of(self.preset))

    def query(self) -> dict[str, str]:
        q = {"lang": self.lang, "preset": self.preset}
        if self.epoch != 1:
            q["epoch"] = str(self.epoch)
        if self.step is not None:
            q["step"] = str(self.step)
        if self.tab != "graph":
            q["tab"] = self.tab
        return q

    def stepped(self, delta: int) -> "Model":
        now = self.last if self.step is None else self.step
        step = min(self.last, max(0, now + delta))
        return replace(self, step=None if step == self.last else step)


def params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def settle(page: Page, model: Model) -> None:
    """Wait for the address the model predicts, then for the run to finish."""
    want = model.query()
    for _ in range(300):
        if params(page.url) == want:
            break
        page.wait_for_timeout(100)
    assert params(page.url) == want, (params(page.url), want)
    page.wait_for_timeout(150)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT)


def step_shown(page: Page) -> int | None:
    slider = page.locator(".st-key-step input[type='range']")
    return int(slider.input_value()) if slider.count() else None


def check(page: Page, model: Model) -> None:
    settle(page, model)
    title = EXAMPLES[model.preset].title[1 if model.lang == "zh" else 0]
    expect(page.locator(f".st-key-preset_{model.lang} input")).to_have_value(title, timeout=TIMEOUT)
    if model.tab == "graph":
        expect(page.locator("html[data-steps]")).to_have_count(1, timeout=TIMEOUT)     # the page counts presses
        want = model.last if model.step is None else model.step
        if model.last > 0:
            expect(page.locator(".st-key-step input[type='range']")).to_have_value(str(want), timeout=TIMEOUT)
        words = (f"Step {want} of {model.last} · epoch {model.shown_epoch}" if model.lang == "en" else
                 f"第 {want} / {model.last} 步 · 第 {model.shown_epoch} 轮")
        expect(page.get_by_test_id("stMain")).to_contain_text(words, timeout=TIMEOUT)
    share = page.locator(".st-key-share input[data-link='share']")
    expect(share).to_have_value(page.url, timeout=TIMEOUT)


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("[data-testid='stMain'] h1")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT)


def seen(page: Page, model: Model) -> dict:
    """What a reader sees of the page: the example box, the title, the open tab, the graph."""
    tab_label = TEXT[f"tab_{model.tab}"][1 if model.lang == "zh" else 0]
    expect(page.get_by_role("tab", name=tab_label)).to_have_attribute("aria-selected", "true", timeout=TIMEOUT)
    out = {"example": page.locator(f".st-key-preset_{model.lang} input").input_value(),
           "title": page.locator("[data-testid='stMain'] h1").inner_text()}
    if model.tab == "graph":
        svg = page.locator("[data-testid='stGraphVizChart'] svg").first
        expect(svg).to_be_visible(timeout=TIMEOUT)
        out["graph"] = svg.text_content()
        out["step"] = step_shown(page)
    return out


# ------------------------------------------------------------------ the moves

def keys(page: Page, model: Model, rng: random.Random) -> Model:
    """A burst of ← / → presses, without waiting between them (the page counts every one)."""
    page.locator("[data-testid='stMain'] h1").click()        # the focus off any field, as a teacher clicks the page
    for _ in range(rng.randint(1, 4)):
        delta = rng.choice([-1, 1])
        page.keyboard.press("ArrowLeft" if delta < 0 else "ArrowRight")
        model = model.stepped(delta)
    return model


def clicks(page: Page, model: Model, rng: random.Random) -> Model:
    """One to three clicks on Back or Next in one go; a disabled button takes none."""
    delta = rng.choice([-1, 1])
    n = rng.randint(1, 3)
    button = page.locator(".st-key-step_prev button" if delta < 0 else ".st-key-step_next button").first
    if button.is_disabled():
        return model
    button.evaluate(f"b => {{ for (let i = 0; i < {n}; i++) b.click(); }}")
    for _ in range(n):
        model = model.stepped(delta)
    return model


def example(page: Page, model: Model, rng: random.Random) -> Model:
    choice = rng.choice([e for e in EXAMPLES_USED if e != model.preset])
    title = EXAMPLES[choice].title[1 if model.lang == "zh" else 0]
    page.locator(f".st-key-preset_{model.lang}").click()
    page.get_by_role("option", name=title, exact=True).click()
    return replace(model, preset=choice, step=None)


def language(page: Page, model: Model, rng: random.Random) -> Model:
    other = "zh" if model.lang == "en" else "en"
    page.locator(".st-key-lang").get_by_text(LANGS[other], exact=True).click()
    return replace(model, lang=other)


def tab(page: Page, model: Model, rng: random.Random) -> Model:
    name = rng.choice([t for t in TABS if t != model.tab] + ["graph"])
    page.get_by_role("tab", name=TEXT[f"tab_{name}"][1 if model.lang == "zh" else 0]).click()
    return replace(model, tab=name)


def epoch(page: Page, model: Model, rng: random.Random) -> Model:
    """Arrow keys on the epoch slider."""
    n = epochs_of(model.preset)
    slider = page.locator(".st-key-epoch input[type='range']")
    delta = rng.choice([-1, 1]) * rng.randint(1, 3)
    target = min(n, max(1, model.shown_epoch + delta))
    slider.focus()
    for _ in range(abs(target - model.shown_epoch)):
        slider.press("ArrowRight" if delta > 0 else "ArrowLeft")
    return replace(model, epoch=target) if target != model.shown_epoch else model


def moves_for(model: Model) -> list:
    on_graph = model.tab == "graph"
    out = [example, language, tab]
    if on_graph:
        out += [keys, keys, clicks, clicks]
    if epochs_of(model.preset) > 1:
        out.append(epoch)
    return out


@pytest.mark.parametrize("seed", range(WALKS))
def test_a_walk_through_the_page(page: Page, app_url, shot, seed):
    rng = random.Random(seed)
    page.set_viewport_size({"width": 1280, "height": 720})
    model = Model(preset=rng.choice(EXAMPLES_USED), lang=rng.choice(["en", "zh"]))
    open_page(page, f"{app_url}/?lang={model.lang}&preset={model.preset}")
    check(page, model)
    done = []
    for _ in range(MOVES):
        move = rng.choice(moves_for(model))
        model = move(page, model, rng)
        done.append(move.__name__)
        try:
            check(page, model)
        except AssertionError:
            shot(page, f"walk_{seed}_failed")
            raise AssertionError(f"after {done}: expected {model}, the page is at {page.url}") from None
    link = page.locator(".st-key-share input[data-link='share']").input_value()
    mine = seen(page, model)
    other = page.context.new_page()
    other.set_viewport_size({"width": 1280, "height": 720})
    open_page(other, link)
    check(other, model)
    assert seen(other, model) == mine, done
    if seed == 0:
        shot(page, "walk_0")
    other.close()
