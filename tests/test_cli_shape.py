"""The command line's shape, as Compose users expect it: global options before the command,
``--version``, ``-h``, completion, ``logs [PROFILE...] -f``, ``config``, ``--quiet``."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from openclaw_compose.cli import common
from openclaw_compose.errors import ExitCode

from .fakes import FakeEngine
from .helpers import run_cli, write_tree

TWO = "profiles:\n  a: {port: 23000}\n  b: {port: 23200, role: rescue}\n"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setattr(common, "connect", lambda: engine)
    return engine


def test_file_before_the_command_and_after_it(workdir: Path) -> None:
    write_tree(workdir, {"two.yaml": TWO})
    before = run_cli("-f", "two.yaml", "ports", "--json")
    after = run_cli("ports", "--json", "-f", "two.yaml")
    assert before.exit_code == after.exit_code == ExitCode.OK, before.stderr
    assert before.stdout == after.stdout
    assert sorted(json.loads(before.stdout)["profiles"]) == ["a", "b"]
    long_form = run_cli("--file", "two.yaml", "config", "--json")
    assert sorted(json.loads(long_form.stdout)["profiles"]) == ["a", "b"]


def test_file_given_twice_differently_is_a_usage_error(workdir: Path) -> None:
    write_tree(workdir, {"two.yaml": TWO, "other.yaml": TWO})
    result = run_cli("-f", "two.yaml", "ports", "-f", "other.yaml")
    assert result.exit_code == ExitCode.USAGE
    assert "give it once" in result.stderr
    assert run_cli("-f", "two.yaml", "ports", "-f", "two.yaml").exit_code == ExitCode.OK


def test_project_directory_before_the_command(workdir: Path) -> None:
    """``--project-directory`` (Compose's name) or ``-o`` before the command, ``-o`` after."""
    for args in (
        ("--project-directory", "out", "generate"),
        ("-o", "out", "generate"),
        ("generate", "-o", "out"),
    ):
        result = run_cli(*args, "--force")
        assert result.exit_code == ExitCode.OK, result.stderr
        assert f"{Path('out') / 'compose.yaml'}" in result.stdout
    assert (workdir / "out" / "compose.yaml").is_file()
    assert not (workdir / "compose.yaml").exists()


def test_init_writes_where_the_global_file_says(workdir: Path) -> None:
    result = run_cli("-f", "mine.yaml", "init")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert (workdir / "mine.yaml").is_file()


def test_version_and_short_help() -> None:
    for flag in ("--version", "-V"):
        result = run_cli(flag)
        assert result.exit_code == ExitCode.OK
        assert result.stdout.startswith("openclaw-compose ")
        assert result.stdout.split()[1][0].isdigit()
    assert run_cli("-h").stdout == run_cli("--help").stdout
    short = run_cli("logs", "-h")
    assert short.exit_code == ExitCode.OK
    assert "--follow" in short.stdout
    assert run_cli("secret", "set", "-h").exit_code == ExitCode.OK


def test_completion_is_listed_and_shown() -> None:
    listing = run_cli("--help").stdout
    assert "--install-completion" in listing
    assert "--show-completion" in listing
    # for the shell it runs from (its parent process; a pipe keeps bash from exec'ing it)
    command = f"{shlex.quote(sys.executable)} -m openclaw_compose --show-completion | cat"
    shown = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
    assert shown.returncode == ExitCode.OK, shown.stderr
    assert "complete -o default -F _openclaw_compose_completion openclaw-compose" in shown.stdout


def test_help_says_each_default_once() -> None:
    for command in ("up", "backup", "status", "logs", "secret"):
        text = run_cli(command, "--help").stdout
        assert text.count("[default: .]") <= 1, command


@pytest.mark.usefixtures("workdir")
def test_logs_every_profile_and_follow(fake: FakeEngine) -> None:
    result = run_cli("logs", "-f", "-t", "--since", "10m", "--tail", "all")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert fake.compose.calls == [
        ("logs", "--tail", "all", "--follow", "--timestamps", "--since", "10m")
    ]
    run_cli("logs", "main", "rescue", "--follow")
    assert list(fake.compose.calls[-1]) == ["logs", "--tail", "200", "--follow", "main", "rescue"]
    run_cli("logs", "rescue", "-F")  # today's form keeps working
    assert list(fake.compose.calls[-1]) == ["logs", "--tail", "200", "--follow", "rescue"]


def test_logs_takes_the_file_before_the_command(workdir: Path, fake: FakeEngine) -> None:
    write_tree(workdir, {"two.yaml": TWO})
    assert run_cli("-f", "two.yaml", "logs", "-f", "b").exit_code == ExitCode.OK
    assert run_cli("logs", "--file", "two.yaml", "a").exit_code == ExitCode.OK
    unknown = run_cli("-f", "two.yaml", "logs", "main")
    assert unknown.exit_code == ExitCode.USAGE
    assert "no profile 'main'; the profiles are: a, b" in unknown.stderr
    bad_tail = run_cli("logs", "--tail", "many")
    assert bad_tail.exit_code == ExitCode.USAGE
    assert "--tail many" in bad_tail.stderr


@pytest.mark.usefixtures("workdir")
def test_piped_logs_have_no_escape_sequences(fake: FakeEngine) -> None:
    fake.compose.log_lines = ["\x1b[2Kmain-1    | hello", "\x1b[2Krescue-1  | \x1b[31mred\x1b[0m"]
    result = run_cli("logs")
    assert result.exit_code == ExitCode.OK
    assert result.stdout == "main-1    | hello\nrescue-1  | red\n"
    assert "\x1b" not in result.stdout


def test_config_fills_in_defaults(workdir: Path) -> None:
    write_tree(workdir, {"openclaw-compose.yaml": "profiles:\n  solo: {port: 23000}\n"})
    result = run_cli("config")
    assert result.exit_code == ExitCode.OK, result.stderr
    data = YAML(typ="safe").load(result.stdout)
    assert data["project"] == "openclaw"
    assert data["profiles"]["solo"] == {
        "port": 23000,
        "openclaw": {},
        "browser": False,
        "role": "gateway",
        "egress": "all",
        "host_services": {},
        "resources": {"memory": "2g", "cpus": 2.0, "pids": 512},
        "env": {},
        "secrets": [],
    }
    as_json = json.loads(run_cli("config", "--json").stdout)
    assert as_json == data


def test_config_output_reads_back_as_the_same_spec(workdir: Path) -> None:
    write_tree(workdir, {"openclaw-compose.yaml": TWO})
    first = run_cli("config").stdout
    (workdir / "resolved.yaml").write_text(first)
    assert run_cli("-f", "resolved.yaml", "config").stdout == first


@pytest.mark.usefixtures("workdir")
def test_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli("--no-color", "ports")
    assert not common.output.color
    run_cli("ports")
    assert common.output.color
    monkeypatch.setenv("NO_COLOR", "1")
    run_cli("ports")
    assert not common.output.color


def test_live_lines_redraw_in_place_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(common, "output", common.Output())
    monkeypatch.setattr(common.Output, "terminal", lambda *_, **__: True)
    common.live(["main: starting (1 s)", "rescue: starting (1 s)"])
    common.live(["main: ready (3 s)", "rescue: no answer yet (3 s)"])
    common.progress("rescue ready in 4.0 s")
    assert capsys.readouterr().err == (
        "  main: starting (1 s)\n  rescue: starting (1 s)\n"
        "\x1b[2F\x1b[J  main: ready (3 s)\n  rescue: no answer yet (3 s)\n"
        "\x1b[2F\x1b[Jopenclaw-compose: rescue ready in 4.0 s\n"
    )


@pytest.mark.parametrize("quiet", [False, True])
def test_no_live_lines_into_a_pipe_or_when_quiet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], quiet: bool
) -> None:
    monkeypatch.setattr(common, "output", common.Output(quiet=quiet))
    common.live(["main: starting (1 s)"])
    common.progress("main ready in 2.0 s")
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert err == ("" if quiet else "openclaw-compose: main ready in 2.0 s\n")
