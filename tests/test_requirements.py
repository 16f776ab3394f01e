"""requirements.txt gives Community Cloud PyTorch's CPU wheel and every other machine the plain pin.

A Cloud deploy cannot run here, so these tests evaluate each line's environment marker for
the environments that matter and check which torch requirement each one would install.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename
from packaging.version import Version

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"
TORCH = Version("2.13.0")
CPU_INDEX = "https://download.pytorch.org/whl/cpu/"

COMMUNITY_CLOUD = {   # Linux x86_64, CPython 3.12: what Cloud's uv installs for by default
    "implementation_name": "cpython",
    "implementation_version": "3.12.11",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.12.11",
    "python_version": "3.12",
    "sys_platform": "linux",
}
MACOS_ARM64 = {
    **COMMUNITY_CLOUD,
    "platform_machine": "arm64",
    "platform_system": "Darwin",
    "sys_platform": "darwin",
}
CLOUD_TAGS = {Tag("cp312", "cp312", "manylinux_2_28_x86_64"), Tag("cp312", "cp312", "linux_x86_64")}


def requirements() -> list[Requirement]:
    lines = (line.split(" #", 1)[0].strip() for line in REQUIREMENTS.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def applying(name: str, environment: dict[str, str]) -> list[Requirement]:
    """The `name` requirements whose marker holds in `environment` (no marker: always)."""
    return [r for r in requirements()
            if r.name == name and (r.marker is None or r.marker.evaluate(environment))]


def test_community_cloud_gets_the_cpu_wheel():
    [torch] = applying("torch", COMMUNITY_CLOUD)
    assert torch.url, "Cloud must get a direct reference, not the CUDA build PyPI serves"
    assert torch.url.startswith(CPU_INDEX) and "+" not in torch.url, torch.url
    filename = unquote(urlsplit(torch.url).path.rsplit("/", 1)[1])
    name, version, _build, tags = parse_wheel_filename(filename)
    assert name == "torch"
    assert version.public == str(TORCH) and version.local == "cpu"
    assert tags & CLOUD_TAGS, f"{filename} does not install on Linux x86_64 CPython 3.12"
    fragment = urlsplit(torch.url).fragment
    assert fragment.startswith("sha256=") and len(fragment) == len("sha256=") + 64


@pytest.mark.parametrize("environment", [default_environment(), MACOS_ARM64],
                         ids=["this-machine", "macos-arm64-py312"])
def test_other_environments_get_the_plain_pin(environment):
    [torch] = applying("torch", environment)
    assert torch.url is None and str(torch.specifier) == f"=={TORCH}"


def test_torch_lines_are_mutually_exclusive_across_cloud_neighbours():
    """Each neighbour of Cloud's environment (one field changed) must still get exactly one torch."""
    changes = {"sys_platform": "darwin", "platform_machine": "aarch64", "python_version": "3.13",
               "implementation_name": "pypy"}
    for key, value in changes.items():
        [torch] = applying("torch", {**COMMUNITY_CLOUD, key: value})
        assert torch.url is None, key


def test_everything_else_is_pinned_exactly():
    others = [r for r in requirements() if r.name != "torch"]
    assert others
    for r in others:
        assert r.url is None and r.marker is None, str(r)
        [spec] = r.specifier
        assert spec.operator == "==" and "*" not in spec.version, str(r)
