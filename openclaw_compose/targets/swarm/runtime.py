"""Running a stack on Docker Swarm: deploy, undeploy, status, as :mod:`.lifecycle` does for
Compose (and through the same checks, preflight, writer and readiness probe).

``deploy``: the checks for the swarm target; every ``node:`` resolved against the real swarm
(:mod:`.placement`); the host preflight for the profiles placed on this node (the others'
nodes cannot be probed from here); ``generate --target swarm``; each gateway's token secret
created from ``.env`` through the API; ``docker stack deploy``; then every ``/startupz``.
Nothing is written or deployed when any of the first three finds an error.

Secrets cannot change in a swarm. Each carries a digest of its value as a label (keyed by the
profile's token, so it tells nothing about a secret), so a value changed in ``.env`` is noticed:
replaced when no service uses the secret, else refused with what to do. Seeds are swarm configs
named after their content (:mod:`.render_swarm`), so a changed
seed is a new config, and configs no longer referenced are removed after deploying.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path

from openclaw_compose.core.checks import Report
from openclaw_compose.core.contract import (
    PROFILE_LABEL,
    STACK_FILE,
    profile_secrets,
    seed_text,
    token_ref,
)
from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.project import CheckedSpec, generate
from openclaw_compose.core.secretstore import keyed_digest, stored_values
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine.client import STACK_LABEL, Engine, SwarmNode, SwarmState, TaskState
from openclaw_compose.errors import DockerError, NotReadyError
from openclaw_compose.runtime.preflight import taken_stack_ports
from openclaw_compose.runtime.probes import PROBES, probe, wait_started
from openclaw_compose.targets.compose.runtime import (
    GatewayStatus,
    ProgressFn,
    require_image,
    require_secret_files,
    secrets_report,
)
from openclaw_compose.targets.swarm.placement import resolve_nodes
from openclaw_compose.targets.swarm.render import seed_config_name, swarm_secret

DIGEST_LABEL = "io.openclaw-compose.value-digest"
"""On each secret: notices a value changed in .env (HMAC-SHA256 keyed by the profile's token)."""
LOCAL_HOST = "127.0.0.1"


def require_manager(engine: Engine) -> SwarmState:
    swarm = engine.swarm()
    if not swarm.manager:
        raise DockerError(
            f"this Docker engine is not a swarm manager (swarm: {swarm.state}); run this on a "
            "manager, or make this host a one-node swarm with 'docker swarm init'"
        )
    return swarm


def placement_report(
    checked: CheckedSpec, engine: Engine
) -> tuple[Report, dict[str, SwarmNode], SwarmState]:
    """The checks, the placement and the preflight of this node: what ``deploy`` refuses on."""
    spec, plan = checked.loaded.spec, checked.plan
    swarm = require_manager(engine)
    placed, problems = resolve_nodes(plan, engine.swarm_nodes())
    here = [name for name, node in placed.items() if node.id == swarm.node_id]
    problems += taken_stack_ports(spec, plan, engine, here)
    return Report(checked.report.problems + tuple(problems)), placed, swarm


def deploy(
    checked: CheckedSpec,
    directory: Path,
    engine: Engine,
    *,
    timeout: float,
    progress: ProgressFn,
    force: bool = False,
) -> list[GatewayStatus]:
    spec = checked.loaded.spec
    require_image(spec, engine)
    require_secret_files(spec, engine)
    report, placed, swarm = placement_report(checked, engine)
    secrets_report(checked, directory, report).fail_unless_ok()
    generate(checked, directory, force=force)
    _stack_secrets(spec, directory, engine, progress)
    progress(f"deploying stack {spec.project!r}: {len(checked.plan.footprints)} gateway(s)")
    output = engine.stack_deploy(directory, STACK_FILE, spec.project)
    for line in output.splitlines():
        progress(f"docker stack deploy: {line}")
    _remove_unused(spec, engine)
    urls = {name: _url(node, swarm, checked.plan, name) for name, node in placed.items()}
    progress(f"waiting up to {timeout:.0f} s for /startupz of {', '.join(urls)}")
    start = time.monotonic()
    _wait_until(lambda: _replaced(spec, engine), timeout)  # else wait_started says who
    failed = wait_started(
        urls,
        timeout - (time.monotonic() - start),
        lambda profile, seconds: progress(f"{profile} ready in {seconds:.1f} s"),
    )
    if failed:
        raise NotReadyError(
            f"not ready after {timeout:.0f} s: {', '.join(failed)}. The stack keeps running; "
            "see 'openclaw-compose status --target swarm', 'docker service ps "
            f"{spec.project}_PROFILE --no-trunc' and 'docker service logs {spec.project}_PROFILE'"
            ".\n" + _why(spec, engine, failed)
        )
    return status(spec, checked.plan, engine)


def _stack_secrets(spec: Spec, directory: Path, engine: Engine, progress: ProgressFn) -> None:
    """Every profile's token and secrets as swarm secrets, from their values in ``.env``."""
    values = stored_values(directory)
    existing = engine.stack_secrets(spec.project)
    services = engine.stack_services(spec.project)
    for profile_name, profile in spec.profiles.items():
        refs = profile_secrets(profile_name, profile)
        key = values[refs[0].variable]
        for ref in refs:
            name = swarm_secret(spec.project, ref)
            value = values[ref.variable]
            digest = keyed_digest(key, value)
            if name in existing:
                if existing[name].get(DIGEST_LABEL) == digest:
                    continue
                if f"{spec.project}_{profile_name}" in services:
                    raise DockerError(
                        f"{ref.name} of profile {profile_name!r} in {directory / ENV_FILE} "
                        f"({ref.variable}) is not the value in swarm secret {name!r}, which its "
                        "running service uses, and swarm secrets cannot change: run "
                        "'openclaw-compose undeploy' first (volumes are kept), then deploy again"
                    )
                engine.remove_secret(name)
            labels = {STACK_LABEL: spec.project, PROFILE_LABEL: profile_name, DIGEST_LABEL: digest}
            engine.create_secret(name, value, labels)
            progress(f"created swarm secret {name} from {ENV_FILE} ({ref.variable})")


def _remove_unused(spec: Spec, engine: Engine) -> None:
    """After deploying: secrets of removed profiles (their services are pruned), and seeds of
    earlier deploys (configs are named after their content)."""
    secrets = {
        swarm_secret(spec.project, ref)
        for name, profile in spec.profiles.items()
        for ref in profile_secrets(name, profile)
    }
    for name in set(engine.stack_secrets(spec.project)) - secrets:
        with suppress(DockerError):  # still held by a task shutting down: goes with the stack
            engine.remove_secret(name)
    seeds = {
        seed_config_name(spec.project, name, seed_text(profile))
        for name, profile in spec.profiles.items()
    }
    for name in set(engine.stack_configs(spec.project)) - seeds:
        with suppress(DockerError):
            engine.remove_config(name)


STARTED = frozenset({"starting", "running"})


def current_tasks(tasks: Sequence[TaskState]) -> dict[str, TaskState]:
    """The newest task of each service that is meant to run (else its newest task)."""
    current: dict[str, TaskState] = {}
    for task in tasks:
        known = current.get(task.service)
        if known is None or task.desired == "running" or known.desired != "running":
            current[task.service] = task
    return current


def _replaced(spec: Spec, engine: Engine) -> bool:
    """Every service's current task started and no task it replaces still running: until
    then, a probe could be answered by the gateway of the previous deploy."""
    tasks = engine.stack_tasks(spec.project)
    current = current_tasks(tasks)
    services = [f"{spec.project}_{profile}" for profile in spec.profiles]
    return all(
        service in current and current[service].state in STARTED for service in services
    ) and not any(task.desired != "running" and task.state in STARTED for task in tasks)


def _url(node: SwarmNode | None, swarm: SwarmState, plan: PortPlan, profile: str) -> str:
    """Published on every address of its node: loopback here, the node's address elsewhere."""
    host = LOCAL_HOST if node is None or node.id == swarm.node_id else node.address
    base = next(fp.base for fp in plan.footprints if fp.profile == profile)
    return f"http://{host}:{base}"


def _why(spec: Spec, engine: Engine, profiles: Sequence[str]) -> str:
    """Each task's state, the last error of the service's tasks, this node's last log lines."""
    tasks = engine.stack_tasks(spec.project)
    current = current_tasks(tasks)
    containers = engine.stack_containers(spec.project)
    lines = []
    for profile in profiles:
        service = f"{spec.project}_{profile}"
        lines.append(f"--- {profile}: task {_task_state(current.get(service))}")
        errors = [task.error for task in tasks if task.service == service and task.error]
        if errors:
            lines.append(f"last failed task: {errors[-1]}")
        container = containers.get(profile)
        if container is not None:
            lines.append(engine.logs(container.name, tail=20).rstrip())
    return "\n".join(lines)


def _task_state(task: TaskState | None) -> str:
    if task is None:
        return "missing"
    return task.state + (f": {task.error}" if task.error else "")


def status(spec: Spec, plan: PortPlan, engine: Engine) -> list[GatewayStatus]:
    swarm = require_manager(engine)
    nodes = {node.id: node for node in engine.swarm_nodes()}
    tasks = current_tasks(engine.stack_tasks(spec.project))
    containers = engine.stack_containers(spec.project)
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
                token=f"secret {swarm_secret(spec.project, token_ref(spec, fp.profile))}",
                node=node.hostname if node else None,
            )
        )
    return result


def undeploy(
    spec: Spec,
    engine: Engine,
    *,
    volumes: bool,
    progress: ProgressFn,
    timeout: float = 120,
) -> None:
    """Remove the stack (services, networks, configs, token secrets) and wait until its
    containers are gone on this node; with ``volumes``, this node's volumes of the stack too."""
    require_manager(engine)
    for line in engine.stack_rm(spec.project).splitlines():
        progress(f"docker stack rm: {line}")
    gone = _wait_until(
        lambda: (
            not engine.stack_containers(spec.project) and not engine.stack_networks(spec.project)
        ),
        timeout,
    )
    if not gone:
        raise DockerError(
            f"containers or networks of stack {spec.project!r} still present after "
            f"{timeout:.0f} s; see 'docker ps -a' and 'docker network ls'"
        )
    for name in engine.stack_secrets(spec.project):
        engine.remove_secret(name)
    if volumes:
        for name in engine.stack_volumes(spec.project):
            engine.remove_volume(name)
            progress(f"removed volume {name}")


def _wait_until(done: Callable[[], bool], timeout: float) -> bool:
    """Poll ``done`` every second; False if it is still not done after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True
