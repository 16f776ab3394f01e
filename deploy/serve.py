"""`python deploy/serve.py [--replicas N] [--port 8500]`: the app as N Streamlit processes behind nginx.

A Streamlit process runs all its sessions' scripts under one GIL, so a lecture hall needs
one process per core. Streamlit keeps sessions and download files in process memory,
so nginx (deploy/nginx.conf) pins each browser to one replica with a cookie of its own.
Standard library only; nginx runs unprivileged from a scratch directory, in the foreground,
and Ctrl+C or SIGTERM stops nginx and every replica.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
STARTUP_TIMEOUT = 90.0


def cgroup_cpu_limit(proc_cgroup: Path = Path("/proc/self/cgroup"),
                     root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup v2 `cpu.max` quotas of this process's cgroup and its ancestors."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    rel = next((line[3:] for line in lines if line.startswith("0::")), None)
    if rel is None:
        return None
    limits = []
    path = root / rel.strip("/")
    while True:
        try:
            quota, period = (path / "cpu.max").read_text().split()
            if quota != "max":
                limits.append(int(quota) / int(period))
        except (OSError, ValueError):
            pass
        if path == root or root not in path.parents:
            break
        path = path.parent
    return min(limits) if limits else None


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, math.ceil(limit))
    return max(1, cores)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_nginx() -> str | None:
    """nginx on PATH, or in Debian's /usr/sbin, which a normal user's PATH leaves out."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def render_config(listen: str, ports: list[int], template: Path = TEMPLATE) -> str:
    text = template.read_text()
    for placeholder in ("@LISTEN@", "@REPLICAS@"):
        if text.count(placeholder) != 1:
            raise ValueError(f"{template} must hold {placeholder} exactly once")
    servers = "\n        ".join(f"server 127.0.0.1:{p} max_fails=0;" for p in ports)
    return text.replace("@LISTEN@", listen).replace("@REPLICAS@", servers)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def start_replica(app: Path, port: int, log: Path) -> subprocess.Popen:
    """Output goes to a file: a pipe nobody reads would block a chatty replica. Replicas train in
    their own process (EXPLORER_WORKERS=0): one replica per core already uses every core, and a
    worker pool in each would only add processes and memory."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app),
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1"],
            cwd=ROOT, env={"EXPLORER_WORKERS": "0", **os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def wait_until(check, procs: list[subprocess.Popen], what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not check():
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{what}: process {dead[0].args[0]} exited with code {dead[0].returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {STARTUP_TIMEOUT:.0f}s")
        time.sleep(0.2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=usable_cores(),
                    help="Streamlit processes (default: usable cores, here %(default)s)")
    ap.add_argument("--port", type=int, default=8500, help="port nginx listens on (default %(default)s)")
    ap.add_argument("--host", default="0.0.0.0",
                    help="address nginx listens on (default %(default)s: every interface, for a classroom)")
    ap.add_argument("--app", type=Path, default=ROOT / "streamlit_app.py")
    ap.add_argument("--run-dir", type=Path,
                    help="where the nginx config and the logs go (kept); default: a temp dir, removed on exit")
    ap.add_argument("--nginx", default=find_nginx(), help="nginx binary (default %(default)s)")
    args = ap.parse_args(argv)
    if args.replicas < 1:
        ap.error("--replicas must be at least 1")
    if not args.nginx:
        ap.error("nginx not found: apt-get install -y nginx (or pass --nginx PATH)")
    return args


def serve(args: argparse.Namespace, run_dir: Path) -> int:
    listen = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
    local = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(args.host, args.host)
    proxy = f"http://[{local}]:{args.port}" if ":" in local else f"http://{local}:{args.port}"
    ports = [free_port() for _ in range(args.replicas)]
    replicas: list[subprocess.Popen] = []
    nginx: list[subprocess.Popen] = []
    try:
        for i, port in enumerate(ports, 1):
            replicas.append(start_replica(args.app.resolve(), port, run_dir / f"replica-{i}.log"))
        for i, port in enumerate(ports, 1):
            try:
                wait_until(lambda: healthy(f"http://127.0.0.1:{port}/_stcore/health"), replicas,
                           f"replica {i}")
            except RuntimeError:
                print(tail(run_dir / f"replica-{i}.log"), file=sys.stderr)
                raise
        conf = run_dir / "nginx.conf"
        conf.write_text(render_config(listen, ports))
        nginx.append(subprocess.Popen(
            [args.nginx, "-p", f"{run_dir}/", "-e", str(run_dir / "nginx-error.log"), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
        ))
        try:
            wait_until(lambda: healthy(f"{proxy}/_stcore/health"), nginx + replicas, "nginx")
        except RuntimeError:
            print(tail(run_dir / "nginx-error.log"), file=sys.stderr)
            raise
        kept = "" if args.run_dir else ", removed on exit"
        print(f"Autograd Explorer: {proxy}/ (nginx on {listen}) -> {args.replicas} replicas on ports "
              f"{', '.join(map(str, ports))}; logs in {run_dir}{kept}. Ctrl+C stops.", flush=True)
        while True:
            for p in nginx + replicas:
                if p.poll() is not None:
                    print(f"{p.args[0]} (pid {p.pid}) exited with code {p.returncode}; stopping",
                          file=sys.stderr)
                    return 1
            time.sleep(0.5)
    except RuntimeError as e:
        print(f"serve.py: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # a second Ctrl+C must not orphan replicas
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(nginx)
        stop(replicas)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    args = parse_args(argv)
    if args.run_dir:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        run_dir = args.run_dir.resolve()
    else:
        run_dir = Path(tempfile.mkdtemp(prefix="autograd-serve-"))
    run_dir.chmod(0o755)   # nginx workers run as `nobody` when started as root, and buffer here
    try:
        return serve(args, run_dir)
    finally:
        if not args.run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
