"""The swarm target's runtime hooks: deploy, undeploy and status of a stack, driven by the one
pipeline (:mod:`openclaw_compose.runtime.pipeline`) like the compose target.

``deploy``: the checks for the swarm target; every ``node:`` resolved against the real swarm
(:mod:`.placement`); the host preflight for the profiles placed on this node (the others'
nodes cannot be probed from here); ``generate --target swarm``; each gateway's token secret
created from ``.env`` through the API; ``docker stack deploy``; then every ``/startupz``.
Nothing is written or deployed when any of the first three finds an error.

Secrets cannot change in a swarm. Each carries the SHA-256 of its token as a label, so a token
changed in ``.env`` is noticed: replaced when no service uses the secret, else refused with what
to do. Seeds are swarm configs named after their content (:mod:`.render_swarm`), so a changed
seed is a new config, and configs no longer referenced are removed after deploying.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

from openclaw_compose.core.contract import PROFILE_LABEL, seed_text
from openclaw_compose.core.envfile import ENV_FILE, read_env
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.spec import Spec, token_variable
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import STACK_LABEL, stack_label
from openclaw_compose.engine.swarm import SwarmNode, SwarmState, TaskState
from openclaw_compose.errors import DockerError, NotFound
from openclaw_compose.runtime.preflight import taken_stack_ports
from openclaw_compose.runtime.probes import PROBES, probe
from openclaw_compose.targets.base import GatewayStatus, Preflight, ProgressFn
from openclaw_compose.targets.swarm.placement import resolve_nodes
from openclaw_compose.targets.swarm.render import STACK_FILE, seed_config_name, token_secret

TOKEN_DIGEST_LABEL = "io.openclaw-compose.token-sha256"
"""On each token secret: notices a token changed in .env (the digest of 32 random bytes tells
nothing about them)."""
LOCAL_HOST = "127.0.0.1"
TOKEN_FILE_LABEL = "openclaw-compose.token-file"
"""Set by images/gateway/Dockerfile: the entrypoint reads OPENCLAW_GATEWAY_TOKEN_FILE."""
STARTED = frozenset({"starting", "running"})


class SwarmRuntime:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _manager(self) -> SwarmState:
        swarm = self._engine.swarm.state()
        if not swarm.manager:
            raise DockerError(
                f"this Docker engine is not a swarm manager (swarm: {swarm.state}); run this on "
                "a manager, or make this host a one-node swarm with 'docker swarm init'"
            )
        return swarm

    def _require_token_file(self, spec: Spec) -> None:
        """Images built from an older entrypoint would refuse to start (no token): say so."""
        for image in sorted({profile.image(spec) for profile in spec.profiles.values()}):
            labels = self._engine.containers.image_labels(image)
            if labels is not None and TOKEN_FILE_LABEL not in labels:
                raise DockerError(
                    f"image {image} cannot read its token from a swarm secret (it has no "
                    f"{TOKEN_FILE_LABEL} label: built from an older images/gateway/); rebuild "
                    "it with 'make image' ('images/build.sh --browser' for the browser image)"
                )

    def preflight(self, spec: Spec, plan: PortPlan) -> Preflight:
        """The placement on the swarm's real nodes, and this node's ports for the profiles
        placed on it (the other nodes cannot be probed from here)."""
        swarm = self._manager()
        self._require_token_file(spec)
        placed, problems = resolve_nodes(plan, self._engine.swarm.nodes())
        here = [name for name, node in placed.items() if node.id == swarm.node_id]
        problems += taken_stack_ports(spec, plan, self._engine, here)
        urls = {name: _url(node, swarm, plan, name) for name, node in placed.items()}
        return Preflight(tuple(problems), urls)

    def start(self, spec: Spec, directory: Path, progress: ProgressFn) -> None:
        """The token secrets, ``docker stack deploy``, then the configs no seed uses."""
        self._token_secrets(spec, directory, progress)
        output = self._engine.swarm.stack_deploy(directory, STACK_FILE, spec.project)
        for line in output.splitlines():
            progress(f"docker stack deploy: {line}")
        self._remove_unused(spec)

    def _token_secrets(self, spec: Spec, directory: Path, progress: ProgressFn) -> None:
        """One secret per profile, from its token in ``.env``."""
        swarm = self._engine.swarm
        tokens = read_env((directory / ENV_FILE).read_text())
        existing = swarm.stack_secrets(spec.project)
        services = swarm.stack_services(spec.project)
        for profile in spec.profiles:
            name = token_secret(spec.project, profile)
            token = tokens[token_variable(profile)]
            digest = token_digest(token)
            if name in existing:
                if existing[name].get(TOKEN_DIGEST_LABEL) == digest:
                    continue
                if f"{spec.project}_{profile}" in services:
                    raise DockerError(
                        f"the token of profile {profile!r} in {directory / ENV_FILE} "
                        f"({token_variable(profile)}) is not the one in swarm secret {name!r}, "
                        "which its running service uses, and swarm secrets cannot change: run "
                        "'openclaw-compose undeploy' first (volumes are kept), then deploy again"
                    )
                swarm.remove_secret(name)
            labels = {STACK_LABEL: spec.project, PROFILE_LABEL: profile, TOKEN_DIGEST_LABEL: digest}
            swarm.create_secret(name, token, labels)
            progress(f"created swarm secret {name} from {ENV_FILE} ({token_variable(profile)})")

    def _remove_unused(self, spec: Spec) -> None:
        """After deploying: secrets of removed profiles (their services are pruned), and seeds
        of earlier deploys (configs are named after their content)."""
        swarm = self._engine.swarm
        secrets = {token_secret(spec.project, profile) for profile in spec.profiles}
        for name in set(swarm.stack_secrets(spec.project)) - secrets:
            with suppress(DockerError):  # still held by a task shutting down: goes with the stack
                swarm.remove_secret(name)
        seeds = {
            seed_config_name(spec.project, name, seed_text(profile))
            for name, profile in spec.profiles.items()
        }
        for name in set(swarm.stack_configs(spec.project)) - seeds:
            with suppress(DockerError):
                swarm.remove_config(name)

    def settled(self, spec: Spec) -> bool:
        """Every service's current task started and no task it replaces still running: until
        then, a probe could be answered by the gateway of the previous deploy."""
        tasks = self._engine.swarm.stack_tasks(spec.project)
        current = current_tasks(tasks)
        services = [f"{spec.project}_{profile}" for profile in spec.profiles]
        return all(
            service in current and current[service].state in STARTED for service in services
        ) and not any(task.desired != "running" and task.state in STARTED for task in tasks)

    def explain(self, spec: Spec, profiles: Sequence[str]) -> str:
        """Each task's state, the error of its current task, this node's last log lines."""
        tasks = current_tasks(self._engine.swarm.stack_tasks(spec.project))
        containers = self._engine.containers.stack_containers(spec.project)
        lines = [
            "See 'openclaw-compose status --target swarm', 'docker service ps "
            f"{spec.project}_PROFILE --no-trunc' and 'docker service logs {spec.project}_PROFILE'."
        ]
        for profile in profiles:
            lines.append(
                f"--- {profile}: task {_task_state(tasks.get(f'{spec.project}_{profile}'))}"
            )
            container = containers.get(profile)
            if container is not None:
                lines.append(self._engine.containers.logs(container.name, tail=20).rstrip())
        return "\n".join(lines)

    def gateways(self, spec: Spec, plan: PortPlan) -> list[GatewayStatus]:
        swarm = self._manager()
        nodes = {node.id: node for node in self._engine.swarm.nodes()}
        tasks = current_tasks(self._engine.swarm.stack_tasks(spec.project))
        containers = self._engine.containers.stack_containers(spec.project)
        result = []
        for fp in plan.footprints:
            task = tasks.get(f"{spec.project}_{fp.profile}")
            node = nodes.get(task.node_id) if task else None
            url = _url(node, swarm, plan, fp.profile)
            running = task is not None and task.state in STARTED
            container = containers.get(fp.profile) if node and node.id == swarm.node_id else None
            result.append(
                GatewayStatus(
                    profile=fp.profile,
                    url=url,
                    container=container.name if container else None,
                    state=_task_state(task),
                    health=container.health if container else None,
                    probes={name: probe(url, name) if running else None for name in PROBES},
                    ports=fp.to_json(),
                    token=f"secret {token_secret(spec.project, fp.profile)}",
                    node=node.hostname if node else None,
                )
            )
        return result

    def stop(self, spec: Spec, directory: Path, *, volumes: bool, progress: ProgressFn) -> str:
        """Remove the stack (services, networks, configs, token secrets) and wait until its
        containers are gone on this node; with ``volumes``, this node's volumes of the stack."""
        del directory  # a stack is removed by name
        self._manager()
        swarm, containers = self._engine.swarm, self._engine.containers
        for line in swarm.stack_rm(spec.project).splitlines():
            progress(f"docker stack rm: {line}")
        label = stack_label(spec.project)
        timeout = 120
        if not _wait_until(
            lambda: (
                not containers.stack_containers(spec.project) and not containers.networks(label)
            ),
            timeout,
        ):
            raise DockerError(
                f"containers or networks of stack {spec.project!r} still present after "
                f"{timeout} s; see 'docker ps -a' and 'docker network ls'"
            )
        for name in swarm.stack_secrets(spec.project):
            with suppress(NotFound):  # removed meanwhile
                swarm.remove_secret(name)
        if not volumes:
            return f"stack {spec.project!r} is removed; volumes kept"
        for name in containers.volumes(label):
            containers.remove_volume(name)
            progress(f"removed volume {name}")
        return f"stack {spec.project!r} is removed; its volumes on this node deleted"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_tasks(tasks: Sequence[TaskState]) -> dict[str, TaskState]:
    """The newest task of each service that is meant to run (else its newest task)."""
    current: dict[str, TaskState] = {}
    for task in tasks:
        known = current.get(task.service)
        if known is None or task.desired == "running" or known.desired != "running":
            current[task.service] = task
    return current


def _url(node: SwarmNode | None, swarm: SwarmState, plan: PortPlan, profile: str) -> str:
    """Published on every address of its node: loopback here, the node's address elsewhere."""
    host = LOCAL_HOST if node is None or node.id == swarm.node_id else node.address
    base = next(fp.base for fp in plan.footprints if fp.profile == profile)
    return f"http://{host}:{base}"


def _task_state(task: TaskState | None) -> str:
    if task is None:
        return "missing"
    return task.state + (f": {task.error}" if task.error else "")


def _wait_until(done: Callable[[], bool], timeout: float) -> bool:
    """Poll ``done`` every second; False if it is still not done after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True
