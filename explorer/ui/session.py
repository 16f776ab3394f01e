"""Where the page's state lives: one `Page` per browser tab, read from the URL once, written back once.

The URL is read on a session's first run only (a link opens the page it names, in the browser's
language when it names none), and written at the end of each rerun: of the page, or of the fragment
that reran (nested parts write once, at the end of the outermost). Streamlit 1.67's
`bind="query-params"` would have the browser write widget values into the URL itself, but as their
labels (`opt=Gradient descent…`, `lang=简体中文`, which a language switch changes) and as `true`
where our links say `proj=1` (old links would lose them), and out of sight of the server, so AppTest
and `python -m bench load` could not see the URL a student shares. One codec (`explorer.share`) for all.
"""
from __future__ import annotations

import functools
import threading

import streamlit as st

from explorer import share

from .state import Page

KEY = "page"
_depth = threading.local()       # each session's script runs in a thread of its own


def current() -> Page:
    """This tab's page; on its first run, the one its URL names."""
    page = st.session_state.get(KEY)
    if page is None:
        page = st.session_state[KEY] = opened()
    return page


def opened() -> Page:
    params = st.query_params.to_dict()
    exp, preset, view = share.read(params)
    if "lang" not in params and (st.context.locale or "").lower().startswith("zh"):
        view = view.replace(lang="zh")
    return Page.open(exp, preset, view)


def link(page: Page, **changes) -> dict[str, str]:
    """The query that reopens `page` (with view `changes`, e.g. hide=True)."""
    return share.write(page.draft.experiment(), page.preset, page.view.replace(**changes))


def in_url(part):
    """A page part (the script, a fragment) that ends by writing the page's state into the URL, once
    per rerun: a part run inside another leaves it to the outer one. Always, not only when it differs from
    `st.query_params`: a rerun sees the address the browser had when it asked for it, and quick presses ask
    while an earlier rerun's address is still on its way, so an "unchanged" address could be a stale one."""
    @functools.wraps(part)
    def wrapped(*args, **kwargs):
        depth = getattr(_depth, "n", 0)
        _depth.n = depth + 1
        try:
            out = part(*args, **kwargs)
        finally:
            _depth.n = depth
        if depth == 0:                  # sent even when it looks unchanged: see below
            st.query_params.from_dict(link(current()))
        return out
    return wrapped
