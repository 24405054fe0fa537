"""Rendered output, byte for byte. Refresh with ``make golden`` after an intended change."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.contract import service_hostname
from openclaw_compose.project import check_spec, generate

from .helpers import generated, snapshot, write_tree

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

FRONT = """
        project: edge
        front:
          address: 0.0.0.0
          tls: local
        profiles:
          main:
            port: 18789
            hostname: main.example.org
          rescue:
            port: 19789
            hostname: rescue.example.org
            egress: none
            openclaw:
              gateway:
                controlUi: {allowedOrigins: ["https://ops.example.org"]}
          quiet:
            port: 20789
        """
"""The front on both targets, one profile without egress and with its own allowed origin."""
CASES = {
    "default": None,
    "host": """
        network: host
        profiles:
          main:
            port: 18789
          rescue:
            port: 19789
            role: rescue
        """,
    "full": """
        project: team
        network: bridge
        publish_address: "::1"
        profiles:
          main:
            port: 18789
            egress: none
            host_services: {models: 11434, search: "8080"}
          rescue:
            port: 19789
            openclaw:
              browser:
                profiles:
                  work: {cdpPort: 19950}
                  inside: {cdpPort: 19850}
                  remote: {cdpUrl: "http://10.0.0.5:9222"}
              gateway:
                auth: {mode: password}
              agents:
                defaults: {model: "anthropic/claude"}
            browser: true
            state_dir: ./data/rescue/state
            config_dir: ./data/rescue/config
            workspace_dir: ./data/rescue/workspace
        """,
    "front": FRONT,
}
SWARM_CASES = {
    "swarm-default": None,
    "swarm-front": FRONT,
    "swarm-nodes": """
        project: fleet
        swarm:
          publish_browser_ports: true
        profiles:
          main:
            port: 18789
            node: gw-1
          rescue:
            port: 18789
            node: openclaw.node=b
            browser: true
            egress: none
            openclaw:
              browser:
                profiles:
                  work: {cdpPort: 19950}
            state_dir: ./data/rescue/state
          spare:
            port: 19789
            host_services: {models: 11434}
        """,
}


def _generated(tmp_path: Path, case: str) -> dict[str, bytes]:
    target = "swarm" if case in SWARM_CASES else "compose"
    text = (SWARM_CASES if target == "swarm" else CASES)[case]
    spec_path = None
    if text is not None:
        write_tree(tmp_path, {"openclaw-compose.yaml": text})
        spec_path = tmp_path / "openclaw-compose.yaml"
    out = tmp_path / "out" if text is None else tmp_path
    generate(check_spec(spec_path, HostFacts(), target), out)
    files = snapshot(out)
    kept = ("compose", "stack", "seeds", "front/haproxy.cfg")  # not the random keys
    return {name: data for name, data in files.items() if name.startswith(kept)}


@pytest.mark.parametrize("case", sorted(CASES | SWARM_CASES))
def test_golden(tmp_path: Path, case: str) -> None:
    files = _generated(tmp_path, case)
    expected_dir = GOLDEN / case
    if UPDATE:
        for name, data in files.items():
            (expected_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / name).write_bytes(data)
    assert files == snapshot(expected_dir)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_files_parse(tmp_path: Path, case: str) -> None:
    files = _generated(tmp_path, case)
    compose = YAML(typ="safe").load(files["compose.yaml"])
    gateways = {name for name, service in compose["services"].items() if "labels" in service}
    assert gateways - {"front", "quiet"} == {"main", "rescue"}
    for name, data in files.items():
        if name.startswith("seeds/"):
            assert json.loads(data)["gateway"]["mode"] == "local"


def test_fragment_is_merged_over_defaults(tmp_path: Path) -> None:
    files = _generated(tmp_path, "full")
    seed = json.loads(files["seeds/rescue.json"])
    assert seed["gateway"] == {"port": 19789, "mode": "local", "auth": {"mode": "password"}}
    assert seed["agents"]["defaults"] == {
        "workspace": "/home/node/workspace",
        "model": "anthropic/claude",
    }
    assert seed["browser"]["profiles"]["remote"] == {"cdpUrl": "http://10.0.0.5:9222"}


def test_ports_and_mounts(tmp_path: Path) -> None:
    compose = YAML(typ="safe").load(_generated(tmp_path, "full")["compose.yaml"])
    rescue = compose["services"]["rescue"]
    assert rescue["ports"] == [
        "[::1]:19789:19789",
        "[::1]:19791:19791",
        "[::1]:19800-19899:19800-19899",
        "[::1]:19950:19950",
    ]
    assert rescue["volumes"][0] == "./data/rescue/state:/home/node/.openclaw"
    assert set(compose["volumes"]) == {
        "main-state",
        "main-config",
        "main-workspace",
        "main-host-services",
    }
    assert (tmp_path / "data/rescue/workspace").is_dir()


def test_only_the_granted_profile_shares_the_host_link(tmp_path: Path) -> None:
    services = YAML(typ="safe").load(_generated(tmp_path, "full")["compose.yaml"])["services"]
    link = services["main.host"]
    assert link["network_mode"] == "host"
    assert "ports" not in link
    assert "networks" not in link
    assert link["volumes"] == ["main-host-services:/run/openclaw-compose/host-services"]
    sharing = [name for name, s in services.items() if link["volumes"][0] in s.get("volumes", [])]
    assert sharing == ["main", "main.host"]
    assert "rescue.host" not in services
    assert "OPENCLAW_COMPOSE_HOST_SERVICES" not in services["rescue"]["environment"]


def test_no_token_in_compose_file(tmp_path: Path) -> None:
    files = _generated(tmp_path, "default")
    env = (tmp_path / "out" / ".env").read_text()
    tokens = [line.split("=", 1)[1] for line in env.splitlines() if "_TOKEN_" in line]
    assert len(tokens) == 2
    for token in tokens:
        assert all(token.encode() not in data for data in files.values())


@pytest.mark.parametrize(("target", "case"), [("compose", "full"), ("swarm", "swarm-nodes")])
def test_output_is_the_same_in_two_processes(tmp_path: Path, target: str, case: str) -> None:
    """Two processes with different hash seeds (so set and dict orders of anything hashed
    differ) write the same bytes."""
    write_tree(tmp_path, {"openclaw-compose.yaml": {**CASES, **SWARM_CASES}[case] or ""})
    spec = tmp_path / "openclaw-compose.yaml"
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "openclaw_compose",
                "generate",
                "-f",
                spec,
                "-o",
                out,
                "-t",
                target,
            ],
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
            capture_output=True,
        )
        outputs.append(generated(out))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 2


def test_host_network_binds_loopback_without_publishing(tmp_path: Path) -> None:
    compose = YAML(typ="safe").load(_generated(tmp_path, "host")["compose.yaml"])
    main = compose["services"]["main"]
    assert main["network_mode"] == "host"
    assert main["command"] == ["gateway", "--bind", "loopback"]
    assert "ports" not in main
    assert "networks" not in main
    assert "networks" not in compose
    assert "OPENCLAW_COMPOSE_RELAY_PORTS" not in main["environment"]


def test_default_gives_every_profile_a_network_of_its_own(tmp_path: Path) -> None:
    compose = YAML(typ="safe").load(_generated(tmp_path, "default")["compose.yaml"])
    assert compose["networks"] == {"main-net": {}, "rescue-net": {}}
    services = compose["services"]
    assert set(services) == {"main", "rescue"}
    assert services["main"]["networks"] == ["main-net"]
    assert services["rescue"]["networks"] == ["rescue-net"]
    assert services["main"]["ports"] == [
        "127.0.0.1:18789:18789",
        "127.0.0.1:18791:18791",
        "127.0.0.1:18800-18899:18800-18899",
    ]
    assert "network_mode" not in services["main"]


def test_egress_none_puts_the_gateway_behind_a_port_carrier(tmp_path: Path) -> None:
    compose = YAML(typ="safe").load(_generated(tmp_path, "full")["compose.yaml"])
    internal = compose["networks"]["main-internal"]
    assert internal == {
        "internal": True,
        "driver_opts": {"com.docker.network.bridge.inhibit_ipv4": "true"},
    }
    assert compose["networks"]["main-net"] == {} == compose["networks"]["rescue-net"]
    main, carrier = compose["services"]["main"], compose["services"]["main.ports"]
    assert main["networks"] == ["main-internal"]
    assert "ports" not in main
    assert carrier["networks"] == ["main-net", "main-internal"]
    assert carrier["ports"] == [
        "[::1]:18789:18789",
        "[::1]:18791:18791",
        "[::1]:18800-18899:18800-18899",
    ]
    config = carrier["entrypoint"][-1]
    for bind in (":18789", ":18791", ":18800-18899"):
        assert f"    bind {bind}\n" in config
    assert "server gateway main resolvers docker" in config
    assert carrier["user"] == "65534:65534"
    assert carrier["cap_drop"] == ["ALL"]
    assert "rescue.ports" not in compose["services"]


def test_bridge_network_relays_loopback_ports(tmp_path: Path) -> None:
    compose = YAML(typ="safe").load(_generated(tmp_path, "full")["compose.yaml"])
    rescue = compose["services"]["rescue"]
    assert rescue["environment"]["OPENCLAW_COMPOSE_RELAY_PORTS"] == "19791,19800-19899,19950"
    assert rescue["image"] == "openclaw-compose/gateway:2026.9.6-browser"
    assert compose["services"]["main"]["image"] == "openclaw-compose/gateway:2026.9.6"


def _stack(tmp_path: Path, case: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(_generated(tmp_path, case)["stack.yaml"])
    return data


def test_stack_is_swarm_only(tmp_path: Path) -> None:
    stack = _stack(tmp_path, "swarm-default")
    for name, service in stack["services"].items():
        assert not {"restart", "network_mode", "container_name"} & set(service)
        assert service["deploy"]["restart_policy"]["condition"] == "any"
        assert service["deploy"]["placement"]["constraints"] == ["node.role == manager"]
        assert service["ports"] == [
            {"target": int(port), "published": int(port), "mode": "host"}
            for port in [service["environment"]["OPENCLAW_GATEWAY_PORT"]]
        ]
        assert service["networks"] == [f"{name}-net"]
        assert service["hostname"] == f"openclaw-{name}"  # the gateway's owner lease needs it
        assert "OPENCLAW_GATEWAY_TOKEN" not in service["environment"]
        assert "OPENCLAW_COMPOSE_RELAY_PORTS" not in service["environment"]
        assert service["secrets"][0]["mode"] == 0o400
    assert stack["secrets"]["main-token"] == {"name": "openclaw_main-token", "external": True}
    assert all(network == {"driver": "overlay"} for network in stack["networks"].values())


def test_stack_pins_profiles_and_publishes_browser_ports_on_opt_in(tmp_path: Path) -> None:
    services = _stack(tmp_path, "swarm-nodes")["services"]
    constraints = {name: s["deploy"]["placement"]["constraints"] for name, s in services.items()}
    assert constraints == {
        "main": ["node.hostname == gw-1"],
        "rescue": ["node.labels.openclaw.node == b"],
        "spare": ["node.role == manager"],
        "rescue-ports": ["node.labels.openclaw.node == b"],  # egress none: its carrier, next to it
        "spare-host": ["node.role == manager"],  # host_services: its host link, the same
    }
    rescue, carrier = services["rescue"], services["rescue-ports"]
    assert "ports" not in rescue
    published = [port["published"] for port in carrier["ports"]]
    assert published == [18789, 18791, *range(18800, 18900), 19950]
    assert all(port["mode"] == "host" for port in carrier["ports"])
    assert rescue["environment"]["OPENCLAW_COMPOSE_RELAY_PORTS"] == "18791,18800-18899,19950"
    assert rescue["volumes"][0] == "./data/rescue/state:/home/node/.openclaw"
    assert rescue["networks"] == ["rescue-net"]
    assert carrier["networks"] == ["rescue-net", "rescue-edge"]
    networks = _stack(tmp_path, "swarm-nodes")["networks"]
    assert networks["rescue-net"] == {"driver": "overlay", "internal": True}
    assert networks["main-net"] == {"driver": "overlay"}
    assert networks["hostnet"] == {"external": True, "name": "host"}
    assert services["spare-host"]["networks"] == ["hostnet"]
    assert services["spare-host"]["volumes"][0] in services["spare"]["volumes"]


def test_service_hostnames_are_one_dns_label_and_distinct() -> None:
    assert service_hostname("my_fleet", "bot_1") == "my-fleet-bot-1"
    long = [service_hostname("p" * 63, f"{'q' * 60}{i}") for i in range(2)]
    assert all(len(name) == 63 for name in long)
    assert long[0] != long[1]


def test_seed_config_name_follows_the_seed(tmp_path: Path) -> None:
    configs = _stack(tmp_path, "swarm-default")["configs"]
    main = (tmp_path / "out" / "seeds" / "main.json").read_bytes()
    assert (
        configs["main-seed"]["name"]
        == f"openclaw_main-seed-{hashlib.sha256(main).hexdigest()[:12]}"
    )


def test_compose_and_stack_share_a_directory(tmp_path: Path) -> None:
    generate(check_spec(None, HostFacts()), tmp_path)
    generate(check_spec(None, HostFacts(), "swarm"), tmp_path)
    assert {"compose.yaml", "stack.yaml"} <= set(snapshot(tmp_path))
    sums = (tmp_path / ".openclaw-compose.sums").read_text()
    assert "  compose.yaml\n" in sums
    assert "  stack.yaml\n" in sums
    generate(check_spec(None, HostFacts()), tmp_path)  # neither counts as edited by hand
    assert (tmp_path / "stack.yaml").exists()
