from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

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


SHARED_SCOPES = {
    "tests/docker/test_build_failure.py": "native",
    "tests/docker/test_native.py": "native",
}
"""Modules that run on one pytest-xdist worker together, in collection order: build_failure
checks what a failed build leaves in the native install's cache, which test_native then uses.
Every ``tests/docker/test_swarm*.py`` shares the engine's one swarm (its session fixture holds
a file lock for the worker's whole session): scope ``swarm``."""
LONGEST_FIRST = ("swarm", "tests/docker/test_multinode.py")
"""The longest scopes (minutes each), handed out first so that no worker starts one last."""


def worker_scope(nodeid: str) -> str:
    """What runs whole on one worker: a test module, or the shared scope it belongs to."""
    module = nodeid.split("::", maxsplit=1)[0]
    if module.startswith("tests/docker/test_swarm"):
        return "swarm"
    return SHARED_SCOPES.get(module, module)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``make test`` runs two workers (``-n 2``): each module whole on one worker, so that its
    module fixtures (gateways, a stack, a three-node cluster) are set up once, and the shared
    scopes of :func:`worker_scope`. (xdist's own ``loadgroup`` did not group here: its marker
    hook is not called under this pytest.)"""
    return ModuleScheduling(config, log)


class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's scheduling by scope, with :func:`worker_scope` as the scope."""

    def _split_scope(self, nodeid: str) -> str:
        return worker_scope(nodeid)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the Docker engine is marked ``docker`` (``-m 'not docker'``); the
    :data:`LONGEST_FIRST` scopes are collected first (stable: modules and tests keep their
    order), the unit tests last."""
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)

    def rank(item: pytest.Item) -> int:
        scope = worker_scope(item.nodeid)
        if scope in LONGEST_FIRST:
            return LONGEST_FIRST.index(scope)
        return len(LONGEST_FIRST) + (item.get_closest_marker("docker") is None)

    items.sort(key=rank)
