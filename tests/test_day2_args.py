"""Arguments and outputs of the day-2 commands checked before anything starts (issue 19):
timeouts, counts, special files for file options, and ``backup -o``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import pytest

from openclaw_compose.core.loading import load_spec
from openclaw_compose.errors import DockerError, ExitCode, OutputError
from openclaw_compose.runtime.backup import backup_profile, check_output_dir
from openclaw_compose.targets.base import Runtime
from tests.helpers import run_cli, write_tree

SPEC = "project: args\nprofiles:\n  main: {port: 18789}\n"


@pytest.mark.parametrize(
    "args",
    [
        ("up", "--timeout", "-1"),
        ("up", "--timeout", "nan"),
        ("up", "--timeout", "inf"),
        ("upgrade", "--to", "2026.9.6", "--timeout", "-1"),
        ("upgrade", "--to", "2026.9.6", "--timeout", "0"),
        ("logs", "main", "--tail", "-5"),
    ],
)
def test_bad_numbers_are_refused_at_parse_time(workdir: Path, args: tuple[str, ...]) -> None:
    write_tree(workdir, {"openclaw-compose.yaml": SPEC})
    result = run_cli(*args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert not (workdir / "compose.yaml").exists()


@pytest.mark.parametrize("command", [("check", "-f"), ("up", "-f"), ("restore", "main")])
def test_a_fifo_is_refused_without_blocking(workdir: Path, command: tuple[str, ...]) -> None:
    os.mkfifo(workdir / "fifo")
    result = run_cli(*command, workdir / "fifo")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "not a regular file" in result.output


def test_backup_output_that_is_a_file_is_refused_first(workdir: Path) -> None:
    write_tree(workdir, {"openclaw-compose.yaml": SPEC, "taken": "x"})
    result = run_cli("backup", "main", "-o", workdir / "taken" / "sub")
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "is not a directory" in result.stderr


class _Usage:
    def __init__(self, flag: int, free: int) -> None:
        self.f_flag, self.f_bavail, self.f_frsize = flag, free, 1


@pytest.mark.parametrize(
    ("usage", "expected"),
    [(_Usage(os.ST_RDONLY, 1 << 30), "read-only"), (_Usage(0, 1000), "full")],
)
def test_backup_output_on_a_read_only_or_full_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usage: _Usage, expected: str
) -> None:
    monkeypatch.setattr(os, "statvfs", lambda _: usage)
    with pytest.raises(OutputError, match=expected):
        check_output_dir(tmp_path / "new")


def test_upgrade_backups_that_is_a_file_is_refused_first(workdir: Path) -> None:
    write_tree(workdir, {"openclaw-compose.yaml": SPEC, "taken": "x"})
    result = run_cli("upgrade", "--to", "2026.9.6", "--backups", workdir / "taken")
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "is not a directory" in result.stderr  # before an image is built or an engine asked


class _Unreachable:
    def backup(self, spec: object, profile: str, payload: Path) -> bool:
        del spec, profile, payload  # the engine is never reached
        raise DockerError("cannot reach the Docker engine")


def test_a_failed_backup_removes_every_directory_it_made(tmp_path: Path) -> None:
    write_tree(tmp_path, {"s.yaml": SPEC})
    spec = load_spec(tmp_path / "s.yaml").spec
    with pytest.raises(DockerError):
        backup_profile(spec, "main", cast(Runtime, _Unreachable()), tmp_path / "a" / "b" / "c")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["s.yaml"]
