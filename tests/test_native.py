"""Native gateways: discovery from home directories built in tmp_path, and the checks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from openclaw_compose.core.checks import HostFacts, Report
from openclaw_compose.core.loading import LoadedSpec, validate
from openclaw_compose.core.native import (
    DEFAULT_PORT,
    HostView,
    NativeGateway,
    discover,
    profile_port,
)
from openclaw_compose.errors import ExitCode
from openclaw_compose.host.system import alive
from openclaw_compose.project import check_loaded

from .helpers import run_cli, write_tree

JSON5_CONFIG = """\
// written by openclaw onboard
{
  gateway: {port: 18789, mode: 'local',},  // trailing commas, single quotes
  agents: {defaults: {workspace: "~/bots/main"}},
  browser: {
    cdpUrl: "http://10.0.0.5:9222",
    profiles: {work: {cdpPort: 19950}, remote: {cdpUrl: 'ws://Chrome.lan'}},
  },
}
"""

UNIT = """\
[Unit]
Description=OpenClaw Gateway (profile: rescue, v2026.9.6)

[Service]
ExecStart=/usr/bin/node /usr/lib/node_modules/openclaw/dist/index.js gateway --port 19789
Restart=always
Environment=HOME=/home/u
Environment="OPENCLAW_STATE_DIR=~/rescue state"
Environment=OPENCLAW_CONFIG_PATH=/etc/openclaw/rescue.json OPENCLAW_PROFILE=rescue
Environment=OPENCLAW_GATEWAY_PORT=19789

[Install]
WantedBy=default.target
"""

NOTHING_RUNS = HostView()
"""A host where no port listens and no process lives: discovery reads only the home's files."""


def by_label(home: Path) -> dict[str, NativeGateway]:
    return {native.label: native for native in discover(home, NOTHING_RUNS)}


def test_default_state_dir_read_as_json5(tmp_path: Path) -> None:
    write_tree(tmp_path, {".openclaw/openclaw.json": JSON5_CONFIG})
    (native,) = discover(tmp_path, NOTHING_RUNS)
    assert native.label == "native:default"
    assert native.config_path == tmp_path / ".openclaw/openclaw.json"
    assert native.base == 18789
    assert native.workspace == tmp_path / "bots/main"
    assert native.cdp_ports == {"work": 19950}
    assert native.cdp_urls == (
        ("browser.cdpUrl", "http://10.0.0.5:9222"),
        ("browser.profiles.remote.cdpUrl", "ws://Chrome.lan"),
    )
    assert not native.running
    assert native.problem is None


def test_profiles_without_a_port_use_openclaws_name_hash(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".openclaw-rescue/openclaw.json": "{}",
            ".openclaw-dev/openclaw.json": "{gateway: {port: 30000}}",
            ".openclaw-work/openclaw.json": "{gateway: {port: 25000}}",
            ".openclaw-Not Valid/openclaw.json": "{}",
        },
    )
    found = by_label(tmp_path)
    assert set(found) == {"native:rescue", "native:dev", "native:work"}
    # 23532: what openclaw 2026.9.6's resolveGatewayPort gives profile "rescue" (run with node)
    assert found["native:rescue"].base == profile_port("rescue") == 23532
    assert found["native:dev"].base == 19001  # --dev sets OPENCLAW_GATEWAY_PORT over the config
    assert found["native:work"].base == 25000
    assert found["native:work"].workspace == tmp_path / ".openclaw-work/workspace"


def test_a_state_dir_without_config_runs_on_the_default_port(tmp_path: Path) -> None:
    (tmp_path / ".openclaw").mkdir()
    (native,) = discover(tmp_path, NOTHING_RUNS)
    assert native.base == DEFAULT_PORT
    assert native.problem is None


