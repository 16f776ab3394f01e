"""The real page in Debian's chromium, as a student sees it; screenshots go to tests/artifacts/ for people."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from explorer import PRESETS, run

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
    link = page.locator(".st-key-share input[data-link='share']").input_value()
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
    # the race on the wall: tests/test_wall.py (both screen sizes)
    ("preset=lr_too_large&epoch=30&log=1&race_lr=0.1", "Race", "race_diverged"),
    ("preset=lr_too_large&epoch=5&race_lr=0.1", "Race", "race_landscape_diverging"),
])
def test_race_tab(page: Page, app_url, shot, query, tab, name):
    open_app(page, f"{app_url}/?{query}")
    open_tab_chart(page, tab, charts=2)
    assert page.locator("[data-testid='stPlotlyChart'] .legendtext").count() >= 3
    expect(page).to_have_url(re.compile(r"tab=race\b"), timeout=TIMEOUT)
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
    numbers = page.locator(".st-key-worked") if "proj=1" in query else explanation   # projected: a box below
    expect(numbers).to_contain_text("xᵀ · dL/dZ")
    expect(numbers.locator("pre").first).to_contain_text("0.3499")
    tall(page, 2000)
    numbers.scroll_into_view_if_needed()
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


# ---------------------------------------------------------------- the teacher's screen

def box(locator) -> dict:
    b = locator.bounding_box()
    assert b is not None, "not on the page"
    return b


def inside(b: dict, vw: int, vh: int) -> bool:
    return b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= vw + 0.5 and b["y"] + b["height"] <= vh + 0.5


def graph_text_px(page: Page) -> float:
    """The smallest rendered size of the nodes' value rows, in CSS pixels: the SVG's font size scaled
    by how much the picture was shrunk to fit."""
    return page.evaluate("""() => {
        const svg = document.querySelector("[data-testid='stGraphVizChart'] svg");
        const k = svg.getBoundingClientRect().height / svg.viewBox.baseVal.height;
        const rows = [...svg.querySelectorAll("text")].filter(t => /^(value|值)/.test(t.textContent));
        return Math.min(...rows.map(t => parseFloat(getComputedStyle(t).fontSize) * k));
    }""")


STEP_WORDS = {"en": "Step {k} of", "zh": "第 {k} 步"}


# linear_layer in English at both sizes is measured, step by step and more strictly, by test_wall.py
CLASSROOM = [(p, vw, vh, lang) for p in ("single_step", "multi_epoch")
             for vw, vh, lang in ((1280, 720, "en"), (1920, 1080, "en"), (1280, 720, "zh"))] + \
            [("linear_layer", 1280, 720, "zh")]


@pytest.mark.parametrize("preset, vw, vh, lang", CLASSROOM)
def test_classroom_link_fits_one_screen(page: Page, app_url, shot, preset, vw, vh, lang):
    """At every step (walked back with ←): step buttons, slider, the whole graph and the explanation on
    one projected screen, unscrolled. Text bound: 18 px on a 1920-wide screen, as on every other tab;
    a projector fills the same wall at any resolution, so on a 1280-wide one 12 px is the same size on
    the wall (18 * 1280 / 1920)."""
    page.set_viewport_size({"width": vw, "height": vh})
    open_app(page, f"{app_url}/?preset={preset}&hide=inputs&proj=1&lang={lang}")
    explanation = page.locator(".st-key-explain")
    for k in range(run(PRESETS[preset]).graph.steps, -1, -1):
        expect(explanation).to_contain_text(STEP_WORDS[lang].format(k=k), timeout=TIMEOUT)
        settle(page)
        page.wait_for_timeout(500)              # the graph is fitted once the page has measured it
        for what in (page.locator(".st-key-step_prev button").first, page.locator(".st-key-step_next button").first,
                     page.locator(".st-key-step [data-testid='stSlider']"), svg(page), explanation):
            assert inside(box(what), vw, vh), (k, what, box(what))
        assert graph_text_px(page) >= 18 * vw / 1920, k
        if k == 1:
            shot(page, f"classroom_{lang}_{preset}_{vw}x{vh}_step1")
        page.keyboard.press("ArrowLeft")
    shot(page, f"classroom_{lang}_{preset}_{vw}x{vh}")


def step_shown(page: Page) -> int:
    return int(page.locator(".st-key-step input[type=range]").input_value())


def test_arrow_keys_step_and_no_press_is_lost(page: Page, app_url, shot):
    """Five quick presses are five steps. Streamlit merges a button's presses made during one rerun
    (st.button(shortcut="Right") moved one step for these five), so the page counts them itself
    (explorer/ui/browser.py)."""
    open_app(page, f"{app_url}/?preset=mlp&step=0")
    assert step_shown(page) == 0
    for _ in range(5):
        page.keyboard.press("ArrowRight")       # no waiting: they land while the page reruns
    expect(page).to_have_url(re.compile(r"step=5\b"), timeout=TIMEOUT)
    settle(page)
    page.wait_for_timeout(1000)                 # nothing more arrives later
    assert step_shown(page) == 5 and "step=5" in page.url
    for key in ("ArrowLeft", "ArrowLeft", "ArrowLeft", "ArrowRight"):
        page.keyboard.press(key)
    expect(page).to_have_url(re.compile(r"step=3\b"), timeout=TIMEOUT)
    page.locator(".st-key-step_next button").first.evaluate(  # three clicks in one go count one by one too
        "b => { for (let i = 0; i < 3; i++) b.click(); }")
    expect(page).to_have_url(re.compile(r"step=6\b"), timeout=TIMEOUT)
    settle(page)
    page.wait_for_timeout(1000)
    assert step_shown(page) == 6 and "step=6" in page.url
    assert "Step 6 of" in page.locator(".st-key-explain").inner_text()
    shot(page, "arrow_keys")


def test_arrow_keys_in_the_loss_box_do_not_step(page: Page, app_url):
    open_app(page, f"{app_url}/?preset=single_step&step=2")
    box_ = page.locator(".st-key-loss textarea")
    box_.click()
    for key in ("ArrowLeft", "ArrowRight", "ArrowRight"):
        box_.press(key)
    page.wait_for_timeout(1500)
    settle(page)
    assert step_shown(page) == 2
    assert box_.input_value() == "loss = 2 * w ** 2"


def font_px(locator) -> list[float]:
    return locator.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")


def test_every_tab_is_projection_sized(page: Page, app_url, shot):
    """On the wall every text is 18 px or more: curve ticks, axis titles and legends, the log, the
    code and the captions (measured as the browser draws them)."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_app(page, f"{app_url}/?preset=mlp&hide=inputs&proj=1&epoch=120")
    main = page.get_by_test_id("stMain")
    plot = ".main-svg :is(.xtick text, .ytick text, .xtitle, .ytitle, .legendtext)"
    for tab, what in (("Curves", plot), ("Landscape", plot),
                      ("Log", "[data-testid='stTable'] :is(th, td)"),
                      ("Code", "[data-testid='stCode'] code")):
        page.get_by_role("tab", name=tab).click()
        texts = main.locator(what)
        expect(texts.last).to_be_visible(timeout=TIMEOUT)
        settle(page)
        sizes = font_px(texts) + font_px(main.get_by_test_id("stCaptionContainer"))
        assert len(sizes) >= 3 and min(sizes) >= 18, (tab, sorted(set(sizes)))
        shot(page, f"projection_{tab.lower()}")


