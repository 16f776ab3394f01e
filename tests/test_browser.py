"""The real page in Debian's chromium, as a student sees it; screenshots go to tests/artifacts/ for people."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

TIMEOUT = 60_000
OPS = {
    "single_step": ("MulBackward0", "PowBackward0", "SumBackward0"),
    "multi_epoch": ("AddBackward0", "PowBackward0"),
    "linear_layer": ("MseLossBackward0", "MmBackward0", "AddBackward0"),
}


def svg(page: Page):
    return page.locator("[data-testid='stGraphVizChart'] svg").first


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    expect(svg(page)).to_be_visible(timeout=TIMEOUT)
    settle(page)


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the current run (its status widget says nothing)."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT)


def tall(page: Page, height: int = 1700) -> None:
    """Streamlit scrolls inside its main pane, so a full-page shot is one viewport: make it taller."""
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(800)


def svg_text(page: Page) -> str:
    return svg(page).inner_html()


def svg_changes(page: Page, old: str) -> str:
    """The graph's SVG once the browser has redrawn it (d3-graphviz redraws after the data arrives)."""
    for _ in range(100):
        now = svg_text(page)
        if now != old:
            return now
        page.wait_for_timeout(200)
    raise AssertionError("the graph did not change")


@pytest.mark.parametrize("preset", list(OPS))
def test_course_examples_draw_their_graphs(page: Page, app_url, shot, preset):
    open_app(page, f"{app_url}/?preset={preset}")
    text = svg(page).text_content()
    for op in OPS[preset]:
        assert op in text
    assert "Traceback" not in page.inner_text("body")
    shot(page, f"preset_{preset}")


def test_step_through_moves_the_highlight(page: Page, app_url, shot):
    open_app(page, f"{app_url}/?preset=single_step")
    end = svg_text(page)
    explanation = page.locator(".st-key-explain")
    end_words = explanation.inner_text()
    for k in (3, 2, 1, 0):                       # one click at a time: each waits for its rerun
        page.locator(".st-key-step_prev button").first.click()
        expect(page).to_have_url(re.compile(rf"step={k}\b"), timeout=TIMEOUT)
        settle(page)
    expect(explanation).not_to_have_text(end_words, timeout=TIMEOUT)
    start = svg_changes(page, end)
    shot(page, "step_0")
    page.locator(".st-key-step_next button").first.click()
    expect(page).to_have_url(re.compile(r"step=1\b"), timeout=TIMEOUT)
    settle(page)
    assert svg_changes(page, start) != end
    shot(page, "step_1")


def test_hostile_loss_is_explained_without_a_traceback(page: Page, app_url, shot):
    open_app(page, f"{app_url}/?preset=single_step")
    good = svg_text(page)
    box = page.locator(".st-key-loss textarea")
    box.fill("w.__class__.__mro__")
    box.press("Control+Enter")
    error = page.get_by_test_id("stSidebar").get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("not allowed", timeout=TIMEOUT)
    settle(page)
    body = page.inner_text("body")
    assert "Traceback" not in body and "last valid experiment" in body
    assert box.input_value() == "w.__class__.__mro__"
    assert svg_text(page) == good
    shot(page, "hostile_loss")


def test_chinese(page: Page, app_url, shot):
    open_app(page, f"{app_url}/?lang=zh&preset=linear_layer")
    expect(page.get_by_text("自动求导可视化")).to_be_visible()
    expect(page.get_by_role("tab", name="计算图")).to_be_visible()
    assert "梯度" in svg(page).text_content()
    shot(page, "zh_linear_layer")
    page.get_by_role("tab", name="训练日志").click()
    expect(page.get_by_text("每轮一行").first).to_be_visible(timeout=TIMEOUT)   # the grid itself is a canvas
    page.wait_for_timeout(1000)
    shot(page, "zh_log")


def test_shared_link_round_trip(page: Page, app_url, shot):
    open_app(page, f"{app_url}/?preset=multi_epoch")
    lr = page.locator(".st-key-lr input")
    lr.fill("0.05")
    lr.press("Enter")
    page.wait_for_url(re.compile(r"lr=0\.05"), timeout=TIMEOUT)
    settle(page)
    page.get_by_text("Share this experiment").click()
    link = page.locator(".st-key-share code").first.inner_text().strip()
    assert link.startswith("http") and "lr=0.05" in link and "preset=multi_epoch" in link
    shot(page, "share_box")
    other = page.context.new_page()
    open_app(other, link)
    assert other.locator(".st-key-lr input").input_value() == "0.05"
    assert other.locator(".st-key-loss textarea").input_value() == "loss = w ** 2 + 20"
    other.close()


