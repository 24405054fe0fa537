"""Each node's own preflight, run on the node itself: are the ports its profiles publish free
there, and can it run their image?

The CLI may run anywhere (``DOCKER_HOST=tcp://manager:2375`` from an admin's laptop): binding a
port on the CLI's machine says nothing about a node, and the manager's API knows a worker's
swarm tasks but not its other processes. So a short-lived swarm job is placed on each node, in
the node's own network namespace, with the image its profiles will run: it tries to bind every
port they publish on every address (as a published port will) and prints the ones it could
not. The job cannot start where the image is not there: that is the image check (without
``registry:``), with how to get the image there. With ``registry:`` the job pulls the pushed
image by digest, so the deploy that follows starts without waiting for a pull.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from openclaw_compose.core.checks import CheckCode, Problem
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.records import Job, JobResult, SwarmNode
from openclaw_compose.host.preflight import SWARM_ADDRESS, port_problem

PREFLIGHT_LABEL = "io.openclaw-compose.preflight"
"""On the probe jobs (not the stack's label: they are not the stack's services)."""
MARKER = "openclaw-compose-busy "
BIND_SCRIPT = """
const net = require("net");
const busy = [];
const bind = (port) => new Promise((done) => {
  const server = net.createServer();
  server.once("error", () => { busy.push(port); done(); });
  server.listen({ port, host: "0.0.0.0", exclusive: true }, () => server.close(done));
});
(async () => {
  for (const port of process.argv.slice(1).map(Number)) await bind(port);
  console.log("openclaw-compose-busy " + JSON.stringify(busy));
})();
"""
"""Runs with the gateway image's own ``node``: nothing else is known to be on a node."""


def node_problems(
    spec: Spec,
    plan: PortPlan,
    engine: Engine,
    placed: Mapping[str, SwarmNode],
    *,
    skip: Collection[str],
    images: Mapping[str, str],
    timeout: float,
) -> list[Problem]:
    """Run the probe job on every node of ``placed`` for its profiles except ``skip`` (checked
    already, or already running there); ``images``: the reference each image is pulled by."""
    groups: dict[tuple[str, str], list[Footprint]] = {}
    for fp in plan.footprints:
        node = placed.get(fp.profile)
        if node is not None and fp.profile not in skip:
            image = spec.profiles[fp.profile].image_ref(spec)
            groups.setdefault((node.id, images.get(image, image)), []).append(fp)
    nodes = {node.id: node for node in placed.values()}

    def probe(group: tuple[tuple[str, str], list[Footprint]]) -> list[Problem]:
        (node_id, image), footprints = group
        return _probe(spec, engine, nodes[node_id], image, footprints, timeout=timeout)

    with ThreadPoolExecutor(max_workers=max(len(groups), 1)) as pool:  # pulls in parallel
        return [problem for problems in pool.map(probe, groups.items()) for problem in problems]


def _probe(
    spec: Spec,
    engine: Engine,
    node: SwarmNode,
    image: str,
    footprints: Sequence[Footprint],
    *,
    timeout: float,
) -> list[Problem]:
    browser = spec.swarm.publish_browser_ports
    owner = {
        port: fp
        for fp in footprints
        for low, high in fp.published(browser=browser)
        for port in range(low, high + 1)
    }
    job = Job(
        name=f"{spec.project[:40]}-preflight-{os.urandom(4).hex()}",  # 63 at most
        image=image,
        command=["node", "-e", BIND_SCRIPT, *map(str, sorted(owner))],
        node_id=node.id,
        labels={PREFLIGHT_LABEL: spec.project},
    )
    result = engine.swarm.run_job(job, timeout)
    where = f"node {node.hostname} ({node.address})"
    lines = [line for line in result.output.splitlines() if line.startswith(MARKER)]
    if result.state != "complete" or not lines:
        return [_cannot_run(spec, node, image, footprints, result)]
    busy = sorted(json.loads(lines[-1].removeprefix(MARKER)))
    by_profile: dict[str, list[int]] = {}
    for port in busy:
        by_profile.setdefault(owner[port].profile, []).append(port)
    holder = f"a process or a container on {where}"
    return [
        port_problem(profile, holder, ports, SWARM_ADDRESS, owner[ports[0]].node)
        for profile, ports in by_profile.items()
    ]


def _cannot_run(
    spec: Spec,
    node: SwarmNode,
    image: str,
    footprints: Sequence[Footprint],
    result: JobResult,
) -> Problem:
    profiles = tuple(fp.profile for fp in footprints)
    where = f"node {node.hostname} ({node.address})"
    detail = f"{result.state}: {result.error}" if result.error else result.state
    if spec.registry is None:
        how = (
            f"without 'registry:' every node needs the image itself: set 'registry: HOST:PORT' "
            f"in the profiles file (deploy then pushes it there), or load it on that node: "
            f"'docker save {image} | ssh {node.hostname} docker load'"
        )
    else:
        how = (
            f"the node pulls it from registry {spec.registry}: that node's engine must reach it "
            f"(and trust it: 'insecure-registries' in its daemon.json for plain HTTP)"
        )
    return Problem(
        CheckCode.NODE_IMAGE,
        "error",
        profiles,
        f"profiles {', '.join(map(repr, profiles))}: {where} cannot run image {image} "
        f"({detail}); {how}",
        nodes=tuple(dict.fromkeys(fp.node for fp in footprints)),
    )
