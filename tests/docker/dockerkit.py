"""Docker access that only tests need (inspecting containers, making and leaving a swarm):
kept out of the package, on the SDK directly."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from secrets import token_hex
from typing import Any

import docker
import docker.errors

from openclaw_compose.engine import Engine
from openclaw_compose.engine.client import run_docker
from openclaw_compose.testing import free_base, release_base


def _sdk() -> Any:
    return docker.from_env(version="auto", timeout=30)


def inspect_container(container: str) -> dict[str, Any]:
    attrs: dict[str, Any] = _sdk().containers.get(container).attrs
    return attrs


def inspect_service(service: str) -> dict[str, Any]:
    """``docker service inspect`` of a swarm service: its whole spec and update status."""
    attrs: dict[str, Any] = _sdk().services.get(service).attrs
    return attrs


def inspect_stack_services(stack: str) -> list[dict[str, Any]]:
    """``docker service inspect`` of every service of a stack."""
    services = _sdk().services.list(filters={"label": f"com.docker.stack.namespace={stack}"})
    return [service.attrs for service in services]


def diff(container: str) -> list[str]:
    """``docker diff``: the paths changed in the container's writable layer."""
    return sorted(str(change["Path"]) for change in _sdk().containers.get(container).diff() or [])


def kill(container: str) -> None:
    """SIGKILL a container's main process: a gateway that crashes."""
    _sdk().containers.get(container).kill()


def remove(container: str) -> None:
    """``docker rm -f``: a gateway's container gone, its owner lease left behind."""
    _sdk().containers.get(container).remove(force=True)


def leave_renamed(container: str) -> str:
    """What a kill inside Compose's recreate leaves: the container renamed ``<id>_<name>``
    (and killed); its new name."""
    found = _sdk().containers.get(container)
    renamed = f"{found.id[:12]}_{found.name}"
    found.rename(renamed)
    found.kill()
    return renamed


def mounts(container: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = inspect_container(container).get("Mounts", [])
    return found


def network_names() -> set[str]:
    return {network.name for network in _sdk().networks.list()}


def remove_network_if_unused(name: str) -> None:
    """Remove ``name`` unless something still uses it (then it is kept)."""
    with suppress(docker.errors.APIError):
        _sdk().networks.get(name).remove()


def swarm_init(advertise_addr: str) -> None:
    _sdk().swarm.init(advertise_addr=advertise_addr)


def swarm_leave() -> None:
    _sdk().swarm.leave(force=True)


def stack_config(directory: Path, stack_file: str) -> str:
    """The stack file as ``docker stack deploy`` reads it (its loader's validation)."""
    return run_docker(["stack", "config", "--compose-file", stack_file], cwd=directory).stdout


def logs_since(container: str, since: int) -> str:
    """A container's log lines from ``since`` (a UNIX time) on."""
    return bytes(_sdk().containers.get(container).logs(since=since)).decode(errors="replace")


def run_to_end(image: str, script: str, environment: dict[str, str]) -> None:
    """``sh -c script`` in ``image`` on the host network, to its end (the container is
    removed)."""
    _sdk().containers.run(
        image,
        ["-c", script],
        entrypoint="sh",
        environment=environment,
        network_mode="host",
        remove=True,
    )


GWBRIDGE = "docker_gwbridge"
"""The bridge of a swarm node's overlay containers to the host, which ``docker swarm leave``
keeps."""
_GWBRIDGE_OPTIONS = {
    "com.docker.network.bridge.name": GWBRIDGE,
    "com.docker.network.bridge.enable_icc": "false",
    "com.docker.network.bridge.enable_ip_masquerade": "true",
}
"""What Docker gives the bridge when it makes it itself (for a node's first overlay task)."""


def bridge_address() -> str:
    """The host's address on Docker's default bridge (docker0): a test server listening there
    is reachable from every profile's own bridge network (as any host service on a
    non-loopback address is, with ``egress: all``), while the host's loopback is not."""
    return host_address("bridge")


def host_address(network: str) -> str:
    """The host's address on a bridge network: IPAM's gateway or, where Docker does not record
    it (the default bridge of a newly started engine), the address of the network's interface."""
    attrs = _sdk().networks.get(network).attrs
    gateway = attrs["IPAM"]["Config"][0].get("Gateway")
    if gateway:
        return str(gateway)
    interface = attrs["Options"]["com.docker.network.bridge.name"]
    shown = subprocess.run(
        ["ip", "-o", "-4", "addr", "show", "dev", interface],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return shown.split()[3].partition("/")[0]


def gwbridge_address() -> str:
    """The host's address on ``docker_gwbridge``, made now (as Docker would make it) when no
    task has needed it yet: a test server must listen there before a stack is deployed."""
    client = _sdk()
    try:
        client.networks.get(GWBRIDGE)
    except docker.errors.NotFound:
        client.networks.create(GWBRIDGE, driver="bridge", options=_GWBRIDGE_OPTIONS)
    return host_address(GWBRIDGE)


_GET = """
const http = require('http');
Promise.all(process.argv.slice(1).map(t => new Promise(done => {
  const [host, port, path] = t.split(' ');
  const req = http.get({host, port: +port, path, timeout: 3000}, res => {
    let body = '';
    const end = () => done([t, `reply ${res.statusCode}\\n${body.split(host).join('HOST')}`]);
    res.on('data', d => { body += d; });
    res.on('end', end);
    res.on('error', end);
  });
  req.on('timeout', () => { req.destroy(); done([t, 'timeout']); });
  req.on('error', e => done([t, e.code || 'error']));
}))).then(r => console.log(JSON.stringify(Object.fromEntries(r))));
"""


def http_replies(engine: Engine, container: str, targets: list[str]) -> dict[str, str]:
    """From inside ``container`` (with node: the gateway images have no curl), ``GET PATH``
    to each ``"HOST PORT PATH"``: ``timeout``, a connect error code, or ``reply CODE`` and the
    body on the next line, with HOST in it written ``HOST`` (CDP names the address it was
    asked on), so that the same service gives the same reply at every address."""
    code, output = engine.containers.exec(container, ["node", "-e", _GET, *targets])
    assert code == 0, output
    result: dict[str, str] = json.loads(output.strip().splitlines()[-1])
    assert len(result) == len(set(targets))
    return result


def status(reply: str) -> str:
    """The first line of what :func:`http_replies` says: ``reply CODE``, or why none came."""
    return reply.split("\n", maxsplit=1)[0]


def addresses(container: str) -> set[str]:
    """The container's address on each of its networks."""
    networks = inspect_container(container)["NetworkSettings"]["Networks"]
    return {net["IPAddress"] for net in networks.values() if net["IPAddress"]}


def host_addresses() -> set[str]:
    """Every IPv4 address of this host but loopback: its own, and each bridge's gateway."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True).stdout
    return {address for address in out.split() if "." in address}


def nonce_server(address: str) -> Iterator[tuple[int, str]]:
    """An HTTP server on ``address`` that answers a nonce, on a free port: (port, nonce)."""
    port, nonce = free_base(address), token_hex(16)

    class Nonce(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(nonce.encode())

        def log_message(self, *args: Any) -> None:
            del args

    server = ThreadingHTTPServer((address, port), Nonce)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port, nonce
    finally:
        server.shutdown()
        server.server_close()
        release_base(port)


def project_containers(project: str) -> list[dict[str, Any]]:
    """``docker inspect`` of every container of a Compose project, stopped ones and the ones
    Compose left renamed ``<id>_<name>`` included."""
    client = _sdk()
    found = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={project}"}
    )
    return [container.attrs for container in found]
