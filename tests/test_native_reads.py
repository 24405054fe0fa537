"""Native files are read bounded and type-checked (issue 19): a FIFO, a device or an oversized
config is a problem named at once (never a blocked open), and a config of several MB is
discovered fast."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from openclaw_compose.core.native import CONFIG_LIMIT, HostView, discover
from openclaw_compose.errors import ExitCode
from tests.helpers import run_cli


def _config(home: Path) -> Path:
    (home / ".openclaw").mkdir(parents=True)
    return home / ".openclaw" / "openclaw.json"


def test_a_config_of_several_mb_is_discovered_fast(tmp_path: Path) -> None:
    agents = {f"agent{i}": {"workspace": f"~/w/{i}", "notes": "x" * 200} for i in range(20_000)}
    config = {"gateway": {"port": 18789}, "agents": {"list": agents}}
    _config(tmp_path).write_text(json.dumps(config, indent=2))
    assert (tmp_path / ".openclaw/openclaw.json").stat().st_size > 4 << 20
    begin = time.monotonic()
    (native,) = discover(tmp_path, HostView())
    assert time.monotonic() - begin < 1.0
    assert native.base == 18789
    assert native.problem is None


def test_a_fifo_config_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(_config(tmp_path))
    (native,) = discover(tmp_path, HostView())
    assert "not a regular file" in (native.problem or "")
    result = run_cli("check", "--home", tmp_path)
    assert result.exit_code in (ExitCode.OK, ExitCode.PROBLEMS)
    assert "Traceback" not in result.output


def test_a_device_or_an_oversized_config_is_named(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    os.symlink("/dev/zero", _config(tmp_path / "dev"))
    (native,) = discover(tmp_path / "dev", HostView())
    assert "not a regular file" in (native.problem or "")
    with _config(tmp_path / "big").open("wb") as sparse:
        sparse.truncate(CONFIG_LIMIT + 1)
    (native,) = discover(tmp_path / "big", HostView())
    assert "over 64 MiB" in (native.problem or "")
