"""The Streamlit page, in pieces: `page.py` reads as a list of these.

Only this package imports streamlit. It works from the engine's plain data (runs, graphs,
histories) and never touches autograd objects itself.
"""
