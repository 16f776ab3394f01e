"""Browser-test infrastructure: a live Streamlit server and Playwright driving Debian's chromium.

Playwright's own browser download cannot run here, so the pytest-playwright fixtures are
overridden to launch `/usr/bin/chromium` instead. Tests that need a browser just ask for
`page` (and `app_url`); they are skipped where chromium is missing, but fail under CI=true
so a broken CI install can never pass as "all skipped".
"""
from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app.py"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SERVER_TIMEOUT = 60.0
CHROMIUM_ARGS = [
    "--no-sandbox",                      # CI runs as root
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",   # the network is closed: avoid floods of refused connections
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_FIXTURES = {"page", "context", "browser", "new_context", "launch_browser"}


def chromium_path() -> str | None:
    return shutil.which("chromium")


def require_chromium() -> str:
    """Skip without chromium on a developer machine; under CI a skip would hide a broken install."""
    path = chromium_path()
    if path is None:
        reason = "Debian chromium not installed: apt-get install chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


def pytest_collection_modifyitems(items):
    """Mark every test that uses a browser, so `-m "not browser"` gives a quick run."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def start_streamlit(script: Path, cwd: Path, log_dir: Path):
    """Start `streamlit run script` on a free port; return (process, base_url) once healthy.

    Output goes to files, not pipes: a chatty server must never block on a full pipe.
    """
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    log_dir.mkdir(parents=True, exist_ok=True)
    out_log, err_log = log_dir / "streamlit.out", log_dir / "streamlit.err"
    with open(out_log, "wb") as out, open(err_log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script),
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        if _healthy(f"{base}/_stcore/health"):
            return proc, base
        if proc.poll() is not None:
            break
        time.sleep(0.25)
    exited = proc.poll() is not None
    stop_streamlit(proc)
    what = (f"exited with code {proc.returncode}" if exited
            else f"did not answer {base}/_stcore/health within {SERVER_TIMEOUT:.0f}s")
    pytest.fail(
        f"streamlit {what}\n--- stderr ---\n{err_log.read_text(errors='replace')[-4000:]}"
        f"\n--- stdout ---\n{out_log.read_text(errors='replace')[-2000:]}",
        pytrace=False,
    )


def stop_streamlit(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def app_script() -> Path:
    """The app under test; overridable (e.g. by a test module) to serve another script."""
    return APP


@pytest.fixture(scope="session")
def app_url(app_script: Path, tmp_path_factory):
    """Base URL of a headless Streamlit server running the app, shared by the whole session."""
    proc, base = start_streamlit(app_script, ROOT, tmp_path_factory.mktemp("streamlit"))
    try:
        yield base
    finally:
        stop_streamlit(proc)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": require_chromium(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


def save_shot(page, name: str) -> Path:
    """Save a full-page PNG as tests/artifacts/<name>.png, for people (and CI logs) to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shot():
    """`shot(page, name)` -> path of the saved full-page screenshot."""
    return save_shot


@pytest.fixture(scope="session", autouse=True)
def scan_components_once():
    """A new AppTest scans every installed package for component manifests (0.3 s each time); the
    installed packages do not change during a test run."""
    from streamlit.components.v2 import manifest_scanner
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_scanner, "scan_component_manifests", functools.cache(manifest_scanner.scan_component_manifests))
        yield
