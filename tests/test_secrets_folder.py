"""The secret store against a hostile or unlucky project directory (issue 19's second round):
``secrets/`` that is a file, directories at the names of its files, modes changed by hand, a
``.env`` that is a FIFO or a device, and values no gateway could be given."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from openclaw_compose.core.secretstore import VALUE_LIMIT
from openclaw_compose.errors import ExitCode
from tests.helpers import run_cli, snapshot, write_tree

SPEC = """\
project: keys
profiles:
  main: {port: 18789, secrets: [KEY, OTHER]}
  rescue: {port: 19789, secrets: [KEY]}
"""


@pytest.fixture
def project(tmp_path: Path) -> list[str | Path]:
    write_tree(tmp_path, {"openclaw-compose.yaml": SPEC})
    where: list[str | Path] = ["-f", tmp_path / "openclaw-compose.yaml", "-o", tmp_path / "out"]
    assert run_cli("generate", *where).exit_code == 0
    return where


def _out(where: list[str | Path]) -> Path:
    return Path(where[3])


@pytest.mark.parametrize(
    "args", [("generate",), ("secret", "set", "main", "KEY"), ("secret", "rm", "main", "KEY")]
)
def test_a_file_where_the_secrets_folder_goes_is_refused(
    project: list[str | Path], args: tuple[str, ...]
) -> None:
    out = _out(project)
    run_cli("secret", "set", "main", "KEY", *project, input="k0")
    for entry in (out / "secrets").iterdir():
        entry.chmod(0o644)
        entry.unlink()
    (out / "secrets").rmdir()
    (out / "secrets").write_text("mine\n")
    before = snapshot(out)
    result = run_cli(*args, *project, input="k1")
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "secrets: is not a directory" in result.stderr
    assert snapshot(out) == before


def test_a_directory_at_a_secret_files_name_changes_nothing(project: list[str | Path]) -> None:
    out = _out(project)
    (out / "secrets" / "OPENCLAW_SECRET_MAIN__OTHER").mkdir()
    before = snapshot(out)
    result = run_cli("secret", "set", "main", "OTHER", *project, input="k1")
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "is a directory where openclaw-compose writes a file" in result.stderr
    assert snapshot(out) == before
    assert not (out / ".openclaw-compose.journal").exists()


def test_a_directory_at_an_unused_name_is_left_alone(project: list[str | Path]) -> None:
    out = _out(project)
    (out / "secrets" / "OPENCLAW_SECRET_RESCUE__GONE").mkdir()
    for args in (("secret", "set", "main", "OTHER"), ("secret", "rm", "main", "OTHER")):
        result = run_cli(*args, *project, input="k1")
        assert result.exit_code == 0, result.output
    assert (out / "secrets" / "OPENCLAW_SECRET_RESCUE__GONE").is_dir()
    assert not (out / ".openclaw-compose.journal").exists()


@pytest.mark.parametrize("args", [("generate",), ("secret", "set", "main", "KEY")])
def test_a_secret_files_mode_is_put_back(project: list[str | Path], args: tuple[str, ...]) -> None:
    token = _out(project) / "secrets" / "OPENCLAW_TOKEN_MAIN"
    token.chmod(0o600)  # the gateway (uid 1000) could not read it
    assert run_cli(*args, *project, input="k1").exit_code == 0
    assert stat.S_IMODE(token.stat().st_mode) == 0o444


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("args", [("secret", "list"), ("check",)])
def test_an_env_that_is_not_a_file_is_refused_without_reading(
    project: list[str | Path], kind: str, args: tuple[str, ...]
) -> None:
    env = _out(project) / ".env"
    env.unlink()
    if kind == "fifo":
        os.mkfifo(env)
    else:
        env.symlink_to("/dev/zero")
    result = run_cli(*args, *project)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert ".env: cannot be read: not a regular file" in result.stderr


@pytest.mark.parametrize(
    ("stdin", "stored"),
    [
        ("a" * VALUE_LIMIT + "\r\n", True),
        ("a" * (VALUE_LIMIT + 1), False),
        ("a" * VALUE_LIMIT + "\r\nb", False),  # not cut at the bound and taken as whole
        ("a" * (VALUE_LIMIT * 300), False),
    ],
)
def test_values_over_the_bound_are_refused(
    project: list[str | Path], stdin: str, stored: bool
) -> None:
    out = _out(project)
    before = snapshot(out)
    result = run_cli("secret", "set", "main", "KEY", *project, input=stdin)
    if stored:
        assert result.exit_code == 0, result.output
        assert (out / "secrets" / "OPENCLAW_SECRET_MAIN__KEY").read_text() == "a" * VALUE_LIMIT
    else:
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "the value is over 64 KiB" in result.stderr
        assert snapshot(out) == before
