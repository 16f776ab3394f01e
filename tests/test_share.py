"""URL state: every experiment survives to_query -> from_query, and no URL can make reading fail."""
from urllib.parse import parse_qsl, urlencode

import pytest

from explorer import PRESETS, Experiment
from explorer.share import View, read, to_query


def through_url(q: dict[str, str]) -> dict[str, str]:
    """What the browser hands back after the query string has been percent-encoded and parsed."""
    return dict(parse_qsl(urlencode(q), keep_blank_values=True))


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_round_trip_is_just_its_name(key):
    q = to_query(PRESETS[key], "en", key)
    assert q == {"lang": "en", "preset": key}
    assert read(through_url(q)) == (PRESETS[key], key, View())


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_without_its_name_round_trips_in_full(key):
    exp, preset, view = read(through_url(to_query(PRESETS[key], "zh")))
    assert exp == PRESETS[key] and view.lang == "zh" and preset is None


EDITS = [
    dict(lr=0.5),
    dict(lr=1e-6, epochs=10_000, seed=2**31 - 1),
    dict(optimizer="adam", zero_grad=False),
    dict(loss="z = 2 * w ** 2  # 中文注释 & = ? %\nloss = z.sum()"),
    dict(tensors={"w": "torch.tensor([1.5, -2], requires_grad=True)", "x": "[[1, 2],\n [3, 4]]"},
         trainable=("w",)),
    dict(tensors={}, trainable=()),
    dict(tensors={"a": "1.", "b": "torch.randn(3)"}, trainable=("a", "b")),
    dict(loss=""),
]


@pytest.mark.parametrize("changes", EDITS, ids=[",".join(c) for c in EDITS])
@pytest.mark.parametrize("key", ["single_step", "linear_layer", None])
def test_edited_round_trip(key, changes):
    exp = (PRESETS[key] if key else Experiment()).replace(**changes)
    q = to_query(exp, "zh", key, epoch=3, step=2, hide=True, proj=True, log=False)
    assert q["lang"] == "zh" and "log" not in q and q["hide"] == "inputs" and q["proj"] == "1"
    back, preset, view = read(through_url(q))
    assert back == exp and preset == key
    assert view == View(lang="zh", epoch=3, step=2, hide=True, proj=True)


def test_only_changed_fields_are_written():
    q = to_query(PRESETS["multi_epoch"].replace(lr=0.1), "en", "multi_epoch")
    assert q == {"lang": "en", "preset": "multi_epoch", "lr": "0.1"}


def test_empty_query_means_default():
    assert read({}) == (None, None, View())


MALFORMED = [
    {"preset": "nope", "lang": "fr"},
    {"lr": "abc", "epochs": "1.5", "seed": "x", "opt": "rmsprop", "zg": "maybe"},
    {"lr": "nan"}, {"lr": "inf"}, {"epochs": "9" * 400},
    {"t": "not json"}, {"t": "{}"}, {"t": "[[1, 2]]"}, {"t": "[[\"w\"]]"}, {"t": "[" * 5000},
    {"t": "null"}, {"t": "[[\"w\", \"1\", \"extra\"]]"},
    {"epoch": "x", "step": "-", "proj": "2", "log": ""},
    {"lang": ["en", "zh"]}, {"preset": []}, {"lr": None}, {1: 2},
    "not a mapping",
]


@pytest.mark.parametrize("params", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_params_give_defaults_without_raising(params):
    exp, preset, view = read(params)
    assert view.lang in ("en", "zh") and (preset is None or preset in PRESETS)
    assert exp is None or isinstance(exp, Experiment)
    assert view == View(lang=view.lang)


def test_malformed_fields_fall_back_to_the_preset():
    exp, preset, view = read({"preset": "multi_epoch", "lr": "abc", "epochs": "ten",
                              "t": "garbage", "opt": "rmsprop", "lang": "zh"})
    assert exp == PRESETS["multi_epoch"] and view.lang == "zh" and preset == "multi_epoch"


def test_out_of_range_values_are_kept_for_the_app_to_explain():
    exp, *_ = read({"preset": "single_step", "lr": "100", "epochs": "0", "seed": "-1"})
    assert (exp.lr, exp.epochs, exp.seed) == (100.0, 0, -1)


def test_repeated_parameter_counts_by_its_last_value():
    exp, _, view = read({"lang": ["en", "zh"], "preset": ["single_step", "mlp"]})
    assert view.lang == "zh" and exp == PRESETS["mlp"]


def test_race_and_slice_settings_round_trip():
    q = to_query(PRESETS["multi_epoch"], "en", "multi_epoch", tab="race", race=("gd", "adam"), race_lr=0.1,
                 dirs="random")
    assert q["race"] == "gd,adam" and q["race_lr"] == "0.1" and q["tab"] == "race"
    _, _, view = read(through_url(q))
    assert view == View(tab="race", race=("gd", "adam"), race_lr=0.1, dirs="random")
    _, _, view = read({"race": "adam,gd,adam,nope", "race_lr": "inf", "dirs": "sideways"})
    assert view == View(race=("gd", "adam"))
    assert read({"race": "none", "race_lr": "1" * 40})[2] == View(race=())
    assert read({"race": "nope"})[2] == View()
    assert to_query(PRESETS["mlp"], race=())["race"] == "none"


@pytest.mark.parametrize("text, tab", [("landscape", "landscape"), ("4", "landscape"), ("5", "race"), ("0", "graph"),
                                       ("1", "curves"), ("Race", "race"), ("9", "graph"), ("a tab", "graph"),
                                       ("x" * 40, "graph"), ("-1", "graph")])
def test_tabs_by_name_and_old_numbered_links(text, tab):
    """`tab=landscape`; links from before tabs had names still open the tab they meant."""
    assert read({"tab": text})[2].tab == tab


def test_view_settings_at_their_defaults_are_not_written():
    assert to_query(PRESETS["mlp"], "en", "mlp", **{f: getattr(View(), f) for f in View.__dataclass_fields__
                                                    if f != "lang"}) == {"lang": "en", "preset": "mlp"}
