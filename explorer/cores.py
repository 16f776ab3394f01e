"""How many cores this process may really use: CPU affinity, capped by any cgroup CPU quota.

A container often sees every core of its host but may only use a fraction of them (Community Cloud, a
cgroup `cpu.max`); sizing a worker pool from `os.cpu_count()` there would only add processes that wait.
"""
from __future__ import annotations

import functools
import logging
import math
import os

CGROUP = "/sys/fs/cgroup"
log = logging.getLogger(__name__)


def quota_v2(text: str) -> float | None:
    """Cores allowed by a cgroup v2 `cpu.max` ("max 100000" or "<quota> <period>"); None = no limit."""
    parts = text.split()
    if not parts or parts[0] == "max":
        return None
    quota, period = int(parts[0]), int(parts[1]) if len(parts) > 1 else 100_000
    return quota / period if quota > 0 and period > 0 else None


def quota_v1(quota: str, period: str) -> float | None:
    """Cores allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = no limit)."""
    q, p = int(quota.strip()), int(period.strip())
    return q / p if q > 0 and p > 0 else None


def cores_from(affinity: int, quotas) -> int:
    """Whole cores usable: the CPUs we may be scheduled on, capped by the tightest quota, at least 1."""
    limits = [affinity] + [q for q in quotas if q is not None]
    return max(1, math.floor(min(limits)))


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _own_cgroups() -> dict[str, str]:
    """controller ('' for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    out = {}
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for c in parts[1].split(",") if parts[1] else [""]:
                out[c] = parts[2]
    return out


def _quotas() -> list[float | None]:
    """Every CPU quota that applies to us: our own cgroup's and the mount root's (a container's cgroup
    namespace usually shows ours as the root), in v2 and, where the cpu controller is v1, in v1."""
    own = _own_cgroups()
    found = []
    for d in {CGROUP + own.get("", "/").rstrip("/"), CGROUP}:
        text = _read(f"{d}/cpu.max")
        if text:
            found.append(_parsed(quota_v2, text))
    for mount in (f"{CGROUP}/cpu", f"{CGROUP}/cpu,cpuacct"):
        for d in {mount + own.get("cpu", "/").rstrip("/"), mount}:
            q, p = _read(f"{d}/cpu.cfs_quota_us"), _read(f"{d}/cpu.cfs_period_us")
            if q and p:
                found.append(_parsed(quota_v1, q, p))
    return found


def _parsed(parse, *texts) -> float | None:
    """A file we cannot read as a quota sets no limit: sizing the pool must never stop the app."""
    try:
        return parse(*texts)
    except (ValueError, IndexError):
        log.warning("unreadable CPU quota %r", texts)
        return None


@functools.cache
def cores() -> int:
    """Whole cores this process may really use (affinity and cgroup quota), at least 1."""
    return cores_from(len(os.sched_getaffinity(0)), _quotas())
