"""The Streamlit page, in pieces: `streamlit_app.py` reads as a list of these.

Only this package imports streamlit. It works from the engine's plain data (runs, graphs,
histories) and never touches autograd objects itself.
"""

import gc

import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import streamlit  # noqa: F401

import explorer  # noqa: F401

# What the page imports (streamlit, torch, plotly, pandas: millions of objects) lives as long as the
# server: keep it out of the garbage collector's full passes, which would otherwise walk it all.
gc.freeze()
