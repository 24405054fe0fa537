from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer

from openclaw_compose.cli import app
from openclaw_compose.errors import ExitCode

from .helpers import run_cli, snapshot, write_tree

OVERLAPPING = "profiles:\n  a: {port: 20000}\n  b: {port: 20020}\n"


COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_of_every_command(name: str) -> None:
    """Listed as its own row of --help, and its own --help shows its summary."""
    listing = run_cli("--help")
    assert listing.exit_code == 0
    assert re.search(rf"^\s+{name}\s+\S", listing.stdout, re.M), f"{name} not listed"
    result = run_cli(name, "--help")
    assert result.exit_code == 0
    summary = (COMMANDS[name].help or "").split("\n")[0].strip()
    assert summary
    assert " ".join(summary.split()[:4]) in " ".join(result.stdout.split())


@pytest.mark.usefixtures("workdir")
def test_ports_json_for_embedded_default() -> None:
    result = run_cli("ports", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["profiles"]["rescue"]["cdp"] == [19800, 19899]


@pytest.mark.usefixtures("workdir")
def test_ports_table() -> None:
    result = run_cli("ports")
    assert result.stdout.splitlines()[1].split() == [
        "main",
        "18789",
        "18791",
        "18792-18799",
        "18800-18899",
        "-",
    ]


def test_check_clean_and_failing(workdir: Path) -> None:
    assert run_cli("check").exit_code == ExitCode.OK
    write_tree(workdir, {"bad.yaml": OVERLAPPING})
    result = run_cli("check", "-f", "bad.yaml")
    assert result.exit_code == ExitCode.PROBLEMS
    assert "error: [port-overlap] profiles 'a' (20000-20110) and 'b'" in result.stdout
    assert result.stdout.splitlines()[-1] == "failed: 1 error, 0 warnings"


def test_check_json_schema_errors(workdir: Path) -> None:
    write_tree(workdir, {"bad.yaml": "profiles:\n  a: {port: x, extra: 1}\n"})
    result = run_cli("check", "-f", "bad.yaml", "--json")
    assert result.exit_code == ExitCode.PROBLEMS
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [p["code"] for p in data["problems"]] == ["schema", "schema"]
    assert data["problems"][0]["profiles"] == ["a"]
    assert (
        "profiles.a.port: must be a whole number, e.g. 'port: 18789' (got the text 'x') (line 2)"
        in data["problems"][0]["message"]
    )


def test_generate_refuses_and_writes_nothing(workdir: Path) -> None:
    write_tree(
        workdir, {"openclaw-compose.yaml": "profiles:\n  a: {port: 20000}\n  b: {port: 20020}\n"}
    )
    before = snapshot(workdir)
    result = run_cli("generate")
    assert result.exit_code == ExitCode.PROBLEMS
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(workdir) == before


@pytest.mark.usefixtures("workdir")
def test_generate_then_up_to_date() -> None:
    result = run_cli("generate", "-o", "proj")
    assert result.exit_code == 0, result.output
    assert "wrote proj/compose.yaml" in result.stdout
    again = run_cli("generate", "-o", "proj")
    assert again.stdout.strip() == "proj/compose.yaml is up to date"


def test_generate_into_a_file(workdir: Path) -> None:
    (workdir / "proj").write_text("")
    result = run_cli("generate", "-o", "proj")
    assert result.exit_code == ExitCode.OUTPUT
    note, error = result.stderr.splitlines()[:2]  # the embedded default is used: it says so
    assert "using the embedded default" in note
    assert error.startswith("error: proj: exists and is not a directory")


@pytest.mark.usefixtures("workdir")
def test_missing_spec_file_is_a_usage_error() -> None:
    result = run_cli("check", "-f", "nope.yaml")
    assert result.exit_code == ExitCode.USAGE
    assert "nope.yaml: no such file" in result.stderr


@pytest.mark.usefixtures("workdir")
def test_init_writes_a_valid_starter_once() -> None:
    assert run_cli("init").exit_code == 0
    assert run_cli("check").exit_code == 0
    again = run_cli("init")
    assert again.exit_code == ExitCode.OUTPUT
    assert "already exists" in again.stderr


@pytest.mark.usefixtures("workdir")
def test_schema_is_json_schema() -> None:
    schema = json.loads(run_cli("schema").stdout)
    assert schema["additionalProperties"] is False
    assert "profiles" in schema["required"]


NODES = """\
profiles:
  a: {port: 18789, node: gw-1}
  b: {port: 18789, node: gw-2}
  c: {port: 18850, node: gw-2}
"""


def test_ports_say_which_node(workdir: Path) -> None:
    write_tree(workdir, {"nodes.yaml": NODES})
    table = run_cli("ports", "-f", "nodes.yaml").stdout.splitlines()
    assert table[0].split()[:3] == ["PROFILE", "NODE", "BASE"]
    assert table[2].split()[:3] == ["b", "gw-2", "18789"]
    data = json.loads(run_cli("ports", "-f", "nodes.yaml", "--json").stdout)
    assert {name: p["node"] for name, p in data["profiles"].items()} == {
        "a": "gw-1",
        "b": "gw-2",
        "c": "gw-2",
    }


def test_check_json_per_node_and_target(workdir: Path) -> None:
    write_tree(workdir, {"nodes.yaml": NODES})
    swarm = run_cli("check", "-f", "nodes.yaml", "--json", "--target", "swarm")
    assert swarm.exit_code == ExitCode.PROBLEMS
    problems = json.loads(swarm.stdout)["problems"]
    overlaps = [p for p in problems if p["code"] == "port-overlap"]
    assert [(p["profiles"], p["nodes"]) for p in overlaps] == [(["b", "c"], ["gw-2"])]
    compose = json.loads(run_cli("check", "-f", "nodes.yaml", "--json").stdout)["problems"]
    assert "compose-nodes" in [p["code"] for p in compose]


def test_generate_swarm_target(workdir: Path) -> None:
    result = run_cli("generate", "--target", "swarm", "-o", "proj")
    assert result.exit_code == 0, result.output
    assert "wrote proj/stack.yaml" in result.stdout
    assert "[swarm-publish-address]" in result.stderr
    assert not (workdir / "proj" / "compose.yaml").exists()
    again = run_cli("generate", "-t", "swarm", "-o", "proj")
    assert again.stdout.strip() == "proj/stack.yaml is up to date"
    bad = run_cli("generate", "--target", "kubernetes")
    assert bad.exit_code == ExitCode.USAGE


@pytest.mark.usefixtures("workdir")
def test_push_needs_a_registry_and_refuses_a_url() -> None:
    result = run_cli("push")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.endswith(
        "\nerror: <embedded default>: no 'registry:' to push to; add 'registry: HOST:PORT' (a "
        "Docker registry every swarm node reaches)\n"
    )
    Path("openclaw-compose.yaml").write_text(
        "registry: http://r.example:5000\nprofiles:\n  a: {port: 18789}\n"
    )
    result = run_cli("check", "--target", "swarm")
    assert result.exit_code == ExitCode.PROBLEMS
    assert "registry 'http://r.example:5000' is not a registry address" in result.stdout
