"""`python -m bench reruns`: server CPU of one view-only rerun, per preset and per action.

A view-only rerun (epoch slider, backward step, language, tab, log scale) must stay cheap however many
students share the server: it only looks results up. Each preset is opened once in Streamlit's
AppTest (the same ScriptRunner the server uses), then each action is repeated and the CPU time of
the script thread is read (`time.thread_time`, unaffected by other processes' load). Prints p50 and
p90 per preset and action; the target is p90 <= 30 ms. AppTest reruns the whole page where the
browser reruns only a fragment (epoch, step, tab, log scale), so these are upper bounds. The first
move to a new epoch traces that epoch's graph, which is part of the cost; returning to it is a lookup.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

REPEATS = 12
APP = str(Path(__file__).resolve().parent.parent / "explorer" / "ui" / "page.py")


def measure(preset: str) -> dict[str, list[float]]:
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    from explorer.ui import bind

    cpu: list[float] = []
    original = script_runner.ScriptRunner._run_script

    def timed(self, *args, **kwargs):
        start = time.thread_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            cpu.append(time.thread_time() - start)

    script_runner.ScriptRunner._run_script = timed
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["preset"] = preset
        at.run()
        epochs = next((s.max for s in at.slider if s.key == "epoch"), 1)
        steps = next((s.max for s in at.slider if bind.slider_key(s.key)), 0)
        actions = {
            "epoch slider": lambda i: at.slider(key="epoch").set_value(1 + (7 * i) % epochs).run() if epochs > 1 else None,
            "step slider": lambda i: next(s for s in at.slider if bind.slider_key(s.key)).set_value(i % (steps + 1)).run() if steps else None,
            "language": lambda i: at.radio(key="lang").set_value("zh" if i % 2 == 0 else "en").run(),
            "tab": lambda i: open_tab(("curves", "log", "code", "graph")[i % 4]),
            "log scale": lambda i: at.toggle(key="log").set_value(i % 2 == 0).run(),
        }

        def open_tab(name):             # as a click's callback does: AppTest cannot click tabs
            at.session_state["page"].set(tab=name)
            at.run()
        out = {}
        for name, act in actions.items():
            if name == "log scale":
                open_tab("curves")
            cpu.clear()
            for i in range(REPEATS):
                act(i)
            if cpu:
                out[name] = list(cpu)
        return out
    finally:
        script_runner.ScriptRunner._run_script = original


def main(argv=None) -> int:
    os.environ.setdefault("EXPLORER_WORKERS", "0")
    from streamlit import config

    from explorer import PRESETS
    config.set_option("runner.postScriptGC", False)     # as .streamlit/config.toml sets it for the server
    print("| preset | action | p50 | p90 |")
    print("| --- | --- | --- | --- |")
    worst = 0.0
    for preset in PRESETS:
        for action, times in measure(preset).items():
            times = sorted(times)
            p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
            worst = max(worst, p90)
            print(f"| {preset} | {action} | {statistics.median(times) * 1e3:.1f} ms | {p90 * 1e3:.1f} ms |",
                  flush=True)
    print(f"\nscript-thread CPU of {REPEATS} reruns per action after the preset's first run (AppTest, "
          f"same process); worst p90 {worst * 1e3:.1f} ms, target 30 ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