def test_curves_and_projection(page: Page, app_url, shot):
    open_app(page, f"{app_url}/?preset=multi_epoch&epoch=120")
    page.get_by_role("tab", name="Curves").click()
    expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible(timeout=TIMEOUT)
    tall(page)
    shot(page, "curves")
    page.get_by_role("tab", name="Code").click()
    expect(page.get_by_text("import torch").first).to_be_visible(timeout=TIMEOUT)
    shot(page, "code")


def test_classroom_link(page: Page, app_url, shot):
    open_app(page, f"{app_url}/?preset=linear_layer&hide=inputs&proj=1")
    assert page.locator(".st-key-loss").count() == 0
    assert 'font-size="18.00"' in svg_text(page)
    assert "Traceback" not in page.inner_text("body")
    tall(page, 1300)
    shot(page, "classroom")


@pytest.mark.parametrize("query, lang_tab, name", [
    ("preset=multi_epoch&epoch=120", "Landscape", "landscape_one_weight"),
    ("preset=mlp&epoch=50&lang=zh", "损失地形", "zh_landscape_slice"),
    ("preset=multi_epoch&epoch=3&hide=inputs&proj=1", "Landscape", "landscape_projection"),
])
def test_landscape_tab(page: Page, app_url, shot, query, lang_tab, name):
    open_app(page, f"{app_url}/?{query}")
    page.get_by_role("tab", name=lang_tab).click()
    chart = page.locator("[data-testid='stPlotlyChart']").first
    expect(chart).to_be_visible(timeout=TIMEOUT)
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=TIMEOUT)
    assert "Traceback" not in page.inner_text("body")
    tall(page)
    shot(page, name)


def open_tab_chart(page: Page, tab: str, charts: int = 1):
    page.get_by_role("tab", name=tab).click()
    chart = page.locator("[data-testid='stPlotlyChart']")
    expect(chart).to_have_count(charts, timeout=TIMEOUT)
    for i in range(charts):
        expect(chart.nth(i).locator(".main-svg").first).to_be_visible(timeout=TIMEOUT)
    settle(page)
    assert "Traceback" not in page.inner_text("body")


@pytest.mark.parametrize("query, tab, name", [
    ("preset=multi_epoch&epoch=3", "Landscape", "landscape_small_lr"),
    ("preset=mlp&epoch=100&dirs=random", "Landscape", "landscape_random_directions"),
])
def test_landscape_step_label_and_random_directions(page: Page, app_url, shot, query, tab, name):
    open_app(page, f"{app_url}/?{query}")
    open_tab_chart(page, tab)
    tall(page)
    shot(page, name)


def plot_ticks(page: Page, axis: str, chart: int = 0) -> list[str]:
    return page.locator("[data-testid='stPlotlyChart']").nth(chart).locator(f".{axis}tick text").all_text_contents()


def test_landscape_of_a_diverging_run_follows_the_shown_epoch(page: Page, app_url, shot):
    """lr_too_large bounces 10, -20, 40, ... to 1e19: stepping to epoch 5, the view is the bounces so far
    (ticks in the hundreds, not powers of ten), with the tangent and the arrow of the step to -320."""
    open_app(page, f"{app_url}/?preset=lr_too_large&epoch=4")
    open_tab_chart(page, "Landscape")
    before = plot_ticks(page, "x")
    page.locator(".st-key-epoch input[type='range']").first.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"epoch=5\b"), timeout=TIMEOUT)
    settle(page)
    for _ in range(50):                                   # Plotly redraws once the new figure arrives
        if plot_ticks(page, "x") != before:
            break
        page.wait_for_timeout(200)
    ticks = plot_ticks(page, "x") + plot_ticks(page, "y")
    assert ticks and not any("×10" in x or "e+" in x for x in ticks), ticks
    xs = [float(x.replace("−", "-").replace(",", "")) for x in plot_ticks(page, "x")]
    assert min(xs) <= -300 and 100 <= max(xs) < 1000          # epoch 5 steps from 160 to -320
    legend = " ".join(page.locator("[data-testid='stPlotlyChart'] .legendtext").all_text_contents())
    assert "epoch 5" in legend and "-320" in legend
    tall(page)
    shot(page, "landscape_lr_too_large")


