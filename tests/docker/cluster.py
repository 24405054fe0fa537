"""A real multi-node swarm on one machine, for the multi-node tests: three containers that each
run their own Docker engine (``openclaw-compose/node:bookworm``, ``images/build.sh --node``) on
a bridge network of their own with fixed addresses, one manager and two workers, and Debian's
``docker-registry`` on the manager that every node pulls from.

The recipe is ``../shared/docker-engine.md``'s "Several engines on one machine": ``--privileged``
fails on these VMs (no CAP_SYS_RESOURCE), so the nodes get every other capability, no seccomp or
AppArmor profile, every device, the host's cgroup tree, and each engine its own cgroup parent.
Each node's engine also listens on ``tcp://ADDRESS:2375`` (no TLS: reachable only from this
machine, on the tests' own network), which the tests use as a remote CLI would.

Everything is removed at the end: the nodes (their engines, swarm, gateways and volumes go with
them), the network, and the cgroups their engines made.
"""

from __future__ import annotations

import os
import random
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

from openclaw_compose.engine.client import run_docker

NODE_IMAGE = "openclaw-compose/node:bookworm"
ENGINE_PORT = 2375
REGISTRY_PORT = 5000
REGISTRY_CONFIG = "/etc/docker/registry/test.yml"
SWARM_PORT = 2377
LABEL = ("openclaw", "c")
"""The node label the tests place one profile by (on the manager)."""
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Node:
    name: str
    """Its container's name, which is also its hostname and so its swarm node name."""
    address: str

    @property
    def engine_url(self) -> str:
        return f"tcp://{self.address}:{ENGINE_PORT}"

    def sdk(self) -> Any:
        return docker.DockerClient(base_url=self.engine_url, version="auto", timeout=120)


@dataclass
class Cluster:
    network: str
    nodes: tuple[Node, ...]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def manager(self) -> Node:
        return self.nodes[0]

    @property
    def workers(self) -> tuple[Node, ...]:
        return self.nodes[1:]

    @property
    def registry(self) -> str:
        return f"{self.manager.address}:{REGISTRY_PORT}"

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def hold_port(self, node: Node, port: int) -> None:
        """A process on ``node`` (not a container, not this machine) listening on ``port``:
        the node image's registry binary, on that port."""
        docker.from_env().containers.get(node.name).exec_run(
            ["docker-registry", "serve", REGISTRY_CONFIG],
            environment={"REGISTRY_HTTP_ADDR": f":{port}"},
            detach=True,
        )
        _wait(
            lambda: urllib.request.urlopen(f"http://{node.address}:{port}/v2/", timeout=2), "port"
        )

    def pid(self, node: Node) -> int:
        """The node container's main process: its network namespace is the node's."""
        pid: int = docker.from_env().containers.get(node.name).attrs["State"]["Pid"]
        return pid


def node_image_present() -> bool:
    return bool(docker.from_env().images.list(name=NODE_IMAGE))


@contextmanager
def three_node_swarm(prefix: str, image: str) -> Iterator[Cluster]:
    """Make the nodes, the swarm and the registry, load ``image`` into the manager (the
    machine the images are built on, which pushes them), and remove it all at the end."""
    host = docker.from_env()
    network, subnet = _network(host, prefix)
    third = subnet.rsplit(".", 1)[0]
    nodes = tuple(Node(f"{prefix}-n{i}", f"{third}.{i + 1}") for i in range(1, 4))
    cluster = Cluster(network.name, nodes)
    try:
        start = time.monotonic()
        for node in nodes:
            _run_node(node, network.name, cluster.registry)
        for node in nodes:
            _wait(lambda node=node: node.sdk().version(), f"engine of {node.name}")
        _make_swarm(cluster)
        host.containers.get(cluster.manager.name).exec_run(
            ["docker-registry", "serve", REGISTRY_CONFIG], detach=True
        )
        _wait(
            lambda: urllib.request.urlopen(f"http://{cluster.registry}/v2/", timeout=2), "registry"
        )
        cluster.timings["node setup"] = time.monotonic() - start
        start = time.monotonic()
        cluster.manager.sdk().images.load(host.api.get_image(image))
        cluster.timings["image into the manager"] = time.monotonic() - start
        yield cluster
    finally:
        for node in nodes:
            with suppress(docker.errors.NotFound):
                host.containers.get(node.name).remove(force=True, v=True)
        network.remove()
        for node in nodes:
            _remove_cgroups(node.name)


def _network(host: Any, prefix: str) -> tuple[Any, str]:
    """A bridge network on a free 10.213.X.0/24 (another test session may hold one)."""
    for _ in range(20):
        subnet = f"10.213.{random.randrange(1, 255)}.0/24"
        pool = docker.types.IPAMPool(subnet=subnet)
        try:
            network = host.networks.create(
                f"{prefix}-net", driver="bridge", ipam=docker.types.IPAMConfig(pool_configs=[pool])
            )
        except docker.errors.APIError as exc:
            if "overlap" in str(exc):
                continue
            raise
        return network, subnet.removesuffix("/24")
    raise RuntimeError("no free 10.213.X.0/24 subnet for the test network")


def _run_node(node: Node, network: str, registry: str) -> None:
    """With the docker CLI: ``systempaths=unconfined`` (no masked /proc paths) is a CLI
    option the SDK does not have."""
    run_docker(
        [
            "run", "--detach", "--name", node.name, "--hostname", node.name,
            "--network", network, "--ip", node.address,
            "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
            "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
            "--security-opt", "systempaths=unconfined", "--device-cgroup-rule", "a *:* rwm",
            "--volume", f"{CGROUP_ROOT}:{CGROUP_ROOT}:rw",
            "--env", f"NODE_CGROUP_PARENT={node.name}",
            "--env", f"NODE_INSECURE_REGISTRY={registry}",
            NODE_IMAGE,
        ],
        cwd=None,
    )  # fmt: skip


def _make_swarm(cluster: Cluster) -> None:
    manager = cluster.manager.sdk()
    address = cluster.manager.address
    manager.swarm.init(advertise_addr=address, listen_addr=f"{address}:{SWARM_PORT}")
    token = manager.swarm.attrs["JoinTokens"]["Worker"]
    for worker in cluster.workers:
        worker.sdk().swarm.join(
            remote_addrs=[f"{address}:{SWARM_PORT}"],
            join_token=token,
            advertise_addr=worker.address,
            listen_addr=f"{worker.address}:{SWARM_PORT}",
        )
    _wait(
        lambda: (
            len([n for n in manager.nodes.list() if n.attrs["Status"]["State"] == "ready"]) == 3
            or None
        ),
        "three ready nodes",
    )
    node = next(
        n
        for n in manager.nodes.list()
        if n.attrs["Description"]["Hostname"] == cluster.manager.name
    )
    spec = node.attrs["Spec"]
    node.update({**spec, "Labels": {**spec.get("Labels", {}), LABEL[0]: LABEL[1]}})


def _wait(ready: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready() is not None:
                return
        except Exception:  # not up yet: any failure means try again
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.5)


def _remove_cgroups(name: str) -> None:
    """The node's engine made ``/<name>`` in every cgroup hierarchy: remove what is empty."""
    for controller in CGROUP_ROOT.iterdir():
        top = controller / name
        if not top.is_dir():
            continue
        for directory in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if directory.is_dir():
                with suppress(OSError):
                    directory.rmdir()
        with suppress(OSError):
            top.rmdir()


def unique_prefix() -> str:
    return f"octest-{os.urandom(3).hex()}"
