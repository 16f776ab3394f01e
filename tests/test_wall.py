"""The teacher's screen for real models, measured in the browser: on a classroom link (`proj=1&hide=inputs`)
at 1280x720 and 1920x1080, every step of the course's linear layer and MLP reads from the back row with its
explanation beside it, and every chart of the Curves, Landscape and Race tabs is whole on one screen."""
from __future__ import annotations

import statistics

import pytest
from playwright.sync_api import Page, expect

from explorer import PRESETS, run

from test_browser import TIMEOUT, open_app, settle

SIZES = [(1280, 720), (1920, 1080)]
# Rendered graph text on the wall: 18 px on a 1920-wide screen; 14 px on a 1280-wide one (21 px in
# 1920 terms: the same wall, a coarser screen).
TEXT_PX = {1280: 14, 1920: 18}

GEOMETRY = """() => {
    const inside = (el) => el.closest("[class*='st-key-wall_map']");
    const charts = [...document.querySelectorAll("[data-testid='stGraphVizChart'] svg")];
    const svg = charts.find((s) => !inside(s)), map = charts.find(inside);
    const k = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const px = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim())
        .map((t) => parseFloat(getComputedStyle(t).fontSize) * k);
    const bottom = (el) => el ? el.getBoundingClientRect().bottom : null;
    return {px, graph: bottom(svg), map: bottom(map), explain: bottom(document.querySelector(".st-key-explain")),
            back: bottom(document.querySelector(".st-key-step_prev button")),
            next: bottom(document.querySelector(".st-key-step_next button")),
            text: svg.textContent, vh: innerHeight};
}"""


@pytest.mark.parametrize("vw, vh", SIZES)
@pytest.mark.parametrize("preset", ["linear_layer", "mlp"])
def test_every_step_reads_on_the_wall(page: Page, app_url, shot, preset, vw, vh):
    """Walked back from the last step with ←: the step's part of the graph at >= 14 / 18 px (median of
    its texts, as drawn), the whole graph as a map, the explanation and Back / Next, all on the first screen."""
    page.set_viewport_size({"width": vw, "height": vh})
    open_app(page, f"{app_url}/?preset={preset}&hide=inputs&proj=1")
    explanation = page.locator(".st-key-explain")
    graph = run(PRESETS[preset]).graph
    seen = []
    for k in range(graph.steps, -1, -1):
        expect(explanation).to_contain_text(f"Step {k} of", timeout=TIMEOUT)
        settle(page)
        page.wait_for_timeout(400)              # the graph is fitted once the page has measured it
        g = page.evaluate(GEOMETRY)
        median = statistics.median(g["px"])
        seen.append(round(median, 1))
        assert median >= TEXT_PX[vw], (k, seen)
        assert g["map"] is not None, k          # the whole graph stays in view as a map
        for what in ("graph", "map", "explain", "back", "next"):
            assert g[what] <= vh + 0.5, (k, what, g)
        centre = graph.step(k) if k else graph.node("loss")
        assert (centre.op or centre.label) in g["text"], k        # the focus is the step's own node
        if k in (graph.steps, 4, 0):
            shot(page, f"wall_{preset}_{vw}x{vh}_step{k}")
        page.keyboard.press("ArrowLeft")
    print(f"{preset} {vw}x{vh} median graph text px by step (last to 0): {seen}")


def scroll_to_tabs(page: Page) -> None:
    page.locator("[data-testid='stTabs'] [role='tablist']").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)


def chart_boxes(page: Page) -> list[dict]:
    return page.locator("[data-testid='stPlotlyChart']").evaluate_all(
        "cs => cs.map(c => { const r = c.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; })")


@pytest.mark.parametrize("vw, vh", SIZES)
def test_every_chart_is_whole_on_one_screen(page: Page, app_url, shot, vw, vh):
    """Scrolled to the tabs: the three curves, the landscape and the race's curves are whole on screen;
    the race's landscape, below the race's curves, is whole once scrolled to its caption."""
    page.set_viewport_size({"width": vw, "height": vh})
    for tab, charts in (("curves", 3), ("landscape", 1), ("race", 2)):
        page.goto(f"{app_url}/?preset=mlp&hide=inputs&proj=1&epoch=100&tab={tab}")
        plots = page.locator("[data-testid='stPlotlyChart']")
        expect(plots).to_have_count(charts, timeout=TIMEOUT)
        for i in range(charts):
            expect(plots.nth(i).locator(".main-svg").first).to_be_visible(timeout=TIMEOUT)
        settle(page)
        scroll_to_tabs(page)
        boxes = chart_boxes(page)
        first_screen = boxes if tab != "race" else boxes[:1]
        assert all(b["bottom"] <= vh + 0.5 for b in first_screen), (tab, boxes)
        shot(page, f"wall_{tab}_{vw}x{vh}")
        if tab == "race":
            page.get_by_text("Every racer's path").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(300)
            b = chart_boxes(page)[1]
            assert b["top"] >= 0 and b["bottom"] <= vh + 0.5, b
            shot(page, f"wall_race_landscape_{vw}x{vh}")
