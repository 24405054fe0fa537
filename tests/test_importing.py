"""Planning an import without Docker: the rewritten config, the archive, and the refusals that
come before any container."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

from openclaw_compose.core.importing import plan_import, write_archive
from openclaw_compose.core.native import HostView, native_at
from openclaw_compose.core.spec import ProfileSpec
from openclaw_compose.errors import ExitCode

from .helpers import run_cli, write_tree

NATIVE_CONFIG = """\
{
  // the native main bot
  gateway: {port: 18789, mode: "local", auth: {mode: "token", token: "native-secret"}},
  agents: {
    defaults: {workspace: "~/.openclaw/workspace", model: {primary: "standin/m"}},
    list: [{id: "ops", workspace: "~/bots/ops", agentDir: "~/.openclaw/agents/ops/agent"}],
  },
  hooks: {path: "/opt/elsewhere"},
}
"""
UNIT = """\
[Service]
ExecStart=/usr/bin/node /opt/openclaw/openclaw.mjs gateway --port 18789
Environment=OPENCLAW_GATEWAY_TOKEN=native-secret ANTHROPIC_API_KEY=sk-x
"""


def native_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    write_tree(
        home,
        {
            ".openclaw/openclaw.json": NATIVE_CONFIG,
            ".openclaw/marker.txt": "marker",
            ".openclaw/agents/main/agent/openclaw-agent.sqlite": "db",
            ".openclaw/workspace/AGENTS.md": "agents",
            ".openclaw/tmp/openclaw-0/gateway.state.lock.sqlite": "lock",
            ".openclaw/cache/control-ui-assets/x.js": "x",
            ".config/systemd/user/openclaw-gateway.service": UNIT,
            "bots/ops/NOTES.md": "ops",
        },
    )
    (home / ".openclaw/plugin-skills").mkdir()
    (home / ".openclaw/plugin-skills/canvas").symlink_to("/opt/openclaw/skills/canvas")
    return home


def test_config_is_rewritten_for_the_container(tmp_path: Path) -> None:
    home = native_home(tmp_path)
    native = native_at(home / ".openclaw", home, HostView())
    plan = plan_import(native, "moved", ProfileSpec(port=30400))
    gateway = plan.config["gateway"]
    assert gateway["port"] == 30400
    assert gateway["auth"] == {"mode": "token"}
    assert plan.config["agents"]["defaults"]["workspace"] == "/home/node/workspace"
    assert plan.config["agents"]["defaults"]["model"] == {"primary": "standin/m"}
    ops = plan.config["agents"]["list"][0]
    assert ops["agentDir"] == "/home/node/.openclaw/agents/ops/agent"
    assert ops["workspace"] == "~/bots/ops"  # outside the native dirs: kept, and a note says so
    assert plan.config["hooks"] == {"path": "/opt/elsewhere"}  # outside home: not ours to judge
    assert "gateway.port: 18789 -> 30400" in plan.changes
    assert any(c.startswith("gateway.auth.token: removed") for c in plan.changes)
    assert any(n.startswith("agents.list[0].workspace: ~/bots/ops is outside") for n in plan.notes)
    assert any("sets ANTHROPIC_API_KEY for the native gateway" in n for n in plan.notes)
    assert not any("native-secret" in line for line in plan.changes + plan.notes)
    assert not plan.shares_ports
    assert plan_import(native, "main", ProfileSpec(port=18789)).shares_ports


def test_archive_holds_state_config_workspace_without_regenerated_entries(
    tmp_path: Path,
) -> None:
    home = native_home(tmp_path)
    plan = plan_import(
        native_at(home / ".openclaw", home, HostView()), "moved", ProfileSpec(port=30400)
    )
    archive = tmp_path / "import.tar"
    notes = write_archive(plan, archive, frozenset())
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        config = json.loads(tar.extractfile("config/openclaw.json").read())  # type: ignore[union-attr]
        owners = {(member.uid, member.gid) for member in tar.getmembers()}
    assert {
        "state",
        "state/marker.txt",
        "state/agents/main/agent/openclaw-agent.sqlite",
        "config/openclaw.json",
        "workspace/AGENTS.md",
    } <= names
    assert not any(n.startswith(("state/tmp", "state/cache", "state/plugin-skills")) for n in names)
    assert "state/openclaw.json" not in names
    assert not any(n.startswith("state/workspace") for n in names)
    assert config == plan.config
    assert owners == {(1000, 1000)}
    assert notes == []


def test_import_refuses_a_running_native_before_any_docker(tmp_path: Path) -> None:
    home = native_home(tmp_path)
    lock = home / ".openclaw/tmp/openclaw-0/gateway.state.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "port": 18789}))
    spec = tmp_path / "spec.yaml"
    spec.write_text("profiles:\n  moved: {port: 30400}\n")
    before = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()}
    result = run_cli("import", "moved", "--from", home / ".openclaw", "-f", spec, "--home", home)
    assert result.exit_code == ExitCode.PROBLEMS
    assert f"running, pid {os.getpid()}" in result.stderr
    assert "nothing was copied" in result.stderr
    unknown = run_cli("import", "nobody", "--from", home / ".openclaw", "-f", spec)
    assert unknown.exit_code == ExitCode.USAGE
    missing = run_cli("import", "moved", "--from", tmp_path / "nowhere", "-f", spec)
    assert missing.exit_code == ExitCode.USAGE
    assert "not a directory" in missing.stderr
    not_state = run_cli("import", "moved", "--from", home / "bots", "-f", spec, "--home", home)
    assert not_state.exit_code == ExitCode.USAGE
    assert "not an OpenClaw state directory" in not_state.stderr
    lock.unlink()
    (home / ".openclaw/openclaw.json").write_text("{gateway: {port: 18789,}")
    broken = run_cli("import", "moved", "--from", home / ".openclaw", "-f", spec, "--home", home)
    assert broken.exit_code == ExitCode.PROBLEMS
    assert "not valid JSON5" in broken.stderr
    before[home / ".openclaw/openclaw.json"] = b"{gateway: {port: 18789,}"
    del before[lock]
    assert {p: p.read_bytes() for p in home.rglob("*") if p.is_file()} == before


def test_a_project_directory_inside_a_native_tree_is_left_out_and_said(tmp_path: Path) -> None:
    home = native_home(tmp_path)
    workspace = home / ".openclaw" / "workspace"
    project = workspace / "deploy" / "fleet"
    project.mkdir(parents=True)
    (project / ".env").write_text("OPENCLAW_TOKEN_OTHER=other-profiles-token\n")
    (project / ".openclaw-compose.sums").write_text("")
    (workspace / "mine").mkdir()
    (workspace / "mine" / ".env").write_text("NOT_A_PROJECT=1\n")
    elsewhere = workspace / "cwd-project"
    (elsewhere / "deep").mkdir(parents=True)
    (elsewhere / "deep" / "x").write_text("x")
    plan = plan_import(
        native_at(home / ".openclaw", home, HostView()), "moved", ProfileSpec(port=30400)
    )
    archive = tmp_path / "import.tar"
    skipped = write_archive(plan, archive, frozenset({elsewhere.resolve()}))
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert not any("deploy/fleet" in name or "cwd-project" in name for name in names)
    assert "workspace/mine/.env" in names
    assert {line.split(":")[0] for line in skipped} == {str(project), str(elsewhere)}
    assert any(line.startswith("workspace: ") for line in plan.copied)