@pytest.mark.parametrize("proj", ["0", "1"])
def test_log_shows_the_epoch_shown_at_full_precision(page: Page, app_url, shot, proj):
    """The divergence row of lr_too_large is in view when the epoch slider is there, and every loss
    reads as Python prints the float32 value (the course's `.tolist()`), not rounded for display."""
    losses = run(PRESETS["lr_too_large"]).history.losses.tolist()
    epoch = len(losses)                          # where it diverged
    page.goto(f"{app_url}/?preset=lr_too_large&tab=2&epoch={epoch - 1}&hide=inputs&proj={proj}")
    table = page.get_by_test_id("stTable")
    expect(table).to_be_visible(timeout=TIMEOUT)
    settle(page)
    page.get_by_role("slider").first.press("ArrowRight")     # the epoch slider moves to the last epoch
    marked = table.locator("tbody tr").filter(has_text="▶")
    expect(marked).to_have_count(1, timeout=TIMEOUT)
    expect(marked.locator("td").nth(1)).to_have_text(str(epoch), timeout=TIMEOUT)
    settle(page)
    row, frame = box(marked), box(table)
    assert frame["y"] <= row["y"] and row["y"] + row["height"] <= frame["y"] + frame["height"]
    assert inside(row, *page.viewport_size.values())
    for tr in table.locator("tbody tr").all():
        cells = tr.locator("td").all_inner_texts()
        assert cells[-1] == repr(float(losses[int(cells[1]) - 1]))
    shot(page, f"log_divergence_proj{proj}")


