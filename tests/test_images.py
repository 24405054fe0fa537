"""Looking up the native OpenClaw that images/build.sh installed: exact version, complete only."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw_compose.core.spec import OPENCLAW_VERSION
from openclaw_compose.errors import ExitCode, ImageMissing
from openclaw_compose.host.images import CACHE_VARIABLE, NODE_VERSION, native_openclaw


def _context(cache: Path, version: str, *, complete: bool) -> Path:
    context = cache / "gateway-context" / f"openclaw-{version}-node-{NODE_VERSION}"
    (context / "node" / "bin").mkdir(parents=True)
    (context / "app").mkdir()
    if complete:
        (context / ".complete").touch()
    return context


def test_the_tested_version_is_found_by_its_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))
    context = _context(tmp_path, OPENCLAW_VERSION, complete=True)
    _context(tmp_path, "2099.1.1", complete=True)  # sorts last: never picked for the tested one
    native = native_openclaw()
    assert native.node == context / "node" / "bin" / "node"
    assert native.command("--version") == [
        str(context / "node" / "bin" / "node"),
        str(context / "app" / "node_modules" / "openclaw" / "openclaw.mjs"),
        "--version",
    ]


def test_an_incomplete_install_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path))
    _context(tmp_path, OPENCLAW_VERSION, complete=False)
    with pytest.raises(ImageMissing) as raised:
        native_openclaw()
    assert raised.value.exit_code == ExitCode.DOCKER
    assert "make image" in raised.value.message
    assert OPENCLAW_VERSION in raised.value.message


def test_the_cache_follows_xdg_when_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _context(tmp_path / "openclaw-compose", OPENCLAW_VERSION, complete=True)
    assert native_openclaw().version == OPENCLAW_VERSION
