"""An optimizer race: the same experiment under several optimizers (and a second learning rate), overlaid."""
from __future__ import annotations

import streamlit as st

import explorer
from explorer import ExplorerError, compute, render
from explorer import limits as L

from . import bind, landscape_view
from .charts import plotly_json
from .state import Page
from .text import plain, t


def show(page: Page, run: explorer.Run, epoch: int) -> None:
    """Only runs when the tab is open: every racer is a cached run, every figure a cached JSON."""
    lang, projection = page.view.lang, page.view.proj
    st.caption(t("race_caption", lang))
    left, right, log_col = st.columns([5, 3, 2], vertical_alignment="bottom")
    with left:
        st.multiselect(t("race_who", lang), explorer.OPTIMIZERS, **bind.racers())
    with right:
        st.number_input(t("race_lr", lang), value=None, format="%g", step=0.001, help=t("race_lr_help", lang),
                        **bind.view("race_lr"))
    with log_col:
        log_y = st.toggle(t("log_y", lang), **bind.view("log"))
    optimizers, lr2 = page.view.race, page.view.race_lr
    if not optimizers:
        st.info(t("race_none", lang), icon=":material/sports_score:")
        return
    try:
        with st.spinner(t("training", lang)):
            race = compute.race_runs(run.experiment, optimizers, lr2)
    except ExplorerError as e:          # e.g. a server too busy to finish a racer in time
        st.error(plain(e.message(lang)), icon=":material/error:")
        return
    runs = race.runs
    if race.error is not None:
        with right:
            st.error(plain(race.error.message(lang)), icon=":material/error:")
    if race.left_out:
        names = ", ".join(render.racer_name(opt, lr, lang) for opt, lr in race.left_out)
        st.info(t("race_left_out", lang, names=names, each=f"{race.each:.2g}", limit=f"{L.SHARES['race']:g}"),
                icon=":material/timer:")
    if not runs:
        return
    lead = render.leader([r.history.losses.numpy() for _, _, r in runs], epoch)
    if lead is None:
        st.markdown(t("race_all_diverged", lang, k=epoch))
    else:
        i, loss, tied = lead
        opt, lr, _ = runs[i]
        st.markdown(t("race_tied" if tied else "race_leader", lang, k=epoch, n=tied,
                      name=render.racer_name(opt, lr, lang), loss=repr(loss)))
    plotly_json(compute.race(runs, epoch, log_y, projection, lang), key="fig_race", height=render.sizes(projection).race_px)
    st.caption(t("race_landscape_caption", lang))
    dirs = landscape_view.directions(page, run)
    try:
        spec = compute.race_landscape(run, runs, epoch, projection, lang, dirs)
    except ExplorerError as e:
        st.warning(plain(e.message(lang)), icon=":material/landscape:")
        return
    plotly_json(spec, key="fig_race_landscape", height=render.sizes(projection).landscape_px)