def graph_text_outside_boxes(page: Page) -> list:
    """Texts of the graph's nodes that stick out of their box, with by how many pixels."""
    return page.evaluate("""() => {
        const out = [];
        for (const g of document.querySelectorAll("[data-testid='stGraphVizChart'] g.node")) {
            const shape = g.querySelector("path, polygon");
            if (!shape) continue;                   // a plain "⋯" (the wall's focused view): no box to leave
            const s = shape.getBoundingClientRect();
            for (const t of g.querySelectorAll("text")) {
                if (!t.textContent.trim()) continue;
                const b = t.getBoundingClientRect();
                const over = Math.max(s.left - b.left, b.right - s.right, s.top - b.top, b.bottom - s.bottom);
                if (over > 0.5) out.push([t.textContent, over]);
            }
        }
        return out;
    }""")


@pytest.mark.parametrize("preset, proj", [("single_step", "1"), ("linear_layer", "1"), ("linear_layer", "0"),
                                          ("mlp", "0")])
def test_chinese_text_fits_its_graph_boxes(page: Page, app_url, shot, preset, proj):
    """Graphviz in the browser measures CJK glyphs narrower than they are drawn; render.to_dot pads them."""
    open_app(page, f"{app_url}/?preset={preset}&lang=zh&hide=inputs&proj={proj}")
    assert "形状" in svg(page).text_content()
    assert graph_text_outside_boxes(page) == []
    shot(page, f"zh_boxes_{preset}_proj{proj}")


def visible_english(page: Page) -> set[str]:
    """Runs of two or more English words a reader sees, outside code, the graph and the charts (text
    for screen readers only, such as Streamlit's "delete icon", is not seen)."""
    text = page.evaluate("""() => {
        const skip = "code, pre, svg, textarea, [aria-hidden='true'], [data-testid^='stIcon'], " +
                     "[data-testid='stGraphVizChart']";
        const parts = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n; (n = walker.nextNode());) {
            const el = n.parentElement;
            if (!el || el.closest(skip) || !el.closest("[data-testid='stMain'], [data-testid='stSidebar']")) continue;
            const screenReaderOnly = getComputedStyle(el).clip === "rect(0px, 0px, 0px, 0px)";
            if (el.checkVisibility({visibilityProperty: true}) && !screenReaderOnly) parts.push(n.textContent);
        }
        return parts.join("\\n");
    }""")
    return set(re.findall(r"[A-Za-z]{2,}(?: [A-Za-z]{2,})+", text))


