"""deploy/serve.py behind real nginx: two replicas, cookie affinity, the websocket, clean shutdown.

All clients here share 127.0.0.1, as a classroom behind one NAT does, so any split between
replicas must come from the route cookie. Without nginx these tests skip, except under CI=true.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / "deploy" / "serve.py"
COOKIE = "autograd_route"
STARTUP_TIMEOUT = 90.0
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_spec = importlib.util.spec_from_file_location("serve", SERVE)
serve = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serve)


def require_nginx() -> str:
    """Skip without nginx on a developer machine; under CI a skip would hide a broken install."""
    path = serve.find_nginx()
    if path is None:
        reason = "Debian nginx not installed: apt-get install nginx"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


class Proxy:
    def __init__(self, proc: subprocess.Popen, port: int, run_dir: Path, out: Path):
        self.proc, self.port, self.run_dir, self.out = proc, port, run_dir, out

    def get(self, path: str, cookie: str | None = None) -> http.client.HTTPResponse:
        """One request from a fresh connection, as a new browser would make it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp

    def replica_ports(self) -> list[int]:
        m = re.search(r"replicas on ports ([\d, ]+);", self.out.read_text())
        return [int(p) for p in m.group(1).split(",")]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def logs(self) -> str:
        parts = [f"--- serve.py ---\n{self.out.read_text(errors='replace')[-3000:]}"]
        for log in sorted(self.run_dir.glob("*.log")):
            parts.append(f"--- {log.name} ---\n{log.read_text(errors='replace')[-2000:]}")
        return "\n".join(parts)


def route_cookie(resp: http.client.HTTPResponse) -> str | None:
    for header in resp.headers.get_all("Set-Cookie") or ():
        m = re.match(rf"{COOKIE}=([^;]*)", header)
        if m:
            return m.group(1)
    return None


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    require_nginx()
    run_dir = tmp_path_factory.mktemp("serve")
    out = run_dir / "serve.out"
    port = serve.free_port()
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, str(SERVE), "--replicas", "2", "--port", str(port),
             "--host", "127.0.0.1", "--run-dir", str(run_dir)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
            start_new_session=True,   # its own process group, so a hung run can be killed whole
        )
    p = Proxy(proc, port, run_dir, out)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Ctrl+C stops" not in out.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve.py did not come up\n{p.logs()}", pytrace=False)
            time.sleep(0.2)
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def routes(proxy) -> dict[str, str]:
    """Route cookie -> replica address, for 40 fresh cookie-less clients."""
    seen = {}
    for _ in range(40):
        resp = proxy.get("/_stcore/health")
        seen[route_cookie(resp)] = resp.headers["X-Replica"]
    return seen


def test_health_through_proxy(proxy):
    resp = proxy.get("/_stcore/health")
    assert resp.status == 200
    assert resp.headers["X-Replica"].startswith("127.0.0.1:")


def test_fresh_clients_get_different_routes_and_both_replicas(proxy, routes):
    first, second = (route_cookie(proxy.get("/")) for _ in range(2))
    assert first and second and first != second
    assert len(routes) == 40 and None not in routes
    assert set(routes.values()) == {f"127.0.0.1:{p}" for p in proxy.replica_ports()}


def test_a_cookie_keeps_every_path_on_one_replica(proxy, routes):
    """Page, /_stcore/*, static files and /media/* (downloads live in the replica's memory)."""
    paths = ["/", "/_stcore/health", "/_stcore/host-config", "/media/missing.csv", "/favicon.png"]
    by_replica = {replica: cookie for cookie, replica in routes.items()}
    assert len(by_replica) == 2
    for replica, cookie in by_replica.items():
        for path in paths * 3:
            resp = proxy.get(path, cookie)
            assert resp.headers["X-Replica"] == replica, path
            assert route_cookie(resp) is None, "a valid cookie must not be replaced"


def test_a_malformed_cookie_is_replaced(proxy):
    new = route_cookie(proxy.get("/_stcore/health", "not-ours"))
    assert new and re.fullmatch(r"[0-9a-f]{32}", new)


def test_websocket_upgrade_reaches_the_cookies_replica(proxy, routes):
    cookie, replica = next(iter(routes.items()))
    key = base64.b64encode(os.urandom(16))
    host = f"classroom.test:{proxy.port}"    # a name, not localhost, which Streamlit trusts anyway
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Protocol: streamlit\r\n"
        f"Cookie: {COOKIE}={cookie}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as s:
        s.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            assert chunk, f"connection closed after {head!r}"
            head += chunk
    status, *lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    assert status.split()[1] == "101", status
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
    assert headers["sec-websocket-accept"] == accept
    assert headers["x-replica"] == replica


def test_config_template_and_core_count():
    conf = serve.render_config("127.0.0.1:8500", [9001, 9002])
    assert "@" not in conf.split("daemon off;", 1)[1]
    assert "listen 127.0.0.1:8500;" in conf
    assert "server 127.0.0.1:9001 max_fails=0;" in conf and "server 127.0.0.1:9002" in conf
    assert "ip_hash" not in conf and "hash $route consistent;" in conf
    assert 1 <= serve.usable_cores() <= len(os.sched_getaffinity(0))


def test_cgroup_quota_caps_the_core_count(tmp_path):
    (tmp_path / "cgroup").write_text("0::/box/app\n")
    root = tmp_path / "sys"
    (root / "box" / "app").mkdir(parents=True)
    (root / "cpu.max").write_text("max 100000\n")
    (root / "box" / "cpu.max").write_text("150000 100000\n")
    (root / "box" / "app" / "cpu.max").write_text("max 100000\n")
    assert serve.cgroup_cpu_limit(tmp_path / "cgroup", root) == 1.5
    (root / "box" / "cpu.max").write_text("max 100000\n")
    assert serve.cgroup_cpu_limit(tmp_path / "cgroup", root) is None
    (tmp_path / "cgroup").write_text("4:memory:/x\n")    # cgroup v1 only
    assert serve.cgroup_cpu_limit(tmp_path / "cgroup", root) is None


def test_sigterm_stops_nginx_and_every_replica(proxy):
    ports = [proxy.port, *proxy.replica_ports()]
    assert proxy.stop() == 0, proxy.logs()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
