"""Everything the page computes, cached on the hashable Experiment.

Training is cached per experiment and every view (graph, DOT, explanation, figures, log) per
(experiment, epoch, ...), so moving a slider, switching tabs or changing language never
retrains: a rerun only looks results up.

Runs and figures are cached as shared objects (`st.cache_resource`), not pickled copies
(`st.cache_data`): a 100x100 weight trained 10,000 epochs is an 800 MB history, and pickling
it both ways took 7 s on every rerun. The page only reads them; graphs are traced on a copy
of the run so the shared one never grows. Small results (graphs, DOT, text, rows) use
`st.cache_data`, whose copies keep sessions from ever sharing mutable state.
"""
from __future__ import annotations

import csv
import io
import streamlit as st

import explorer
from explorer import render
from explorer.explain import explain_step
from explorer.experiment import Experiment

from .text import t

LOG_ROWS = 200              # epochs the log table shows at once
LOG_CELLS = 40_000          # numbers the log table shows at once (big tensors get fewer epochs)
CSV_CELLS = 2_000_000       # numbers in the CSV (~40 MB): every epoch of any run a person would read
LR_NODES = 6               # graphs up to this many nodes are drawn left to right
CURVE_MARKERS = 50          # runs this short get markers: one epoch is otherwise an invisible line


@st.cache_resource(max_entries=16, show_spinner=False)
def train(exp: Experiment) -> explorer.Run:
    """Validate and train; raises ExplorerError for bad input (errors are not cached)."""
    return explorer.run(exp)


@st.cache_data(max_entries=64, show_spinner=False)
def graph_of(exp: Experiment, epoch: int) -> explorer.Graph:
    return train(exp).trace(epoch)


@st.cache_data(max_entries=256, show_spinner=False)
def dot_of(exp: Experiment, epoch: int, step: int | None, projection: bool, lang: str) -> str:
    graph = graph_of(exp, epoch)
    return render.to_dot(graph, step, projection=projection, lang=lang, rankdir="LR" if wide(graph) else "TB")


def wide(graph: explorer.Graph) -> bool:
    """Small graphs read best left to right, across the page; bigger ones are drawn top to bottom,
    or they would shrink to unreadable (the course's linear layer is 2000 px wide left to right)."""
    return len(graph.nodes) <= LR_NODES


@st.cache_data(max_entries=256, show_spinner=False)
def explanation(exp: Experiment, epoch: int, step: int, lang: str) -> str:
    return explain_step(graph_of(exp, epoch), step, lang=lang)


@st.cache_data(max_entries=16, show_spinner=False)
def image(dot: str, fmt: str) -> bytes:
    import graphviz
    return graphviz.Source(dot).pipe(format=fmt)


@st.cache_resource(max_entries=64, show_spinner=False)
def loss_figure(exp: Experiment, epoch: int, log_y: bool, projection: bool, lang: str):
    h = train(exp).history
    return _markers(render.loss_figure(h, mark_epoch=epoch, log_y=log_y, projection=projection, lang=lang), len(h))


@st.cache_resource(max_entries=64, show_spinner=False)
def tensor_figure(exp: Experiment, which: str, epoch: int, log_y: bool, projection: bool, lang: str):
    h = train(exp).history
    fig = render.tensor_figure(h, which, mark_epoch=epoch, log_y=log_y, projection=projection, lang=lang)
    return _markers(fig, len(h))


@st.cache_data(max_entries=32, show_spinner=False)
def script(exp: Experiment) -> str:
    return explorer.export_script(exp)


@st.cache_data(max_entries=64, show_spinner=False)
def log_rows(exp: Experiment, lang: str, start: int, stop: int) -> tuple[list[str], list[list]]:
    return log_table(train(exp), lang, start, stop)


@st.cache_data(max_entries=8, show_spinner=False)
def log_csv(exp: Experiment, lang: str) -> bytes:
    run = train(exp)
    header, rows = log_table(run, lang, 0, log_limits(run)[1])
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8-sig")      # the BOM lets Excel read the Chinese headers


def _markers(fig, epochs: int):
    if epochs <= CURVE_MARKERS:
        fig.update_traces(mode="lines+markers", selector=dict(mode="lines"))
    return fig


# ---------------------------------------------------------------- plain logic

def log_limits(run: explorer.Run) -> tuple[int, int]:
    """(epochs the table shows at once, epochs the CSV holds): fewer when the tensors are big."""
    h = run.history
    numbers = 1 + 3 * sum(h.params[n][0].numel() for n in h.names)
    return max(1, min(LOG_ROWS, LOG_CELLS // numbers)), max(1, min(len(h), CSV_CELLS // numbers))


def log_table(run: explorer.Run, lang: str, start: int = 0,
              stop: int | None = None) -> tuple[list[str], list[list]]:
    """The course's per-epoch printout as rows: epoch, (tensor,) weight, lr, gradient, next weight, loss.

    Numbers are `.tolist()` of the float32 tensors, the exact values the course prints. Several
    trainable tensors get a row each per epoch (a 5x3 weight does not fit beside another one).
    """
    h = run.history
    names = h.names
    per_tensor = len(names) > 1
    header = [t("col_epoch", lang)] + ([t("col_tensor", lang)] if per_tensor else []) + \
        [t(k, lang) for k in ("col_weight", "col_lr", "col_grad", "col_next", "col_loss")]
    lr = run.experiment.lr
    stop = len(h) if stop is None else min(stop, len(h))
    rows = []
    for i in range(max(0, start), stop):
        loss = float(h.losses[i])
        for n in names:
            g = h.grads[n]
            row = [i + 1] + ([n] if per_tensor else [])
            row += [_num(h.params[n][i]), lr, "None" if g is None else _num(g[i]), _num(h.params[n][i + 1]), loss]
            rows.append(row)
    return header, rows


def _num(x) -> str:
    v = x.tolist()
    return repr(v) if isinstance(v, float) else str(v)
