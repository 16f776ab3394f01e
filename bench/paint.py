"""`python -m bench paint`: how long a visitor waits for the first graph, in Debian's chromium.

Each visit is a fresh browser context (no cache, as a new student's browser), navigating to the app
and recording, from the navigation's start, when the HTML arrived, when the app's shell (its title)
was drawn, when the first graph was drawn and when the sidebar's inputs were. "Cold" is the first
visit after the server started (a hosted demo that slept: every morning's first student), measured
on a fresh server each time; "warm" is any later visit to a running server.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .load import start_app, stop_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MARKS = {"shell": "[data-testid='stMain'] h1",
         "graph": "[data-testid='stGraphVizChart'] svg g.node",
         "inputs": "[data-testid='stSidebar'] .st-key-loss textarea"}
# Recorded in the page from its first script on: when each mark's element first exists.
WATCH = """
window.__marks = {};
const marks = %s;
const look = () => {
  for (const [name, sel] of Object.entries(marks)) {
    if (!(name in window.__marks) && document.querySelector(sel)) window.__marks[name] = performance.now();
  }
};
new MutationObserver(look).observe(document, {childList: true, subtree: true, attributes: true});
"""
TIMEOUT = 120_000


def visit(browser, url: str) -> dict[str, float]:
    """Seconds from navigation start to: html (response end), each of MARKS."""
    import json
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.add_init_script(WATCH % json.dumps(MARKS))
        page.goto(url, timeout=TIMEOUT)
        page.wait_for_function("() => Object.keys(window.__marks).length === %d" % len(MARKS), timeout=TIMEOUT)
        marks = page.evaluate("() => window.__marks")
        html = page.evaluate("() => performance.getEntriesByType('navigation')[0].responseEnd")
        return {"html": html / 1000, **{k: v / 1000 for k, v in marks.items()}}
    finally:
        context.close()


def summary(rows: list[dict[str, float]]) -> str:
    keys = ["html", *MARKS]
    return " · ".join(f"{k} {statistics.median(r[k] for r in rows):.2f} s" for k in keys)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench paint", description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=int, default=3, help="fresh servers, one first visit each")
    ap.add_argument("--warm", type=int, default=5, help="later visits to one running server")
    ap.add_argument("--query", default="", help="what the visitor opens, e.g. preset=mlp (default: the home page)")
    ap.add_argument("--app", type=Path, default=ROOT, help="directory whose streamlit_app.py to serve")
    args = ap.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("needs Debian's chromium: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    cold, warm = [], []
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="bench-paint-") as tmp:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for i in range(args.cold + 1):
            proc = None
            try:
                t0 = time.perf_counter()
                proc, base = start_app(Path(tmp), args.app.resolve())
                started = time.perf_counter() - t0
                url = f"{base}/?{args.query}" if args.query else f"{base}/"
                if i < args.cold:
                    cold.append(visit(browser, url))
                    print(f"  cold {i + 1}: server healthy after {started:.1f} s; {summary(cold[-1:])}",
                          file=sys.stderr, flush=True)
                    continue
                visit(browser, url)                     # the last server: warm visits after a first one
                for j in range(args.warm):
                    warm.append(visit(browser, url))
                    print(f"  warm {j + 1}: {summary(warm[-1:])}", file=sys.stderr, flush=True)
            finally:
                stop_app(proc)
        browser.close()
    print(f"cold (first visit after a server start, median of {len(cold)}): {summary(cold) if cold else '-'}")
    print(f"warm (median of {len(warm)}): {summary(warm) if warm else '-'}")
    print("Seconds from navigation start, a fresh 1280x720 browser context each visit: html = the page's "
          "HTML received, shell = the app's title drawn, graph = the first graph's nodes drawn, inputs = the "
          "sidebar's loss box drawn.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
