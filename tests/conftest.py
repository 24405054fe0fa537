from __future__ import annotations

import os
from pathlib import Path

import pytest

from openclaw_compose.core.native import HostView
from openclaw_compose.host import system as host
from openclaw_compose.testing import PORTS_VARIABLE, port_window


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory (the CLI reads ./openclaw-compose.yaml by default)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def no_native_gateways(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks count the native OpenClaw gateways of the user running them: the tests see an
    empty home instead (OpenClaw's own OPENCLAW_HOME), so that a developer's own gateway does
    not change their results. Tests of native gateways pass ``--home`` / ``HostFacts``.

    Discovery takes what it knows of running processes from the runtime's host view: the tests'
    view has live processes (a native's lock names its pid) but no listening ports, so that the
    gateways of ``make up`` (18789, 19789) on the same host are nobody's native gateway. Tests
    of a listening native pass their own :class:`HostView`."""
    monkeypatch.setenv("OPENCLAW_HOME", str(tmp_path_factory.mktemp("empty-home")))
    monkeypatch.setattr(host, "host_view", lambda: HostView(alive=host.alive))


@pytest.fixture(autouse=True)
def own_schema_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenClaw's schemas are cached per test, not in the user's cache: a test's ``check`` does
    not depend on what this machine (or another test) validated before."""
    monkeypatch.setenv("OPENCLAW_COMPOSE_SCHEMA_CACHE", str(tmp_path_factory.mktemp("schema")))


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``) each worker picks its
    free ports from its own slice of the window, so that two workers never pick the same block
    before either binds it (a reservation is per process)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or os.environ.get(PORTS_VARIABLE):
        return
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    low, high = port_window()
    size = (high - low) // count
    first = low + int(worker[2:]) * size
    os.environ[PORTS_VARIABLE] = f"{first}-{first + size}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the Docker engine is marked ``docker`` (``-m 'not docker'``) and,
    unless its module names a group of its own, runs in its module's pytest-xdist group: one
    worker sets a module's fixtures up once and runs its tests in order. (tryfirst: xdist reads
    the groups in its own hook.)"""
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