def test_systemd_unit_moves_state_config_and_port(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".config/systemd/user/openclaw-gateway-rescue.service": UNIT,
            "rescue state/workspace/AGENTS.md": "x",
        },
    )
    (native,) = discover(tmp_path, NOTHING_RUNS)
    assert native.profile == "rescue"
    assert native.state_dir == tmp_path / "rescue state"
    assert native.config_path == Path("/etc/openclaw/rescue.json")
    assert native.base == 19789
    assert native.port_source.startswith("--port in ")
    assert native.units == (tmp_path / ".config/systemd/user/openclaw-gateway-rescue.service",)


def test_unit_of_an_existing_state_dir_is_merged_into_it(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".openclaw/openclaw.json": "{gateway: {port: 18789}}",
            ".config/systemd/user/openclaw-gateway.service": (
                "[Service]\nExecStart=/usr/bin/node openclaw.mjs gateway --port=18900\n"
            ),
        },
    )
    (native,) = discover(tmp_path, NOTHING_RUNS)
    assert native.base == 18900  # --port wins over gateway.port, as in OpenClaw
    assert native.units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{gateway: {port: 18789,}", "not valid JSON5"),
        ("[1, 2]", "not a JSON5 object"),
        ("[" * 100_000, "not valid JSON5"),
        (b"\xff\xfe{", "cannot be read"),
    ],
)
def test_unreadable_config_is_a_warning_not_a_traceback(
    tmp_path: Path, text: str | bytes, expected: str
) -> None:
    config = tmp_path / ".openclaw/openclaw.json"
    config.parent.mkdir()
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text)
    (native,) = discover(tmp_path, NOTHING_RUNS)
    assert native.problem is not None
    assert expected in native.problem
    assert str(config) in native.problem
    report = check(tmp_path, {"a": {"port": 30000}})
    assert [p.code for p in report.problems] == ["native-unreadable"]
    assert report.ok


def test_running_gateway_is_found_by_its_state_lock(tmp_path: Path) -> None:
    lock = tmp_path / ".openclaw/tmp/openclaw-0/gateway.state.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": os.getpid(), "port": 18789}) + "\n\t  \n")
    (native,) = discover(tmp_path, HostView(alive=alive))
    assert native.pid == os.getpid()
    assert native.state_text() == f"running, pid {os.getpid()}"
    lock.write_text(json.dumps({"pid": 2**22 + 1, "port": 18789}))  # above pid_max: gone
    (native,) = discover(tmp_path, HostView(alive=alive))
    assert native.pid is None


def test_running_is_what_the_host_view_says(tmp_path: Path) -> None:
    """Discovery reads no sockets itself: a listener on the native's port counts as that
    native running only through the view the runtime gives it."""
    write_tree(tmp_path, {".openclaw/openclaw.json": "{gateway: {port: 18789}}"})
    (quiet,) = discover(tmp_path, NOTHING_RUNS)
    (busy,) = discover(tmp_path, HostView(listening=frozenset({18789})))
    (elsewhere,) = discover(tmp_path, HostView(listening=frozenset({19789})))
    assert (quiet.running, busy.running, elsewhere.running) == (False, True, False)
    assert busy.state_text() == "running"


def loaded(profiles: dict[str, Any], base_dir: Path) -> LoadedSpec:
    return LoadedSpec(validate({"profiles": profiles}, source="<test>"), "<test>", base_dir)


def check(home: Path, profiles: dict[str, Any]) -> Report:
    host = HostFacts(natives=discover(home, NOTHING_RUNS))
    return check_loaded(loaded(profiles, home), host).report


def test_the_pages_20_port_rescue_meets_the_native_main(tmp_path: Path) -> None:
    write_tree(tmp_path, {".openclaw/openclaw.json": JSON5_CONFIG})
    report = check(tmp_path, {"rescue": {"port": 18809}, "far": {"port": 20909}})
    errors = [p for p in report.problems if p.severity == "error"]
    codes = [p.code for p in errors]
    assert codes == ["native-overlap"]
    (problem,) = errors
    assert problem.profiles == ("rescue",)
    assert problem.ports == tuple(range(18809, 18900))
    assert problem.paths == (str(tmp_path / ".openclaw/openclaw.json"),)
    assert str(tmp_path / ".openclaw/openclaw.json") in problem.message
    assert "Move 'rescue' to port 18900 or higher (18909 keeps" in problem.message


