"""The figure adapter: the app's own path (Streamlit's proto, JSON built once) draws what `st.plotly_chart`
draws from the same figure, so the fallback for a Streamlit whose internals changed shows the same picture."""
import json

from streamlit.testing.v1 import AppTest

SCRIPT = '''
import streamlit as st
from explorer import PRESETS, compute
from explorer.ui import charts

run = compute.train(PRESETS["multi_epoch"])
spec = compute.curve(run, "loss", 7, False, False, "en")
charts.plotly_json(spec, key="direct", height=360)
charts.through_streamlit(spec, key="fallback", height=360)
'''


def test_the_direct_path_and_st_plotly_chart_draw_the_same_figure():
    at = AppTest.from_string(SCRIPT, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    direct, fallback = at.get("plotly_chart")
    a, b = json.loads(direct.proto.spec), json.loads(fallback.proto.spec)
    assert a["data"] == b["data"]
    for k in ("title", "xaxis", "yaxis", "shapes", "font", "showlegend", "margin"):
        assert a["layout"].get(k) == b["layout"].get(k), k
    assert direct.proto.theme == fallback.proto.theme == "streamlit"
    assert json.loads(direct.proto.config or "{}") == json.loads(fallback.proto.config or "{}")
