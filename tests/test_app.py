"""The page, driven headlessly through Streamlit's AppTest: presets, stepping, errors, language, URLs."""
from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import numpy as np

import pytest
from streamlit.proto.LabelVisibility_pb2 import LabelVisibility
from streamlit.testing.v1 import AppTest

from explorer import PRESETS, run
from explorer.share import to_query
from explorer import compute
from explorer.ui import bind

def step_slider(at):
    """The backward-step slider (its key changes with every step the page sets: `bind.step`)."""
    return next(s for s in at.slider if bind.slider_key(s.key))


APP = Path(__file__).resolve().parent.parent / "explorer" / "ui" / "page.py"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def app(**query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params.update(query)
    return at.run()


def open_tab(at: AppTest, name: str) -> AppTest:
    """Open a tab as a click's callback does (AppTest cannot click tabs): only the open tab is drawn."""
    at.session_state["page"].set(tab=name)
    return at.run()


def script(at: AppTest) -> list[str]:
    return [c.value for c in at.code if c.value.startswith("# Autograd Explorer")]


def dot(at: AppTest) -> str:
    charts = at.get("graphviz_chart")
    assert len(charts) == 1
    return charts[0].proto.spec


def figures(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def points(v) -> list:
    """A plotly array from the chart's JSON: a plain list, or typed base64 (`bdata`)."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def words(at: AppTest) -> str:
    return "\n".join(m.value for m in at.main.markdown)


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def order(block) -> list:
    """Elements of a block in page order, for checking what sits under what."""
    return list(block)


# ---------------------------------------------------------------- presets


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_renders_its_graph_and_curves(key):
    at = app(preset=key)
    ok(at)
    graph = run(PRESETS[key]).graph
    source = dot(at)
    for node in graph.nodes:
        if node.kind in ("op", "leaf"):
            assert node.label in source, node.label
    assert at.selectbox(key="preset_en").value == key
    assert not figures(at) and not at.main.table and not script(at)     # only the open tab is drawn
    assert len(at.main.dataframe) == 1
    assert list(at.main.dataframe[0].value.columns)[0] == "Element"             # the graph tab's gradient check
    figs = figures(open_tab(at, "curves"))
    assert len(figs) == 3                        # loss, parameters, gradients
    assert at.query_params["tab"] == "curves"
    history = run(PRESETS[key]).history
    loss = figs[0]["data"][0]
    assert points(loss["x"]) == list(range(1, len(history) + 1))
    assert points(loss["y"])[0] == pytest.approx(float(history.losses[0]))
    assert any(s["x0"] == 1 for s in figs[1]["layout"]["shapes"])     # the epoch shown is marked
    assert script(open_tab(at, "code"))
    shown = min(len(history), compute.log_limits(run(PRESETS[key]))[0])
    assert len(open_tab(at, "log").main.table[0].value) == shown * len(history.names)


def test_course_examples_show_the_course_ops():
    assert all(op in dot(app(preset="single_step")) for op in ("MulBackward0", "PowBackward0", "SumBackward0"))
    assert all(op in dot(app(preset="multi_epoch")) for op in ("AddBackward0", "PowBackward0"))
    linear = dot(app(preset="linear_layer"))
    assert all(s in linear for s in ("MseLossBackward0", "MmBackward0", "AddBackward0", "<b>w</b>", "<b>b</b>"))


def test_default_page_is_the_first_course_example_with_w_grad_40_80():
    at = app()
    ok(at)
    assert at.selectbox(key="preset_en").value == "single_step"
    assert "[40, 80]" in dot(at)
    assert "40, 80" in words(at)
    assert at.query_params["preset"] == "single_step"


def test_choosing_a_preset_fills_every_field():
    at = app()
    at.selectbox(key="preset_en").select("mlp").run()
    ok(at)
    exp = PRESETS["mlp"]
    assert at.text_area(key="loss").value == exp.loss
    assert at.number_input(key="lr").value == exp.lr
    assert at.number_input(key="epochs").value == exp.epochs
    assert at.selectbox(key="optimizer_en").value == "adam"
    names = [w.value for w in at.text_input if (w.key or "").startswith("tname_")]
    assert names == [n for n, _ in exp.tensors]
    assert "TanhBackward0" in dot(at)
    assert at.query_params["preset"] == "mlp"


# ---------------------------------------------------------------- step-through and epochs


def test_step_through_moves_the_highlight_and_the_explanation():
    at = app(preset="single_step")
    last = step_slider(at).value
    assert last == run(PRESETS["single_step"]).graph.steps
    end_dot, end_words = dot(at), words(at)
    step_slider(at).set_value(0).run()
    ok(at)
    start_dot, start_words = dot(at), words(at)
    assert start_dot != end_dot and start_words != end_words
    assert "?" in start_dot                      # nodes backward has not reached hide their gradient
    at.button(key="step_next").click().run()
    assert step_slider(at).value == 1 and dot(at) not in (start_dot, end_dot)
    at.button(key="step_prev").click().run()
    assert step_slider(at).value == 0 and dot(at) == start_dot
    assert at.query_params["step"] == "0"


def test_epoch_scrubber_changes_graph_numbers_curves_marker_and_log():
    at = app(preset="multi_epoch")
    first_dot, first_words = dot(at), words(at)
    assert "value 10" in first_dot
    at.slider(key="epoch").set_value(250).run()
    ok(at)
    assert dot(at) != first_dot and words(at) != first_words
    assert "value 10<" not in dot(at)
    shapes = figures(open_tab(at, "curves"))[0]["layout"]["shapes"]
    assert any(s.get("x0") == 250 for s in shapes)
    table = open_tab(at, "log").main.table[0].value
    assert list(table[table[" "] == "▶"]["Epoch"]) == [250]
    assert len(table) == compute.LOG_ROWS and "Showing epochs 248–297 of 500" in " ".join(c.value for c in at.main.caption)
    assert at.query_params["epoch"] == "250"


def test_changing_only_the_view_keeps_the_experiment_and_step():
    at = app(preset="single_step")
    step_slider(at).set_value(2).run()
    at.radio(key="lang").set_value("zh").run()
    ok(at)
    assert step_slider(at).value == 2
    at.toggle(key="proj").set_value(True).run()
    assert "fontsize=18" in dot(at)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", ["w.__class__.__mro__", "import os", "loss = __import__('os').system('ls')",
                                 "loss = (w ** 2", "loss = 2 * ｗ"])
def test_bad_loss_is_explained_under_the_loss_box_and_the_last_graph_stays(bad):
    at = app(preset="single_step")
    good = dot(at)
    at.text_area(key="loss").input(bad).run()
    assert not at.exception
    assert at.text_area(key="loss").value == bad
    errors = at.sidebar.error
    assert len(errors) == 1 and "loss" in errors[0].value
    side = order(at.sidebar)
    assert side.index(errors[0]) == side.index(at.text_area(key="loss")) + 1
    assert dot(at) == good
    assert "last valid experiment" in at.warning[0].value
    assert "Traceback" not in str(at)
    assert at.query_params["loss"] == bad        # a refresh keeps what was typed


def test_error_under_the_tensor_row_it_names():
    at = app(preset="linear_layer")
    rid = next(w.key for w in at.text_input if w.value == "w").split("_")[1]
    at.text_area(key=f"tdef_{rid}").input("[[1, 2], [3]]").run()
    assert not at.exception
    side = order(at.sidebar)
    err = at.sidebar.error[0]
    assert "tensor w" in err.value
    assert side.index(err) > side.index(at.text_area(key=f"tdef_{rid}"))
    assert side.index(err) < side.index(next(w for w in at.text_input if w.value == "b"))
    assert "MseLossBackward0" in dot(at)


@pytest.mark.parametrize("field, value, where", [("lr", 100.0, "lr"), ("epochs", 0, "epochs"),
                                                 ("seed", -1, "seed")])
def test_number_errors_sit_under_their_field(field, value, where):
    at = app(preset="multi_epoch")
    at.number_input(key=field).set_value(value).run()
    assert not at.exception
    side = order(at.sidebar)
    err = at.sidebar.error[0]
    assert 0 < side.index(err) - side.index(at.number_input(key=where)) <= 4
    assert len(at.get("graphviz_chart")) == 1


def test_error_in_chinese():
    at = app(preset="single_step", lang="zh")
    at.text_area(key="loss").input("import os").run()
    assert "不允许" in at.sidebar.error[0].value
    assert "上一个有效的实验" in at.warning[0].value


def test_broken_shared_link_still_shows_a_page():
    at = app(preset="single_step", loss="import os", lr="abc", t="[[")
    assert not at.exception
    assert at.text_area(key="loss").value == "import os"
    assert at.sidebar.error and len(at.get("graphviz_chart")) == 1


def test_rows_can_be_added_and_removed():
    at = app(preset="single_step")
    at.button(key="add_row").click().run()
    ok(at)
    names = [w.value for w in at.text_input if (w.key or "").startswith("tname_")]
    assert names == ["w", "t1"]
    assert "t1" not in dot(at)                   # an unused data tensor is not in the graph
    rid = next(w.key for w in at.text_input if w.value == "w").split("_")[1]
    at.button(key=f"del_{rid}").click().run()
    assert not at.exception
    assert "'w' is not defined" in at.sidebar.error[0].value or "w" in at.sidebar.error[0].value


# ---------------------------------------------------------------- language and URLs


def test_chinese_from_the_url():
    at = app(lang="zh")
    ok(at)
    assert "自动求导" in at.title[0].value
    assert [t.label for t in at.tabs] == ["计算图", "曲线", "训练日志", "代码", "损失地形", "优化器比赛"]
    assert at.text_area(key="loss").value == PRESETS["single_step"].loss
    assert "梯度" in dot(at)
    assert any("当前轮次" in c for c in open_tab(at, "log").main.table[0].value.columns)


def test_switching_language_never_touches_the_experiment():
    at = app(preset="multi_epoch")
    at.number_input(key="lr").set_value(0.02).run()
    at.radio(key="lang").set_value("zh").run()
    ok(at)
    assert at.number_input(key="lr").value == 0.02
    assert at.query_params["lang"] == "zh" and at.query_params["lr"] == "0.02"


def test_log_table_is_the_course_printout():
    at = app(preset="single_step", lang="zh", tab="log")
    frame = at.main.table[0].value
    assert list(frame.columns) == [" ", "当前轮次", "当前权重", "固定学习率", "更新后梯度", "下一个权重", "损失"]
    row = frame.iloc[0].tolist()[1:]
    assert row[:5] == [1, "[10.0, 20.0]", "0.01", "[40.0, 80.0]", "[9.600000381469727, 19.200000762939453]"]
    at = app(preset="linear_layer", tab="log")
    frame = at.main.table[0].value
    assert list(frame.columns)[1:3] == ["Epoch", "Tensor"] and list(frame["Tensor"]) == ["w", "b"]


def test_csv_holds_every_epoch():
    r = run(PRESETS["multi_epoch"])
    header, rows = compute.log_table(r, "en")
    assert header == ["Epoch", "Weight", "Learning rate", "Gradient", "Next weight", "Loss"]
    assert [row[0] for row in rows] == list(range(1, 501))
    assert rows[0][1:5] == ["10.0", "0.01", "20.0", "9.800000190734863"]
    assert compute.log_limits(r) == (compute.LOG_ROWS, 500)


def test_preset_from_the_url():
    at = app(preset="lr_too_large")
    ok(at)
    assert at.number_input(key="lr").value == 1.5
    assert any("diverged" in i.value for i in at.info)


def test_a_shared_link_reproduces_the_experiment():
    exp = PRESETS["linear_layer"].replace(lr=0.05, epochs=7, loss="z = x @ w + b\nloss = ((z - y) ** 2).mean()",
                                          optimizer="momentum", seed=3)
    query = to_query(exp, "zh", "linear_layer", epoch=4, step=2)
    at = app(**query)
    ok(at)
    assert at.text_area(key="loss").value == exp.loss
    assert at.number_input(key="lr").value == 0.05
    assert at.number_input(key="epochs").value == 7
    assert at.selectbox(key="optimizer_zh").value == "momentum"
    assert at.slider(key="epoch").value == 4 and step_slider(at).value == 2
    assert "PowBackward0" in dot(at) and "MseLossBackward0" not in dot(at)
    assert at.query_params == query              # nothing lost, nothing added
    fresh = app(**at.query_params)
    assert dot(fresh) == dot(at)


def test_an_edited_experiment_is_written_to_the_url():
    at = app(preset="single_step")
    at.text_area(key="loss").input("loss = 3 * w ** 2").run()
    at.number_input(key="lr").set_value(0.1).run()
    q = at.query_params
    assert q["preset"] == "single_step" and q["loss"] == "loss = 3 * w ** 2" and q["lr"] == "0.1"
    assert "[60, 120]" in dot(app(**q))


def test_classroom_link_hides_the_inputs():
    at = app(preset="single_step", hide="inputs", proj="1")
    ok(at)
    assert len(at.sidebar) == 0
    assert "fontsize=18" in dot(at)
    assert "loss = 2 * w ** 2" in at.code[0].value
    assert at.query_params["hide"] == "inputs"
    back, = link_items(at, "explorer_links")         # the address without hide=inputs, made in the browser
    assert back["set"] == {"hide": None} and back["open"] == "Show the inputs"


def test_projection_spends_no_line_twice():
    """Projected, the lines that repeat what the page shows elsewhere go, for the graph's sake: the
    tagline, "1 epoch" and "Step k of n" (the explanation opens with it); the step slider loses its label."""
    captions = lambda at: " ".join(c.value for c in at.main.caption)     # noqa: E731
    plain = app(preset="single_step")
    assert "1 epoch" in captions(plain) and "Step 4 of 4" in captions(plain) and "builds the backward graph" in captions(plain)
    at = app(preset="single_step", hide="inputs", proj="1")
    ok(at)
    assert "1 epoch" not in captions(at) and "Step 4 of 4" not in captions(at) and "builds the backward graph" not in captions(at)
    assert "Step 4 of 4" in words(at)
    assert step_slider(at).proto.label_visibility.value == LabelVisibility.LabelVisibilityOptions.COLLAPSED


def link_items(at: AppTest, component: str) -> list[dict]:
    """The items of a links component (browser.links): the browser makes each link from its address."""
    found = [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == component]
    assert len(found) == 1
    return found[0]["items"]


def test_share_box_offers_the_address_and_its_classroom_version():
    """The share box shows the address as it is now (the browser builds it: a step or a tab changes only a
    part of the page, not the sidebar), and the address is the state: reopening it gives the same page."""
    at = app(preset="multi_epoch", lang="zh")
    share, classroom = link_items(at, "explorer_links")
    assert share["set"] == {} and classroom["set"] == {"hide": "inputs", "proj": "1"}
    assert "链接" in share["caption"] and share["copy"] == "复制"
    at.slider(key="epoch").set_value(7).run()
    open_tab(at, "landscape")
    assert at.query_params == {"lang": "zh", "preset": "multi_epoch", "epoch": "7", "tab": "landscape"}
    assert figures(app(**at.query_params)) == figures(at)


# ---------------------------------------------------------------- speed


def test_slider_reruns_do_not_retrain(capsys):
    """Record (not assert) how long a rerun takes when only a slider moves vs when the experiment changes."""
    at = app(preset="mlp")

    def timed(action) -> float:
        t0 = time.perf_counter()
        action()
        return time.perf_counter() - t0

    lines = []
    for key, epochs in (("mlp", 300), ("multi_epoch", 500)):
        at.selectbox(key="preset_en").select(key).run()
        retrain = [timed(lambda i=i: at.number_input(key="epochs").set_value(epochs + 1 + i).run())
                   for i in range(3)]
        steps = [timed(lambda i=i: step_slider(at).set_value(i % 2).run()) for i in range(3)]
        scrub = [timed(lambda i=i: at.slider(key="epoch").set_value(10 + i).run()) for i in range(3)]
        lang = [timed(lambda v=v: at.radio(key="lang").set_value(v).run()) for v in ("zh", "en", "zh")]
        at.radio(key="lang").set_value("en").run()
        ok(at)
        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        lines.append(f"{key}: retrain {med(retrain) * 1000:.0f} ms | step slider {med(steps) * 1000:.0f} ms | "
                     f"epoch slider {med(scrub) * 1000:.0f} ms | language {med(lang) * 1000:.0f} ms "
                     f"(AppTest full reruns, median of 3)")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "timings.txt").write_text("\n".join(lines) + "\n")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert re.search(r"retrain \d+ ms", lines[0])


@pytest.mark.parametrize("key", ["multi_epoch", "mlp"])
def test_landscape_tab_shows_the_path_and_for_one_weight_the_slope(key):
    at = open_tab(app(preset=key, epoch="3"), "landscape")
    ok(at)
    fig = figures(at)[0]
    assert at.query_params["tab"] == "landscape"
    if key == "multi_epoch":
        names = [t.get("name", "") for t in fig["data"]]
        assert any("grad = 19.21" in n for n in names) and fig["layout"]["annotations"]
    else:
        assert fig["data"][0]["type"] == "contour" and "slice" in fig["layout"]["title"]["text"]


def test_landscape_tab_offers_random_directions_for_many_weights_and_keeps_them_in_the_url():
    at = app(preset="mlp", epoch="3", tab="landscape")
    ok(at)
    assert at.radio(key="dirs_en").value == "moved"
    at.radio(key="dirs_en").set_value("random").run()
    ok(at)
    assert at.query_params["dirs"] == "random"
    assert "random" in figures(at)[0]["layout"]["title"]["text"]
    again = app(**at.query_params)
    assert again.radio(key="dirs_en").value == "random" and figures(again)[0] == figures(at)[0]
    assert not app(preset="multi_epoch", tab="landscape").get("radio") or \
        all(r.key != "dirs_en" for r in app(preset="multi_epoch", tab="landscape").radio)


# ---------------------------------------------------------------- the optimizer race


def loss_traces(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t["type"] in ("scatter", "scattergl")]


def test_race_tab_opens_from_the_url_with_one_loss_curve_per_racer():
    at = app(preset="multi_epoch", tab="race")
    ok(at)
    assert at.query_params["tab"] == "race" and "race" not in at.query_params
    assert at.multiselect(key="race").value == ["gd", "sgd", "momentum", "adam"]
    curves, paths = figures(at)
    assert [t["name"] for t in loss_traces(curves)] == ["gd", "sgd", "momentum", "adam"]
    assert [t["type"] for t in curves["data"]].count("heatmap") == 1           # the winner strip
    assert any(s["x0"] == 1 for s in curves["layout"]["shapes"])
    gd = run(PRESETS["multi_epoch"])
    assert points(loss_traces(curves)[0]["y"]) == pytest.approx(gd.history.losses.tolist())
    assert {t["name"] for t in loss_traces(paths)} >= {"gd", "sgd", "momentum", "adam"}
    for opt in ("gd", "sgd", "momentum", "adam"):                # every racer is a shared, cached run
        assert PRESETS["multi_epoch"].replace(optimizer=opt) in compute.RUNS._items
    at.slider(key="epoch").set_value(120).run()
    ok(at)
    lead = next(m.value for m in at.main.markdown if m.value.startswith("Epoch 120:"))
    assert "leads" in lead and any(s["x0"] == 120 for s in figures(at)[0]["layout"]["shapes"])


def test_race_settings_round_trip_through_the_url():
    at = app(preset="multi_epoch", tab="race")
    at.multiselect(key="race").set_value(["gd", "adam"]).run()
    at.number_input(key="race_lr").set_value(0.1).run()
    ok(at)
    assert at.query_params["race"] == "gd,adam" and at.query_params["race_lr"] == "0.1"
    curves = figures(at)[0]
    assert [t["name"] for t in loss_traces(curves)] == ["gd", "adam", "gd · lr 0.1", "adam · lr 0.1"]
    assert [t["line"]["dash"] for t in loss_traces(curves)] == ["solid", "solid", "dash", "dash"]
    fresh = app(**at.query_params)
    ok(fresh)
    assert fresh.multiselect(key="race").value == ["gd", "adam"] and fresh.number_input(key="race_lr").value == 0.1
    assert figures(fresh) == figures(at)
    fresh.number_input(key="race_lr").set_value(None).run()
    assert "race_lr" not in fresh.query_params and len(loss_traces(figures(fresh)[0])) == 2
    open_tab(fresh, "graph")                                   # closing the tab keeps the race in the link
    assert fresh.query_params["race"] == "gd,adam" and not figures(fresh)


@pytest.mark.parametrize("lang, words", [("en", "learning rate must be between"), ("zh", "学习率必须在")])
def test_a_bad_second_learning_rate_is_explained_beside_it(lang, words):
    at = app(preset="multi_epoch", tab="race", lang=lang, race_lr="100")
    assert not at.exception
    errors = at.main.error
    assert len(errors) == 1 and words in errors[0].value and "Traceback" not in str(at)
    assert len(loss_traces(figures(at)[0])) == 4                # the race still runs, without that lr
    assert at.query_params["race_lr"] == "100.0"


def test_an_empty_race_says_so_and_diverged_racers_are_drawn():
    at = app(preset="lr_too_large", tab="race", lang="zh")
    ok(at)
    names = [t["name"] for t in loss_traces(figures(at)[0])]
    assert any("发散" in n for n in names)
    at.multiselect(key="race").set_value([]).run()
    assert "请至少选择" in at.main.info[-1].value and not figures(at)
    assert at.query_params["race"] == "none"


def test_race_on_many_weights_offers_the_random_slice_too():
    at = app(preset="mlp", tab="race", dirs="random", race="adam,momentum")
    ok(at)
    assert at.radio(key="dirs_en").value == "random"
    paths = figures(at)[1]
    assert "random" in paths["layout"]["title"]["text"] and paths["layout"]["xaxis"]["title"]["text"] == "d1"
    assert [t["name"] for t in loss_traces(paths) if t.get("showlegend", True)] == ["momentum", "adam"]


def test_race_runs_explain_a_bad_second_learning_rate_instead_of_raising():
    exp = PRESETS["multi_epoch"].replace(epochs=5)
    runs, error, left_out, _ = compute.race_runs(exp, ("gd", "adam"), 50.0)
    assert [(o, lr) for o, lr, _ in runs] == [("gd", None), ("adam", None)] and error.field == "lr"
    runs, error, left_out, _ = compute.race_runs(exp, ("gd", "adam"), 0.1)
    assert error is None and not left_out and [(o, lr) for o, lr, _ in runs][2:] == [("gd", 0.1), ("adam", 0.1)]
    assert runs[0][2].history.losses.tolist() == run(exp).history.losses.tolist()


# ---------------------------------------------------------------- detach


def test_detach_presets_differ_in_the_graph_and_the_gradient():
    """By hand: with detach, d/dw (w - c)² summed = 2(w - 3w) = -4w; without, 2(w - 3w)(1 - 3) = 8w."""
    cut = app(preset="detach_target")
    ok(cut)
    whole = app(preset="no_detach_target")
    ok(whole)
    cut_dot, whole_dot = dot(cut), dot(whole)
    assert "(3 * w).detach()" in cut_dot and "detached" in cut_dot and "MulBackward0" not in cut_dot
    assert "<b>target</b> = MulBackward0" in whole_dot and "detach" not in whole_dot
    assert "grad [-4, -8]" in cut_dot and "grad [8, 16]" in whole_dot
    assert "−4w" in " ".join(i.value for i in cut.info) and "8w" in " ".join(i.value for i in whole.info)
    assert "[-4, -8]" in words(cut) and "[8, 16]" in words(whole)
    assert run(PRESETS["detach_target"]).history.grads["w"][0].tolist() == [-4.0, -8.0]
    assert run(PRESETS["no_detach_target"]).history.grads["w"][0].tolist() == [8.0, 16.0]
    zh = app(preset="detach_target", lang="zh")
    assert "常数" in " ".join(i.value for i in zh.info)
    # the float64 estimate still sees the path through target: it finds 8w, autograd -4w, and the page says why
    table = gradcheck_table(cut)
    assert list(table["autograd (float32)"]) == ["-4.0", "-8.0"]
    assert [round(float(v), 4) for v in table["Estimate (float64)"]] == [8.0, 16.0]
    assert "differ on purpose" in " ".join(i.value for i in cut.info)
    assert "differ on purpose" not in " ".join(i.value for i in whole.info)


# ---------------------------------------------------------------- gradient check


def gradcheck_table(at: AppTest):
    frames = [d.value for d in at.main.dataframe]     # the graph tab's only table
    assert len(frames) == 1
    return frames[0]


def test_gradient_check_lists_autograd_the_estimate_and_the_difference_per_leaf():
    at = app(preset="linear_layer")
    ok(at)
    table = gradcheck_table(at)
    assert list(table.columns) == ["Element", "autograd (float32)", "Estimate (float64)", "Difference"]
    assert len(table) == 15 + 3
    row = table[table["Element"] == "w[0, 2]"].iloc[0]
    assert row["autograd (float32)"] == repr(explorer_grad("linear_layer", "w")[0][2])   # full float32 repr
    assert float(row["Estimate (float64)"]) == pytest.approx(-2.8107333, abs=1e-6)
    text = words(at)
    assert "Gradient check" in text and "`w` (5×3): all 15 elements checked" in text
    step_slider(at).set_value(5).run()       # AccumulateGrad of w: its step mentions the estimate
    assert "central difference" in words(at) and "d loss/d w" in words(at)
    big = app(preset="linear_layer", proj="1")      # projection: a Markdown table, which the page's CSS enlarges
    assert not big.main.dataframe and "| w[0, 2] | -2.8107333183288574 |" in words(big)
    zh = app(preset="linear_layer", lang="zh")
    assert "梯度检验" in words(zh) and list(gradcheck_table(zh).columns)[2] == "数值估计（float64）"


def explorer_grad(key, name):
    return run(PRESETS[key]).history.grads[name][0].tolist()


@pytest.mark.parametrize("loss, op", [("torch.relu(w).sum()", "relu"), ("w.abs().sum()", "abs")])
def test_a_kink_is_noted_with_the_subgradient_pytorch_picks(loss, op):
    from explorer import Experiment
    exp = Experiment(tensors={"w": "[-1.0, 0.0, 2.0]"}, trainable=("w",), loss=f"loss = {loss}")
    at = app(**to_query(exp, "en", None))
    ok(at)
    notes = " ".join(w.value for w in at.warning)
    assert f"corner of `{op}`" in notes and f"{op}′(0)" in notes and "`w` has 1 element(s) exactly on a corner" in notes
    table = gradcheck_table(at)
    assert list(table["Element"]) == ["w[0]", "w[1]", "w[2]"]
    assert table["Estimate (float64)"][1].startswith("0.5" if op == "relu" else "0.0")
    zh = app(**to_query(exp, "zh", None))
    assert "拐点" in " ".join(w.value for w in zh.warning)
    assert not app(preset="single_step").warning


def test_a_big_tensor_is_checked_on_64_spread_elements():
    from explorer import Experiment
    exp = Experiment(tensors={"w": "torch.randn(100, 100)"}, trainable=("w",), loss="loss = (w * w).mean()")
    at = app(**to_query(exp, "en", None))
    ok(at)
    assert "`w` (100×100): 64 of 10,000 elements checked, evenly spread" in words(at)
    table = gradcheck_table(at)
    assert len(table) == 64 and table["Element"][0] == "w[0, 0]" and table["Element"][63] == "w[99, 99]"
    assert all(float(d) < 1e-6 for d in table["Difference"])


def test_projected_matrices_get_their_own_box_below():
    """The mm step's aligned matrices are taller than a projected screen has room for beside the graph:
    projected, the explanation keeps its words and the numbers come in a box of their own below."""
    def texts(at):
        return [m.value for m in at.main.markdown]
    plain = app(preset="linear_layer", step="4")
    ok(plain)
    explained = next(x for x in texts(plain) if "MmBackward0" in x)
    assert "```" in explained and "0.3499" in explained           # Xᵀ · dL/dZ inline, with the numbers
    at = app(preset="linear_layer", step="4", hide="inputs", proj="1")
    ok(at)
    explained = next(x for x in texts(at) if "MmBackward0" in x)
    assert "```" not in explained
    worked = [x for x in texts(at) if "```" in x]
    assert len(worked) == 1 and "0.3499" in worked[0]


def test_several_unused_trainables_get_one_note_not_one_each():
    """Four trainable tensors the loss never uses: one note naming them all, so the graph stays on screen."""
    from explorer import Experiment
    exp = Experiment(tensors={"w": "[1., 2.]", "a": "[1.]", "b": "[2.]", "c": "[3.]", "d": "[4.]"},
                     trainable=("w", "a", "b", "c", "d"), loss="loss = (w * w).sum()", epochs=1)
    at = app(**to_query(exp, "en"))
    assert not at.exception
    notes = [i.value for i in at.info if "never uses" in i.value]
    assert len(notes) == 1 and all(n in notes[0] for n in "abcd"), notes
    at = app(**to_query(exp, "zh"))
    assert len([i for i in at.info if "a" in i.value and "d" in i.value and "梯度" in i.value]) == 1