@pytest.mark.parametrize("query, tab, name", [
    ("preset=multi_epoch&epoch=60&race_lr=0.1", "Race", "race"),
    ("preset=mlp&epoch=80&lang=zh&race=gd,momentum,adam", "优化器比赛", "zh_race"),
    ("preset=linear_layer&epochs=40&epoch=10&hide=inputs&proj=1", "Race", "race_projection"),
    ("preset=lr_too_large&epoch=30&log=1&race_lr=0.1", "Race", "race_diverged"),
    ("preset=lr_too_large&epoch=5&race_lr=0.1", "Race", "race_landscape_diverging"),
])
def test_race_tab(page: Page, app_url, shot, query, tab, name):
    open_app(page, f"{app_url}/?{query}")
    open_tab_chart(page, tab, charts=2)
    assert page.locator("[data-testid='stPlotlyChart'] .legendtext").count() >= 3
    expect(page).to_have_url(re.compile(r"tab=5\b"), timeout=TIMEOUT)
    tall(page, 2000)
    shot(page, name)


def query_of(exp, lang="en") -> str:
    from urllib.parse import urlencode

    from explorer.share import to_query
    return urlencode(to_query(exp, lang, None))


@pytest.mark.parametrize("query, title, name", [
    ("preset=linear_layer", "Gradient check", "gradcheck_linear_layer"),
    ("preset=linear_layer&lang=zh", "梯度检验", "zh_gradcheck_linear_layer"),
    ("preset=linear_layer&proj=1", "Gradient check", "gradcheck_projection"),
])
def test_gradient_check_section(page: Page, app_url, shot, query, title, name):
    open_app(page, f"{app_url}/?{query}")
    box = page.locator(".st-key-gradcheck")
    expect(box).to_contain_text(title, timeout=TIMEOUT)
    table = "table" if "proj=1" in query else "[data-testid='stDataFrame']"     # projection: big Markdown type
    expect(box.locator(table).first).to_be_visible(timeout=TIMEOUT)
    assert "Traceback" not in page.inner_text("body")
    tall(page, 2600)
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shot(page, name)


@pytest.mark.parametrize("lang, word", [("en", "Kink"), ("zh", "拐点")])
def test_kink_note(page: Page, app_url, shot, lang, word):
    from explorer import Experiment
    exp = Experiment(tensors={"w": "[-1.0, 0.0, 2.0]"}, trainable=("w",), loss="loss = torch.relu(w).sum()")
    open_app(page, f"{app_url}/?{query_of(exp, lang)}")
    note = page.locator(".st-key-gradcheck [data-testid='stAlert']").first
    expect(note).to_contain_text(word, timeout=TIMEOUT)
    expect(note).to_contain_text("relu′(0)")
    tall(page, 2000)
    note.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shot(page, f"kink_{lang}")


@pytest.mark.parametrize("query, name", [("preset=linear_layer&step=4", "mm_step"),
                                         ("preset=linear_layer&step=4&lang=zh", "zh_mm_step"),
                                         ("preset=linear_layer&step=4&proj=1&hide=inputs", "mm_step_projection")])
def test_matrix_explanation_at_the_mm_step(page: Page, app_url, shot, query, name):
    open_app(page, f"{app_url}/?{query}")
    explanation = page.locator(".st-key-explain")
    expect(explanation).to_contain_text("MmBackward0", timeout=TIMEOUT)
    expect(explanation).to_contain_text("xᵀ · dL/dZ")
    expect(explanation.locator("pre").first).to_contain_text("0.3499")
    tall(page, 2000)
    explanation.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shot(page, name)


@pytest.mark.parametrize("preset, lang", [("detach_target", "en"), ("no_detach_target", "en"),
                                          ("detach_target", "zh")])
def test_detach_preset_graph(page: Page, app_url, shot, preset, lang):
    open_app(page, f"{app_url}/?preset={preset}&lang={lang}")
    text = svg(page).text_content()
    if preset == "detach_target":
        assert "(3 * w).detach()" in text and "MulBackward0" not in text and "[-4, -8]" in text
    else:
        assert "MulBackward0" in text and "detach" not in text and "[8, 16]" in text
    expect(page.get_by_test_id("stAlertContentInfo").first).to_contain_text("w.grad")
    tall(page, 1300)
    shot(page, f"{'zh_' if lang == 'zh' else ''}preset_{preset}")
