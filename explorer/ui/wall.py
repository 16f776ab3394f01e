"""Projection mode's picture of a graph too big to read whole on a wall: the step's part drawn big
(`compute.dot_of(..., focus=True)`) with the whole graph beside it as a small map of dots, so the room
keeps its place in the whole while every number stays readable from the back row."""
from __future__ import annotations

import streamlit as st

import explorer
from explorer import compute, render

from .text import t

ss = st.session_state
MAP = "wall_map"            # the map's container key, a prefix (the page's CSS and tests find it by it)


def columns(projection: bool):
    """(the focused graph's column, the map's column): the map between the graph and its explanation."""
    graph, whole = render.sizes(projection).beside_map
    return st.columns([graph, whole], gap="small")


def draw_map(run: explorer.Run, epoch: int, step: int, projection: bool, lang: str) -> None:
    """The whole graph, `step` in orange, no taller than `Sizes.map_px`. Like the big graph, a changed
    map is mounted afresh (a new key, shifted one slot every other time): morphed in place, the browser's
    d3-graphviz leaves the old drawing up."""
    dot = compute.map_of(run, epoch, step, projection)
    if ss.get("map_dot") != dot:
        ss.map_dot, ss.map_n = dot, ss.get("map_n", 0) + 1
    st.html(f"<style>[data-testid='stMain'] [class*='st-key-{MAP}'] [data-testid='stGraphVizChart'] svg"
            f"{{max-height:{render.sizes(projection).map_px}px; max-width:100%}}</style>")
    with st.container(key=f"{MAP}_{ss.map_n}"):
        if ss.map_n % 2:
            st.empty()
        st.graphviz_chart(dot, width="content", alt=t("map_alt", lang))