def test_chinese_page_shows_no_streamlit_english(page: Page, app_url, shot):
    open_app(page, f"{app_url}/?preset=single_step&lang=zh")
    box_ = page.locator(".st-key-loss textarea")
    box_.click()
    box_.press("End")
    box_.type(" ")                                   # an edited box: Streamlit would say "Press Ctrl+Enter to apply"
    expect(page.get_by_test_id("InputInstructions").first).to_be_hidden()
    expect(page.get_by_text("文本框按 Ctrl+Enter 生效")).to_be_visible()
    assert visible_english(page) <= {"Autograd Explorer", "English", "Language", "AccumulateGrad adds"}, \
        visible_english(page)
    shot(page, "zh_editing_loss")


@pytest.mark.parametrize("query", ["preset=single_step", "preset=linear_layer&lang=zh"])
def test_a_phone_reads_the_graph(page: Page, app_url, shot, query):
    """390 x 844: the sidebar starts collapsed, the graph is drawn top to bottom at its own size (a
    wide one scrolls sideways) and is on the first screen, its text as large as on a laptop."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_app(page, f"{app_url}/?{query}")
    expect(svg(page).locator("text").first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1000)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_attribute("data-collapsed") == "true"
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 0          # off screen, not over the page
    picture = box(svg(page))
    assert picture["y"] + 100 < 844                                  # starts on the first screen
    if "single_step" in query:
        assert picture["height"] > 2 * picture["width"]              # a chain of five, top to bottom
    assert graph_text_px(page) >= 14
    shot(page, f"phone_{query.replace('&', '_').replace('=', '-')}")


def test_arrow_keys_step_after_clicking_the_graph_tab(page: Page, app_url):
    """The teacher shows the curves, clicks back to Graph and presses →: the step moves, the tab stays
    (a tab reached with the Tab key keeps its arrow keys for moving between tabs)."""
    open_app(page, f"{app_url}/?preset=mlp&step=0&hide=inputs&proj=1")
    page.get_by_role("tab", name="Curves").click()
    expect(page.locator("[data-testid='stPlotlyChart']").first).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("tab", name="Graph").click()
    expect(svg(page)).to_be_visible(timeout=TIMEOUT)
    settle(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"step=2\b"), timeout=TIMEOUT)
    settle(page)
    assert "tab=" not in page.url and step_shown(page) == 2
    page.get_by_role("tab", name="Graph").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")                          # the tab bar, reached by keyboard
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"tab=curves\b"), timeout=TIMEOUT)


def test_a_chinese_browser_opens_a_classroom_link_in_chinese_sized_for_the_wall(browser, app_url, shot):
    """A link without `lang`, opened by a browser set to Chinese (`st.context.locale`), is Chinese; `lang=en`
    still wins. Projected, inline code in the explanation is as big as its words, and the step slider's value
    sits clear of its thumb."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        open_app(page, f"{app_url}/?preset=single_step&hide=inputs&proj=1&step=2")
        expect(page.get_by_role("tab", name="计算图")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator(".st-key-explain")).to_contain_text("第 2 步", timeout=TIMEOUT)
        settle(page)
        sizes = page.locator(".st-key-explain li").first.evaluate(
            "li => [parseFloat(getComputedStyle(li).fontSize),"
            " parseFloat(getComputedStyle(li.querySelector('code') || li).fontSize)]")
        assert abs(sizes[0] - sizes[1]) < 0.5 and sizes[0] >= 18, sizes     # below a wide graph: 18.4 px
        value = page.locator(".st-key-step [data-testid='stSliderThumbValue']").first
        thumb = value.locator("xpath=..").bounding_box()           # the thumb holds its value
        value = value.bounding_box()
        assert value["y"] + value["height"] <= thumb["y"] + 1, (value, thumb)
        shot(page, "locale_zh_classroom")
        open_app(page, f"{app_url}/?preset=single_step&lang=en")
        expect(page.get_by_role("tab", name="Graph")).to_be_visible(timeout=TIMEOUT)
    finally:
        context.close()
