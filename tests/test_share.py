"""URL state: every experiment survives to_query -> from_query, and no URL can make reading fail."""
from urllib.parse import parse_qsl, urlencode

import pytest

from explorer import PRESETS, Experiment
from explorer.share import from_query, to_query


def through_url(q: dict[str, str]) -> dict[str, str]:
    """What the browser hands back after the query string has been percent-encoded and parsed."""
    return dict(parse_qsl(urlencode(q), keep_blank_values=True))


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_round_trip_is_just_its_name(key):
    q = to_query(PRESETS[key], "en", key)
    assert q == {"lang": "en", "preset": key}
    exp, lang, preset, view = from_query(through_url(q))
    assert (exp, lang, preset, view) == (PRESETS[key], "en", key, {})


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_without_its_name_round_trips_in_full(key):
    exp, lang, preset, _ = from_query(through_url(to_query(PRESETS[key], "zh")))
    assert exp == PRESETS[key] and lang == "zh" and preset is None


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
    q = to_query(exp, "zh", key, epoch=3, step=2, hide="inputs", proj=True, log=False)
    assert q["lang"] == "zh" and "log" not in q
    back, lang, preset, view = from_query(through_url(q))
    assert back == exp
    assert (lang, preset) == ("zh", key)
    assert view == {"epoch": 3, "step": 2, "hide": "inputs", "proj": True}


def test_only_changed_fields_are_written():
    q = to_query(PRESETS["multi_epoch"].replace(lr=0.1), "en", "multi_epoch")
    assert q == {"lang": "en", "preset": "multi_epoch", "lr": "0.1"}


def test_empty_query_means_default():
    assert from_query({}) == (None, "en", None, {})


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
    exp, lang, preset, view = from_query(params)
    assert lang in ("en", "zh") and (preset is None or preset in PRESETS)
    assert exp is None or isinstance(exp, Experiment)
    assert all(k in ("epoch", "step", "hide", "proj", "log") for k in view)


def test_malformed_fields_fall_back_to_the_preset():
    exp, lang, preset, view = from_query({"preset": "multi_epoch", "lr": "abc", "epochs": "ten",
                                          "t": "garbage", "opt": "rmsprop", "lang": "zh"})
    assert exp == PRESETS["multi_epoch"] and lang == "zh" and preset == "multi_epoch"


def test_out_of_range_values_are_kept_for_the_app_to_explain():
    exp, *_ = from_query({"preset": "single_step", "lr": "100", "epochs": "0", "seed": "-1"})
    assert (exp.lr, exp.epochs, exp.seed) == (100.0, 0, -1)


def test_repeated_parameter_counts_by_its_last_value():
    exp, lang, *_ = from_query({"lang": ["en", "zh"], "preset": ["single_step", "mlp"]})
    assert lang == "zh" and exp == PRESETS["mlp"]


def test_race_and_slice_settings_round_trip():
    q = to_query(PRESETS["multi_epoch"], "en", "multi_epoch", tab=5, race="gd,adam", race_lr="0.1", dirs="random")
    assert q["race"] == "gd,adam" and q["race_lr"] == "0.1"
    _, _, _, view = from_query(through_url(q))
    assert view == {"tab": 5, "race": ("gd", "adam"), "race_lr": 0.1, "dirs": "random"}
    _, _, _, view = from_query({"race": "adam,gd,adam,nope", "race_lr": "inf", "dirs": "sideways"})
    assert view == {"race": ("gd", "adam")}
    assert from_query({"race": "none", "race_lr": "1" * 40})[3] == {"race": ()}
    assert from_query({"race": "nope"})[3] == {}
