"""The HTTPS front from another machine: a container on a Docker network of its own plays the
remote laptop. It resolves the profiles' names to the front's address on that network (the
network's gateway, where the front listens), and from there:

- node (``https`` with ``ca: front/ca.crt``, as ``curl --cacert``) reaches each name over TLS,
  and fails to without the CA; a name the front does not serve gets 421; a chat through the
  stand-in provider completes with the profile's token and is refused with the other's; the
  gateways' own ports (base, base+1, base+2, CDP) do not answer on that address;
- headless Chromium, trusting the local CA through Chromium's managed ``CACertificates``
  policy (an administrator's trust anchor, as a company laptop has; not an ignore-errors
  switch), opens each profile's Control UI: the gateway sees the laptop's address (the front is
  a trusted proxy), accepts the token and asks for device pairing, which the owner approves
  with ``openclaw-compose cli PROFILE -- devices approve ID``; then the UI connects. Another
  profile's token is refused. (That TLS is trusted only through the CA is node's check above.)

Both network designs: the gateways on their own bridge networks (the default), and on the
host's network; ``test_swarm_front.py`` runs the same tests on the one-node swarm.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from openclaw_compose.core.contract import EXEC_ENTRYPOINT
from openclaw_compose.core.frontcerts import CA_CERT
from openclaw_compose.core.spec import DEFAULT_BROWSER_IMAGE
from openclaw_compose.engine import Engine
from openclaw_compose.engine.client import run_docker
from openclaw_compose.testing import GatewayProject, free_base, openclaw_gateways, release_base
from tests.docker.test_secrets import provider_fragment
from tests.helpers import run_cli
from tests.standin_provider import StandinProvider, standin_provider

from . import dockerkit

NAMES = {"main": "main.front.example", "rescue": "rescue.front.example"}
KEYS = {"main": "sk-front-main-1c9e", "rescue": "sk-front-rescue-77d0"}
PROBE = Path(__file__).with_name("front_probe.mjs")
BROWSE_SECONDS = 240
"""At most, per round of Chromium runs (on a loaded 2-core machine a page took over 45 s)."""


@dataclass(frozen=True)
class Front:
    project: GatewayProject
    providers: dict[str, StandinProvider]
    laptop: str
    """The container playing the remote machine."""
    address: str
    port: int
    network: str
    """``bridge`` or ``host`` (compose), or ``swarm``."""
    client: str | None = None
    """The laptop's address as the front sees it; None: the laptop's own (on swarm, Docker
    masquerades the laptop's network into the front's, so its bridge's address)."""

    def where(self) -> list[str]:
        directory = self.project.directory
        target = ["--target", "swarm"] if self.network == "swarm" else []
        return ["-f", str(directory / "openclaw-compose.yaml"), "-o", str(directory), *target]

    def closed(self) -> list[int]:
        """What the laptop must not reach on the front's address: B+1 (the front's own way in)
        and the browser's ports, and B itself but on swarm (published on every address)."""
        gateways = self.project.gateways.values()
        base = [] if self.network == "swarm" else [g.port for g in gateways]
        ports = [p for g in gateways for p in (g.port + 1, g.browser_control_port, g.cdp_ports[0])]
        return sorted({*base, *ports})

    def containers(self, engine: Engine) -> dict[str, str]:
        if self.network == "swarm":
            running = engine.containers.stack_containers(self.project.project)
        else:
            running = engine.containers.project_containers(self.project.project)
        return {profile: running[profile].name for profile in NAMES}

    def explain(self, engine: Engine) -> str:
        """For a failure: the gateways' containers (on swarm, every task of each service: a
        replaced one has a new container) and the front's last log lines (its access log)."""
        project = self.project.project
        if self.network == "swarm":
            tasks = [
                run_docker(["service", "ps", "--no-trunc", f"{project}_{name}"], None).stdout
                for name in (*NAMES, "front")
            ]
            front = run_docker(["service", "logs", "--tail", "30", f"{project}_front"], None)
            return "\n".join(tasks) + front.stdout + front.stderr
        running = engine.containers.project_containers(project)
        return (
            f"{self.containers(engine)}\n" + dockerkit.logs_since(running["front"].name, 0)[-3000:]
        )

    def approve(self, engine: Engine, profile: str, request: str) -> None:
        """As the owner does: ``cli PROFILE -- devices approve ID`` (on swarm, which has no
        ``cli``, the same command in the task's container)."""
        if self.network == "swarm":  # the image's entrypoint runs openclaw with the token
            command = [*EXEC_ENTRYPOINT, "devices", "approve", request]
            code, output = engine.containers.exec(self.containers(engine)[profile], command)
            assert code == 0, output
            return
        approved = run_cli("cli", profile, *self.where(), "--", "devices", "approve", request)
        assert approved.exit_code == 0, approved.output


def front_spec(
    network: str, address: str, port: int, providers: dict[str, StandinProvider]
) -> dict[str, Any]:
    profiles = {
        name: {
            "port": 18789 + 1000 * i,
            "hostname": NAMES[name],
            "secrets": ["PROVIDER_KEY"],
            "openclaw": provider_fragment(providers[name]),
        }
        for i, name in enumerate(NAMES)
    }
    return {
        "network": network,
        "front": {"address": address, "port": port, "tls": "local"},
        "profiles": profiles,
    }


@dataclass(frozen=True)
class Link:
    """A veth pair from the host into the laptop's network namespace, which is then no Docker
    network. Docker isolates its bridges from one another, so a laptop on a bridge of its own
    cannot reach a port that swarm publishes on ``docker_gwbridge``; a real laptop arrives on an
    interface of the host, as this one does."""

    host_side: str
    laptop_side: str
    host_address: str
    laptop_address: str

    def attach(self, container: str) -> None:
        """Move the laptop's end into ``container`` and route it through the host's end."""
        pid = str(dockerkit.inspect_container(container)["State"]["Pid"])
        inside = ["nsenter", "-t", pid, "-n", "ip"]
        for command in (
            ["ip", "link", "set", self.laptop_side, "netns", pid],
            [*inside, "addr", "add", f"{self.laptop_address}/30", "dev", self.laptop_side],
            [*inside, "link", "set", self.laptop_side, "up"],
            [*inside, "route", "add", "default", "via", self.host_address],
        ):
            subprocess.run(command, check=True, capture_output=True)


@dataclass(frozen=True)
class Network:
    """The laptop's own network: its Docker network (``none`` with a :class:`Link`), the
    laptop's container name, the host's address there (where the front listens), and the
    front's port (a whole free block there)."""

    name: str
    laptop: str
    address: str
    port: int
    link: Link | None = None


@contextmanager
def laptop_network() -> Iterator[Network]:
    """A network of its own for the laptop, removed at the end with the laptop."""
    name = f"octest-front-{token_hex(4)}"
    run_docker(["network", "create", name], cwd=None)
    laptop = f"{name}-laptop"
    try:
        address = dockerkit.host_address(name)
        port = free_base(address)  # a whole free block: no profile is moved onto it
        try:
            yield Network(name, laptop, address, port)
        finally:
            release_base(port)
    finally:
        subprocess.run(["docker", "rm", "-f", laptop], capture_output=True, check=False)
        run_docker(["network", "rm", name], cwd=None)


@pytest.fixture(scope="module", params=["bridge", "host"])
def front(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Front]:
    """The gateways on their own bridge networks (the default: the front reaches each on B+1,
    which the image's relay carries to its loopback), or on the host's network."""
    del engine  # the session's check that there is an engine and an image
    with (
        laptop_network() as net,
        standin_provider("MARKER-front-main", dockerkit.bridge_address()) as main,
        standin_provider("MARKER-front-rescue", dockerkit.bridge_address()) as rescue,
    ):
        providers = {"main": main, "rescue": rescue}
        secrets = {name: {"PROVIDER_KEY": KEYS[name]} for name in NAMES}
        spec = front_spec(request.param, net.address, net.port, providers)
        with openclaw_gateways(spec, secrets=secrets, timeout=600) as project:
            policies = tmp_path_factory.mktemp("policies")
            start_laptop(net, project.directory / CA_CERT, policies)
            yield Front(project, providers, net.laptop, net.address, net.port, request.param)


def start_laptop(network: Network, ca: Path, policies: Path) -> None:
    """The browser image, idle, on ``network``, the profiles' names resolving to the front; the
    CA trusted by Chromium's managed policy in ``policies`` (the file is written now; a run
    without it renames it away)."""
    der = x509.load_pem_x509_certificate(ca.read_bytes()).public_bytes(serialization.Encoding.DER)
    policy = {"CACertificates": [base64.b64encode(der).decode()]}
    (policies / "front.json").write_text(json.dumps(policy))
    policies.chmod(0o755)  # Chromium runs as the image's user (uid 1000), and pytest's are 0700
    (policies / "front.json").chmod(0o644)
    hosts = [f"--add-host={host}:{network.address}" for host in NAMES.values()]
    run_docker(
        [
            "run", "--detach", "--name", network.laptop, "--network", network.name, *hosts,
            "--volume", f"{policies}:/etc/chromium/policies/managed:ro",
            "--volume", f"{ca}:/ca.crt:ro",
            "--volume", f"{PROBE}:/probe.mjs:ro",
            "--entrypoint", "sleep", DEFAULT_BROWSER_IMAGE, "infinity",
        ],
        cwd=None,
    )  # fmt: skip
    if network.link is not None:
        network.link.attach(network.laptop)


def _logged(container: str, since: int, text: str) -> bool:
    return text in dockerkit.logs_since(container, since)


def _refused(container: str, since: int) -> bool:
    log = dockerkit.logs_since(container, since)
    return "token mismatch" in log or "unauthorized" in log


def test_each_name_over_tls_and_nothing_else(front: Front) -> None:
    gateways = front.project.gateways
    env = {
        "FRONT_ADDRESS": front.address,
        "FRONT_PORT": str(front.port),
        "NAMES": json.dumps(NAMES),
        "TOKENS": json.dumps({name: gateways[name].token for name in NAMES}),
        "CLOSED_PORTS": json.dumps(front.closed()),
    }
    flags = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
    output = run_docker(["exec", *flags, front.laptop, "node", "/probe.mjs"], cwd=None).stdout
    result = json.loads(output.strip().splitlines()[-1])
    for profile in NAMES:
        assert result["healthz"][profile]["status"] == 200, result
    assert "error" in result["untrusted"], result  # the CA is what makes it trusted
    assert result["unknownHost"]["status"] == 421, result
    own = json.loads(result["chat"]["own"]["body"])
    assert "choices" in own, result["chat"]
    assert own["choices"][0]["message"]["content"].strip() == front.providers["main"].marker
    assert result["chat"]["other"]["status"] == 401, result
    assert set(result["ports"].values()) == {"ECONNREFUSED"}, result
    config = (front.project.directory / "front/haproxy.cfg").read_text()
    lines = [line.split() for line in config.splitlines()]
    servers = sorted(int(line[2].rsplit(":", 1)[1]) for line in lines if line[:1] == ["server"])
    relayed = front.network != "host"
    assert servers == sorted(g.port + relayed for g in gateways.values())


@contextmanager
def _browsers(front: Front, urls: dict[str, str]) -> Iterator[None]:
    """Chromium in the laptop, one instance per key of ``urls`` (its own user data dir: its
    own device identity), all at once, open while the block runs; then each is stopped (by its
    process id) and waited for."""
    for key, url in urls.items():
        script = (
            "chromium --headless=new --no-sandbox --disable-gpu "
            f'--user-data-dir=/tmp/{key} "$URL" >/dev/null 2>&1 & echo $! > /tmp/{key}.pid; wait'
        )
        run_docker(
            ["exec", "--detach", "--env", f"URL={url}", front.laptop, "sh", "-c", script], None
        )
    try:
        yield
    finally:
        for key in urls:
            stop = (
                f"pid=$(cat /tmp/{key}.pid) && kill $pid; "
                "for _ in $(seq 60); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done"
            )
            run_docker(["exec", front.laptop, "sh", "-c", stop], None)


def _await(until: Callable[[], bool]) -> None:
    """Until ``until()`` or :data:`BROWSE_SECONDS` (the assertions after it say what is
    missing)."""
    deadline = time.monotonic() + BROWSE_SECONDS
    while not until() and time.monotonic() < deadline:
        time.sleep(2)


def test_control_ui_through_the_front(engine: Engine, front: Front) -> None:
    """As the Control UI docs tell a user: open the dashboard URL, keep the page open while
    the gateway asks for pairing, approve the request with ``cli PROFILE -- devices approve``,
    and the same page connects on its own."""
    urls = {}
    for profile, name in NAMES.items():
        result = run_cli("dashboard", profile, *front.where(), "--json")
        assert result.exit_code == 0, result.output
        urls[profile] = json.loads(result.stdout)["url"]
        assert urls[profile].startswith(f"https://{name}:{front.port}/#token=")
    laptop = dockerkit.inspect_container(front.laptop)["NetworkSettings"]["Networks"]
    laptop_address = front.client or next(iter(laptop.values()))["IPAddress"]

    def logged(since: int, text: str) -> bool:
        """``text`` in every gateway's log since ``since``, its container looked up each time
        (swarm replaces a task whose healthcheck times out on a loaded machine)."""
        return all(_logged(c, since, text) for c in front.containers(engine).values())

    since = int(time.time())
    with _browsers(front, urls):
        _await(lambda: logged(since, "reason=not-paired"))
        requests = {}
        for profile, container in front.containers(engine).items():
            log = dockerkit.logs_since(container, since)
            pending = re.findall(r"requestId=(\S+) reason=not-paired", log)
            assert pending, f"{profile}: {log[-3000:]}\n{front.explain(engine)}"
            assert "phase=auth_validated" in log  # the token was accepted, then pairing asked
            assert f"fwd={laptop_address} origin=https://{NAMES[profile]}:{front.port}" in log
            requests[profile] = pending[-1]
        approved_at = int(time.time())
        for profile, request in requests.items():
            front.approve(engine, profile, request)
        _await(lambda: logged(approved_at, "webchat connected"))
    for container in front.containers(engine).values():
        log = dockerkit.logs_since(container, approved_at)
        assert "webchat connected" in log, f"{log[-3000:]}\n{front.explain(engine)}"
    since = int(time.time())
    wrong = urls["main"].split("#")[0] + "#" + urls["rescue"].split("#")[1]
    with _browsers(front, {"wrong": wrong}):
        _await(lambda: _refused(front.containers(engine)["main"], since))
    main = front.containers(engine)["main"]
    assert _refused(main, since), dockerkit.logs_since(main, since)[-3000:]


def test_the_front_is_hardened_and_limited(engine: Engine, front: Front) -> None:
    """No capability but the four HAProxy needs, no new privileges, a read-only root, limits;
    and it still serves (the tests above), its key read after the drop."""
    container = engine.containers.project_containers(front.project.project)["front"].name
    host = dockerkit.inspect_container(container)["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert sorted(host["CapAdd"]) == ["DAC_READ_SEARCH", "NET_BIND_SERVICE", "SETGID", "SETUID"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["ReadonlyRootfs"] is True
    assert host["Memory"] == 256 * 2**20
    assert host["PidsLimit"] == 256
    assert host["NanoCpus"] == 500_000_000
