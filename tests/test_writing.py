from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.writing import SUMS_FILE
from openclaw_compose.errors import ChecksFailed, OutputError
from openclaw_compose.project import check_spec, generate

from .helpers import snapshot, write_tree

TWO = "profiles:\n  main:\n    port: 18789\n  rescue:\n    port: 19789\n"
ONE = "profiles:\n  main:\n    port: 18789\n"


def _generate(spec_dir: Path, out: Path, *, force: bool = False) -> None:
    generate(check_spec(spec_dir / "openclaw-compose.yaml", HostFacts()), out, force=force)


def test_env_holds_tokens_privately_and_keeps_them(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": TWO})
    _generate(tmp_path, tmp_path / "out")
    env = tmp_path / "out" / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    first = env.read_text()
    assert first.count("OPENCLAW_TOKEN_") == 2
    _generate(tmp_path, tmp_path / "out")
    assert env.read_text() == first


def test_user_lines_in_env_are_kept_and_new_profiles_get_tokens(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": ONE})
    _generate(tmp_path, tmp_path / "out")
    env = tmp_path / "out" / ".env"
    env.write_text(env.read_text() + "MY_SETTING=1")
    write_tree(tmp_path, {"openclaw-compose.yaml": TWO})
    _generate(tmp_path, tmp_path / "out")
    lines = env.read_text().splitlines()
    assert "MY_SETTING=1" in lines
    tokens = [line for line in lines if line.startswith("OPENCLAW_TOKEN_")]
    assert tokens[-1].startswith("OPENCLAW_TOKEN_RESCUE=")
    assert len(tokens[-1].split("=", 1)[1]) == 64
    assert lines.index(tokens[-1]) > lines.index("MY_SETTING=1")


def test_hand_edited_file_is_not_overwritten_without_force(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": ONE})
    out = tmp_path / "out"
    _generate(tmp_path, out)
    compose = out / "compose.yaml"
    compose.write_text(compose.read_text() + "# mine\n")
    write_tree(tmp_path, {"openclaw-compose.yaml": TWO})
    before = snapshot(out)
    with pytest.raises(OutputError, match=r"changed by hand.*compose\.yaml.*--force"):
        _generate(tmp_path, out)
    assert snapshot(out) == before
    _generate(tmp_path, out, force=True)
    assert "# mine" not in compose.read_text()


def test_foreign_file_is_not_overwritten(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": ONE, "out/compose.yaml": "services: {}\n"})
    with pytest.raises(OutputError, match="not written by openclaw-compose"):
        _generate(tmp_path, tmp_path / "out")


def test_stale_seed_removed_unless_edited(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": TWO})
    out = tmp_path / "out"
    _generate(tmp_path, out)
    write_tree(tmp_path, {"openclaw-compose.yaml": ONE})
    _generate(tmp_path, out)
    assert not (out / "seeds/rescue.json").exists()
    assert "seeds/rescue.json" not in (out / SUMS_FILE).read_text()


def test_failed_checks_write_nothing(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {"openclaw-compose.yaml": "profiles:\n  a: {port: 20000}\n  b: {port: 20050}\n"}
    )
    with pytest.raises(ChecksFailed):
        _generate(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_output_is_a_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": ONE, "out": "x"})
    with pytest.raises(OutputError, match="is not a directory"):
        _generate(tmp_path, tmp_path / "out")


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_disk_errors_leave_previous_project_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: int
) -> None:
    """A full disk or read-only file system cannot be produced for real in a test (we are
    root here): make the third staged file fail and prove nothing changed."""
    write_tree(tmp_path, {"openclaw-compose.yaml": ONE})
    out = tmp_path / "out"
    _generate(tmp_path, out)
    before = snapshot(out)
    write_tree(tmp_path, {"openclaw-compose.yaml": TWO})
    real_fchmod = os.fchmod
    calls = {"n": 0}

    def failing_fchmod(fd: int, mode: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(failure, os.strerror(failure))
        real_fchmod(fd, mode)

    monkeypatch.setattr(os, "fchmod", failing_fchmod)
    with pytest.raises(OutputError, match="nothing was changed"):
        _generate(tmp_path, out)
    assert snapshot(out) == before
    assert not list(out.rglob("*.tmp"))
