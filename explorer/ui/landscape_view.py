"""The loss over the weights with the run's path: why each update goes where it goes."""
from __future__ import annotations

import streamlit as st

import explorer
from explorer import ExplorerError, compute, render
from explorer import limits as L

from . import bind
from .charts import plotly_json
from .state import Page
from .text import plain, t

DIRECTIONS = ("moved", "random")


def directions(page: Page, run: explorer.Run) -> str:
    """The slice's choice, offered only where there is one to make: more than two trained numbers."""
    lang = page.view.lang
    if sum(run.history.params[n][0].numel() for n in run.history.names) > 2:
        st.radio(t("dirs", lang), DIRECTIONS, horizontal=True, format_func=lambda k: t(f"dirs_{k}", lang),
                 help=t("dirs_help", lang), **bind.view("dirs", lang))
    return page.view.dirs


def show(page: Page, run: explorer.Run, epoch: int) -> None:
    lang, projection = page.view.lang, page.view.proj
    st.caption(t("landscape_caption", lang))
    dirs = directions(page, run)
    try:
        spec = compute.landscape(run, epoch, projection, lang, dirs)
    except ExplorerError as e:            # nothing to draw, or stopped on a very busy server
        st.warning(plain(e.message(lang)), icon=":material/landscape:")
        return
    plotly_json(spec, key="fig_landscape", height=render.sizes(projection).landscape_px)
    coarse(compute.landscape_grid(run, epoch, dirs), lang)


def coarse(land: explorer.Landscape, lang: str) -> None:
    """Say so where the grid is coarser than usual: each point is one forward pass of the loss."""
    full = explorer.landscape_points(len(land.grid))
    n = len(land.grid[0])
    if n < full:
        shape = " × ".join([str(n)] * len(land.grid))
        st.caption(t("landscape_coarse", lang, shape=shape, full=" × ".join([str(full)] * len(land.grid)),
                     limit=f"{L.SHARES['landscape']:g}"))
