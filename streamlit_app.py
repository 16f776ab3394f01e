"""Autograd Explorer: `streamlit run streamlit_app.py`.

This file starts the server and serves `explorer/ui/page.py`, the page. Before the server answers, the process is
set up (one OpenMP and torch thread: many sessions share the box) and every example's first page is
computed (`explorer.ui.startup.warm`), so the first visitor after a start, a hosted demo's first
student of the morning, waits for the page and nothing else.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")      # before torch loads

import asyncio  # noqa: E402
import contextlib  # noqa: E402

import streamlit as st  # noqa: E402


@contextlib.asynccontextmanager
async def warmed(_app):
    from explorer.ui import startup
    await asyncio.to_thread(startup.warm)
    yield


app = st.App("explorer/ui/page.py", lifespan=warmed)
