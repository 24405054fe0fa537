"""A haywire profile cannot starve the rescue bot, and leaves nothing of value outside its
volumes; ``doctor`` audits the running gateways and reports drift from the profiles file.

One project, two profiles: ``rescue`` (default limits, a stand-in model provider) and
``haywire`` (small limits through ``resources:``, so that it hits them fast). In ``haywire`` a
process storm runs into its pids limit, a CPU spin into its CPU limit, ``/tmp`` is filled to
its tmpfs bound, the workspace by a fixed amount (the engine cannot bound a named volume on
ext4/overlay2: README), and a Node.js memory balloon past its memory limit gets the gateway
OOM-killed (the gateway's processes are marked as the OOM killer's first choice, not the
balloon, so that the engine's restart policy is what is tested). Meanwhile ``rescue``
answers every ``/healthz`` and completes a chat; ``haywire`` comes back with its state.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from openclaw_compose.core.contract import (
    SEED_TARGET,
    TMPFS,
    backup_command,
    backup_file,
    tmpfs_options,
)
from openclaw_compose.core.resources import size_bytes
from openclaw_compose.engine import Engine
from openclaw_compose.testing import GatewayProject, openclaw_gateways
from tests.helpers import run_cli
from tests.standin_provider import StandinProvider, standin_provider

from . import dockerkit
from .test_secrets import provider_fragment

HAYWIRE = {"memory": "1792m", "cpus": 0.5, "pids": 128}
"""Room for the gateway (about 1 GiB) and a full 512 MiB /tmp (tmpfs counts as memory)."""
WORKSPACE_FILL_MIB = 256
"""What the test writes into the workspace volume: a named volume has no size bound here."""
MARKER = "/home/node/.openclaw/containment-marker"


@dataclass
class Contained:
    project: GatewayProject
    provider: StandinProvider
    names: dict[str, str]


@pytest.fixture(scope="module")
def contained(engine: Engine) -> Iterator[Contained]:
    with standin_provider("MARKER-rescue-containment", dockerkit.bridge_address()) as provider:
        spec = {
            "profiles": {
                "rescue": {"port": 18789, "role": "rescue", "secrets": ["PROVIDER_KEY"]}
                | {"openclaw": provider_fragment(provider)},
                "haywire": {"port": 19789, "resources": HAYWIRE},
            }
        }
        secrets = {"rescue": {"PROVIDER_KEY": "sk-containment"}}
        with openclaw_gateways(spec, secrets=secrets, timeout=600) as project:
            states = engine.containers.project_containers(project.project)
            yield Contained(project, provider, {p: s.name for p, s in states.items()})


def _sh(engine: Engine, container: str, script: str) -> tuple[int, str]:
    return engine.containers.exec(container, ["sh", "-c", script])


def test_the_container_is_hardened_and_limited(contained: Contained) -> None:
    host = dockerkit.inspect_container(contained.names["haywire"])["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert not host["CapAdd"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert (host["Memory"], host["MemorySwap"]) == (size_bytes("1792m"), size_bytes("1792m"))
    assert (host["NanoCpus"], host["PidsLimit"]) == (500_000_000, 128)
    assert host["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-file": "3", "max-size": "10m"},
    }
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert host["Tmpfs"] == dict(option.split(":", 1) for option in tmpfs_options())
    rescue = dockerkit.inspect_container(contained.names["rescue"])["HostConfig"]
    assert (rescue["Memory"], rescue["PidsLimit"]) == (2 << 30, 512)


def test_nothing_of_value_is_outside_the_volumes(engine: Engine, contained: Contained) -> None:
    """After a chat and a backup: docker diff shows no archive and no file, only mount points
    (the secrets' too: they are bind-mounted files on a read-only root)."""
    name = contained.names["rescue"]
    assert (
        contained.project["rescue"].chat("Hello.", timeout=600).strip() == contained.provider.marker
    )
    archive = backup_file()
    code, output = engine.containers.exec(name, backup_command(archive))
    assert code == 0, output
    _, kind = _sh(engine, name, f"stat -f -c %T $(dirname {archive})")
    assert kind.strip() == "tmpfs"
    _sh(engine, name, f"rm -f {archive}")
    changed = set(dockerkit.diff(name))
    mount_points = {"/home", "/home/node", "/home/node/.cache", "/run", "/run/secrets"}
    seed = {"/run/openclaw-compose", SEED_TARGET}
    secrets = {f"/run/secrets/{s}" for s in ("OPENCLAW_GATEWAY_TOKEN", "PROVIDER_KEY")}
    assert changed == mount_points | seed | secrets, sorted(changed)
    # Paths of the gateway's own (uid 1000) in the image, which only the read-only root protects
    owned = ("/home/node/x", "/opt/openclaw-compose/compile-cache/x")
    _, refused = _sh(engine, name, "; ".join(f"touch {path} 2>&1" for path in owned))
    assert refused.count("Read-only file system") == len(owned), refused


@dataclass
class HealthWatch:
    url: str
    answers: int = 0
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    assert response.status == 200
                self.answers += 1
            except Exception as exc:  # every failure is recorded, none ends the watch
                self.failures.append(repr(exc))
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.stop.wait(0.5)


def test_haywire_is_contained_and_comes_back(engine: Engine, contained: Contained) -> None:
    haywire, rescue = contained.names["haywire"], contained.project["rescue"]
    before = dockerkit.inspect_container(haywire)["RestartCount"]
    assert _sh(engine, haywire, f"echo kept > {MARKER}")[0] == 0
    watch = HealthWatch(f"{rescue.base_url}/healthz")
    watcher = threading.Thread(target=watch.run, daemon=True)
    watcher.start()
    try:
        figures = _go_haywire(engine, haywire)
        assert rescue.chat("Still there?", timeout=600).strip() == contained.provider.marker
        _wait_back(engine, haywire, before, contained.project["haywire"].base_url)
    finally:
        watch.stop.set()
        watcher.join()
    print(
        f"containment: {figures}; rescue /healthz {watch.answers} answers, slowest "
        f"{watch.slowest:.2f} s, failures {watch.failures}"
    )
    assert watch.failures == []
    assert watch.answers > 10
    assert figures["pids_peak"] <= HAYWIRE["pids"]
    assert figures["forks_refused"] > 0
    assert figures["tmp_fill_mib"] <= TMPFS["/tmp"] >> 20
    assert _sh(engine, haywire, f"cat {MARKER}") == (0, "kept\n")


def _go_haywire(engine: Engine, container: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    pids = "/sys/fs/cgroup/pids/pids"
    # The storm in a child shell (dash exits at its first failed fork), then shell builtins
    # only: at the limit, no fork succeeds until the sleeps end.
    storm = (
        "sh -c 'i=0; while [ $i -lt 400 ]; do sleep 4 & i=$((i+1)); done' 2>/dev/null; "
        f"read peak < {pids}.current; read _ refused < {pids}.events; echo $peak $refused"
    )
    _, out = _sh(engine, container, storm)
    peak, refused = out.split()[-2:]
    figures["pids_peak"], figures["forks_refused"] = int(peak), int(refused)
    time.sleep(5)
    spin = "timeout 15 node -e 'for (;;) {}' & timeout 15 node -e 'for (;;) {}' & wait; true"
    _sh(engine, container, spin)
    _, out = _sh(
        engine,
        container,
        "dd if=/dev/zero of=/tmp/fill bs=1M count=1024 2>&1; "
        "du -m /tmp/fill | cut -f1; rm -f /tmp/fill; "
        f"dd if=/dev/zero of=/home/node/workspace/fill bs=1M count={WORKSPACE_FILL_MIB} "
        "2>/dev/null; rm -f /home/node/workspace/fill",
    )
    assert "No space left on device" in out, out
    figures["tmp_fill_mib"] = int(out.split()[-1])
    # Every process of the gateway is the OOM killer's first choice, the balloon its last.
    _sh(engine, container, "for f in /proc/[0-9]*/oom_score_adj; do echo 1000 > $f; done")
    balloon = "const a = []; for (;;) a.push(Buffer.alloc(64 << 20, 1));"
    _sh(engine, container, f"node -e '{balloon}' >/dev/null 2>&1 & sleep 30")
    return figures


def _wait_back(engine: Engine, container: str, before: int, base_url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = dockerkit.inspect_container(container)
        if state["RestartCount"] > before and state["State"]["Status"] == "running":
            try:
                with urllib.request.urlopen(f"{base_url}/startupz", timeout=5) as response:
                    if json.load(response).get("status") == "started":
                        return
            except OSError:
                pass
        time.sleep(2)
    pytest.fail(f"haywire did not come back: {dockerkit.inspect_container(container)['State']}")


def test_doctor_audits_and_reports_drift(engine: Engine, contained: Contained) -> None:
    directory = contained.project.directory
    where = ["-f", str(directory / "openclaw-compose.yaml")]
    clean = run_cli("doctor", *where)
    assert clean.exit_code == 0, clean.output
    assert "rescue hardening: cap_drop ALL" in clean.output
    assert "haywire limits: memory 1792m, cpus 0.5, pids 128" in clean.output
    compose_file = directory / "compose.yaml"
    edited = compose_file.read_text().replace("pids_limit: 128", "pids_limit: 4096")
    assert edited != compose_file.read_text()
    compose_file.write_text(edited)
    engine.compose.run(directory, "up", "-d", "haywire")
    drifted = run_cli("doctor", *where)
    assert drifted.exit_code == 1, drifted.output
    assert "FAIL  haywire limits: pids 4096 instead of 128" in drifted.output
    assert "drift" in drifted.output
    assert "ok    rescue limits" in drifted.output
