"""``doctor``'s audit of running gateways, on real ``docker inspect`` output saved under
``tests/inspect/`` (a Compose gateway on the host network, one on a bridge network with its
project's shared network, a swarm task with the stack's hardening), then edited the way a
hand-edited ``compose.yaml`` would change it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from openclaw_compose.core.audit import Expected, Finding, audit
from openclaw_compose.core.loading import validate
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.targets import get_target

INSPECT = Path(__file__).parent / "inspect"


def _load(name: str) -> Any:
    return json.loads((INSPECT / name).read_text())


def _expected(attrs: dict[str, Any], target: str = "compose", **spec: Any) -> Expected:
    labels = attrs["Config"]["Labels"]
    profile = labels["io.openclaw-compose.profile"]
    port = int(labels.get("io.openclaw-compose.base-port", 18789))
    if attrs["HostConfig"].get("NetworkMode") == "host":  # rendered before bridge was the default
        spec.setdefault("network", "host")
    data = {"profiles": {profile: {"port": port}}, **spec}
    loaded = validate(data, source="spec")
    return get_target(target).expected(loaded, plan_ports(loaded).footprints[0])


def _run(
    attrs: dict[str, Any], want: Expected, stat: str, networks: Any = None
) -> dict[str, Finding]:
    found = audit(want, attrs, networks or {}, stat)
    return {finding.name.split(" ", 1)[1]: finding for finding in found}


HOST_STAT = (INSPECT / "compose-host.stat").read_text()


def test_a_container_as_rendered_passes_every_finding() -> None:
    attrs = _load("compose-host.json")
    found = _run(attrs, _expected(attrs), HOST_STAT)
    assert all(f.ok for f in found.values()), found
    assert found["hardening"].detail == (
        "cap_drop ALL, read-only root, no-new-privileges, user 1000:1000"
    )
    assert found["limits"].detail == "memory 2g, cpus 2, pids 512"
    assert found["network"].detail.startswith("host network, egress open")
    assert found["token"].detail.startswith("mounted as /run/secrets/OPENCLAW_GATEWAY_TOKEN")


def _edited(change: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    attrs: dict[str, Any] = copy.deepcopy(_load("compose-host.json"))
    section, values = change
    attrs[section].update(values)
    return attrs


@pytest.mark.parametrize(
    ("change", "finding", "detail"),
    [
        (
            ("HostConfig", {"CapDrop": None}),
            "hardening",
            "cap_drop [] instead of ['ALL'] (the profiles file renders otherwise: drift)",
        ),
        (("HostConfig", {"CapAdd": ["NET_ADMIN"]}), "hardening", "cap_add ['NET_ADMIN']"),
        (
            ("HostConfig", {"SecurityOpt": None}),
            "hardening",
            "no no-new-privileges:true in security_opt",
        ),
        (("Config", {"User": "0"}), "hardening", "runs as user '0', not 1000"),
        (("HostConfig", {"PidsLimit": 4096}), "limits", "pids 4096 instead of 512"),
        (("HostConfig", {"PidsLimit": None}), "limits", "pids unlimited instead of 512"),
        (
            ("HostConfig", {"Memory": 3 << 30, "MemorySwap": 3 << 30}),
            "limits",
            "memory 3g instead of 2g",
        ),
        (("HostConfig", {"NanoCpus": 0}), "limits", "cpus 0 instead of 2"),
        (("HostConfig", {"MemorySwap": -1}), "limits", "memory+swap unlimited instead of 2g"),
        (
            ("HostConfig", {"PortBindings": {"9229/tcp": [{"HostIp": "", "HostPort": "9229"}]}}),
            "publishing",
            "published beyond the file: 0.0.0.0:9229",
        ),
        (
            ("HostConfig", {"LogConfig": {"Type": "json-file", "Config": {}}}),
            "runtime config",
            "log json-file {} is not rotated as rendered",
        ),
        (
            ("HostConfig", {"RestartPolicy": {"Name": "no"}}),
            "runtime config",
            "restart no instead of unless-stopped",
        ),
        (
            ("Config", {"Env": ["OPENCLAW_GATEWAY_TOKEN=abc"]}),
            "token",
            "OPENCLAW_GATEWAY_TOKEN is in the container's configured environment",
        ),
    ],
)
def test_drift_from_the_profiles_file_fails_its_finding(
    change: Any, finding: str, detail: str
) -> None:
    attrs = _edited(change)
    found = _run(attrs, _expected(attrs), HOST_STAT)
    assert not found[finding].ok
    assert detail in found[finding].detail
    assert [name for name, f in found.items() if not f.ok] == [finding]


def test_a_changed_limit_in_the_file_is_drift_too() -> None:
    attrs = _load("compose-host.json")
    want = _expected(attrs)
    profile = want.profile
    port = attrs["Config"]["Labels"]["io.openclaw-compose.base-port"]
    spec = {"profiles": {profile: {"port": int(port), "resources": {"memory": "3g"}}}}
    loaded = validate(spec, source="spec")
    found = _run(
        attrs, get_target("compose").expected(loaded, plan_ports(loaded).footprints[0]), HOST_STAT
    )
    assert "memory 2g instead of 3g" in found["limits"].detail


@pytest.mark.parametrize(
    ("stat", "detail"),
    [
        (
            HOST_STAT.replace("/home/node/workspace 1000 755", "/home/node/workspace 0 755"),
            "/home/node/workspace owned by uid 0, not 1000",
        ),
        (
            HOST_STAT.replace("/home/node/.openclaw 1000 755", "/home/node/.openclaw 1000 777"),
            "/home/node/.openclaw is writable by everyone (mode 777)",
        ),
        ("", "/home/node/.openclaw missing"),
    ],
)
def test_state_directories_are_owned_and_private(stat: str, detail: str) -> None:
    attrs = _load("compose-host.json")
    found = _run(attrs, _expected(attrs), stat)
    assert not found["state"].ok
    assert detail in found["state"].detail


def test_no_token_file_is_a_failure() -> None:
    attrs = _load("compose-host.json")
    stat = "\n".join(line for line in HOST_STAT.splitlines() if "secrets" not in line)
    assert not _run(attrs, _expected(attrs), stat)["token"].ok


def test_bridge_publishing_and_a_shared_network() -> None:
    attrs = _load("compose-bridge.json")
    network = _load("compose-bridge-network.json")
    want = _expected(attrs, network="bridge")
    found = _run(
        attrs, want, (INSPECT / "compose-bridge.stat").read_text(), {network["Name"]: network}
    )
    assert found["publishing"].ok
    assert found["publishing"].detail == "102 port(s) on loopback only"
    assert not found["network"].ok
    assert (
        "harden-fixture_default is shared with harden-fixture-rescue-1" in found["network"].detail
    )
    alone = copy.deepcopy(network)
    alone["Containers"] = {attrs["Id"]: network["Containers"][attrs["Id"]]}
    found = _run(attrs, want, "", {network["Name"]: alone})
    assert found["network"].ok
    assert found["network"].detail == "harden-fixture_default (egress open)"


def test_bridge_ports_on_every_address_are_drift() -> None:
    attrs = copy.deepcopy(_load("compose-bridge.json"))
    for bound in attrs["HostConfig"]["PortBindings"].values():
        for binding in bound:
            binding["HostIp"] = "0.0.0.0"
    found = _run(attrs, _expected(attrs, network="bridge"), "")
    assert not found["publishing"].ok
    assert "published beyond the file: 0.0.0.0:12100" in found["publishing"].detail
    assert "not published: 127.0.0.1:12100" in found["publishing"].detail


def test_swarm_task_is_audited_for_what_a_stack_can_say() -> None:
    attrs = _load("swarm-task.json")
    network = _load("swarm-network.json")
    want = _expected(attrs, "swarm")
    found = _run(attrs, want, HOST_STAT, {"harden-fx_main-net": network})
    assert found["hardening"].ok, found["hardening"]
    assert "read-only root" in found["hardening"].detail
    assert found["limits"].ok, found["limits"]
    assert found["publishing"].ok
    assert found["network"].detail == "harden-fx_main-net (egress open)"  # lb- endpoint skipped
    writable = copy.deepcopy(attrs)
    writable["HostConfig"]["ReadonlyRootfs"] = False
    assert not _run(writable, want, HOST_STAT)["hardening"].ok


def test_host_services_granted_by_the_file_and_nothing_else() -> None:
    attrs = copy.deepcopy(_load("compose-bridge.json"))
    network = _load("compose-bridge-network.json")
    network["Containers"] = {attrs["Id"]: network["Containers"][attrs["Id"]]}
    port = int(attrs["Config"]["Labels"]["io.openclaw-compose.base-port"])
    profile = attrs["Config"]["Labels"]["io.openclaw-compose.profile"]
    granted = {"profiles": {profile: {"port": port, "host_services": {"models": 11434}}}}
    loaded = validate(granted, source="spec")
    want = get_target("compose").expected(loaded, plan_ports(loaded).footprints[0])
    networks = {network["Name"]: network}
    missing = _run(attrs, want, "", networks)["network"]
    assert not missing.ok
    assert "host services on ports none instead of 11434" in missing.detail
    attrs["Config"]["Env"].append("OPENCLAW_COMPOSE_HOST_SERVICES=11434")
    found = _run(attrs, want, "", networks)["network"]
    assert found.ok, found
    assert found.detail.endswith("granted the host's 127.0.0.1 ports 11434 only")
    assert not _run(attrs, _expected(attrs, network="bridge"), "", networks)["network"].ok