def test_profiles_120_away_pass(tmp_path: Path) -> None:
    write_tree(tmp_path, {".openclaw/openclaw.json": "{gateway: {port: 18789}}"})
    assert check(tmp_path, {"rescue": {"port": 18909}}).problems == ()


def test_an_explicit_native_cdp_port_counts(tmp_path: Path) -> None:
    write_tree(tmp_path, {".openclaw/openclaw.json": JSON5_CONFIG})
    (problem,) = check(tmp_path, {"b": {"port": 19900}}).problems
    assert problem.code == "native-overlap"
    assert problem.ports == (19950,)
    profiles = {
        "b": {"port": 25000, "openclaw": {"browser": {"profiles": {"x": {"cdpPort": 18850}}}}}
    }
    (problem,) = check(tmp_path, profiles).problems
    assert problem.ports == (18850,)


def test_cdp_url_shared_with_a_native(tmp_path: Path) -> None:
    write_tree(tmp_path, {".openclaw/openclaw.json": JSON5_CONFIG})
    profiles = {"b": {"port": 25000, "openclaw": {"browser": {"cdpUrl": "ws://chrome.lan:80/x"}}}}
    (problem,) = check(tmp_path, profiles).problems
    assert problem.code == "cdp-url-shared"
    assert "browser.profiles.remote.cdpUrl of the native gateway" in problem.message


def test_bind_path_inside_a_native_state_or_workspace(tmp_path: Path) -> None:
    write_tree(tmp_path, {".openclaw/openclaw.json": JSON5_CONFIG})
    profiles = {
        "b": {"port": 25000, "state_dir": str(tmp_path / ".openclaw/state")},
        "c": {"port": 26000, "workspace_dir": str(tmp_path / "bots")},
    }
    problems = check(tmp_path, profiles).problems
    assert [(p.code, p.profiles) for p in problems] == [
        ("path-shared", ("b",)),
        ("path-shared", ("c",)),
    ]
    assert "nested with the state dir" in problems[0].message
    assert "nested with the workspace" in problems[1].message


def test_cli_lists_natives_and_ignores_them_on_request(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_tree(home, {".openclaw/openclaw.json": JSON5_CONFIG})
    spec = tmp_path / "spec.yaml"
    spec.write_text("profiles:\n  rescue: {port: 18809}\n")
    result = run_cli("check", "-f", spec, "--home", home)
    assert result.exit_code == ExitCode.PROBLEMS
    config = str(home / ".openclaw/openclaw.json")
    assert result.stdout.startswith(f"native:default: 18789-18899, {config} (not running)\n")
    assert "[native-overlap]" in result.stdout
    data = json.loads(run_cli("check", "-f", spec, "--home", home, "--json").stdout)
    assert [p["code"] for p in data["problems"]] == ["native-overlap"]
    assert data["native"][0]["config"] == config
    assert data["native"][0]["native"] is True
    assert run_cli("check", "-f", spec, "--home", home, "--ignore-native").exit_code == 0
    table = run_cli("ports", "-f", spec, "--home", home).stdout.splitlines()
    assert table[0].split()[-2:] == ["NATIVE", "CONFIG"]
    assert table[2].split()[:2] == ["native:default", "18789"]
    assert table[2].split()[-3] == config
    ports = json.loads(run_cli("ports", "-f", spec, "--home", home, "--json").stdout)
    assert ports["native"][0]["cdp_ports"] == {"work": 19950}
    nowhere = run_cli("check", "-f", spec, "--home", tmp_path / "nowhere")
    assert nowhere.exit_code == ExitCode.USAGE
    assert "--home" in nowhere.stderr
    generated = run_cli("generate", "-f", spec, "--home", home, "-o", tmp_path / "out")
    assert generated.exit_code == ExitCode.PROBLEMS
    assert not (tmp_path / "out").exists()
