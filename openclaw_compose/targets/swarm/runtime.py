"""The swarm target's runtime hooks: deploy, undeploy and status of a stack, driven by the one
pipeline (:mod:`openclaw_compose.runtime.pipeline`) like the compose target.

``deploy``: the checks for the swarm target; every ``node:`` resolved against the real swarm
(:mod:`.placement`); the ports of the profiles on the engine's own node probed here when this
machine is that node (naming the process that holds one); with ``registry:`` every image pushed
and pinned by digest (:mod:`.images`); on every other node a probe job that binds its profiles'
ports and runs their image there (:mod:`.nodecheck`); ``generate --target swarm``; each
gateway's token secret created from ``.env`` through the API, and so is each of its secrets;
``docker stack deploy``; then every ``/startupz`` on its node's address. Nothing is written or
deployed when any of the checks finds an error.

The CLI may run on a manager or anywhere else (``DOCKER_HOST=tcp://manager:2375``): what it
does on its own machine (probing a port, a URL on 127.0.0.1) it does only when the engine is
on this machine (:attr:`Client.local`), and only for the engine's own node.

Secrets cannot change in a swarm. Each carries a digest of its value as a label (keyed by the
profile's token, so it tells nothing about a secret), so a value changed in ``.env`` is noticed:
replaced when no service uses the secret, else refused with what to do. Seeds are swarm configs
named after their content (:mod:`.render`), so a changed seed is a new config, and configs no
longer referenced are removed after deploying.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from openclaw_compose.core.contract import (
    CRASH_LOOP,
    EXIT_MIGRATION,
    MOUNTS,
    PROFILE_LABEL,
    exit_reason,
    profile_secrets,
    seed_text,
    token_ref,
)
from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.front import FRONT_CONFIG, FRONT_SERVICE
from openclaw_compose.core.frontcerts import SERVER_CERT, SERVER_KEY
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import PortPlan, plan_ports
from openclaw_compose.core.secretstore import keyed_digest, stored_values
from openclaw_compose.core.spec import FrontCertificate, Spec
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import STACK_LABEL, stack_label
from openclaw_compose.engine.records import ServiceState, SwarmNode, SwarmState, TaskState
from openclaw_compose.errors import DockerError, NotFound, Refused, UsageError, plural
from openclaw_compose.host.images import image_version
from openclaw_compose.host.preflight import front_port_taken, taken_stack_ports
from openclaw_compose.host.probes import PROBES, probe, steadily
from openclaw_compose.polling import rounds, wait_until
from openclaw_compose.targets.base import (
    Distribution,
    GatewayStatus,
    LineFn,
    LiveConfig,
    LogOptions,
    Preflight,
    ProgressFn,
    WatchFn,
)
from openclaw_compose.targets.liveconfig import apply_live, read_live
from openclaw_compose.targets.swarm import front
from openclaw_compose.targets.swarm.images import push_images
from openclaw_compose.targets.swarm.nodecheck import node_problems
from openclaw_compose.targets.swarm.placement import resolve_nodes
from openclaw_compose.targets.swarm.render import (
    STACK_FILE,
    seed_config_name,
    stack_part,
    swarm_secret,
)
from openclaw_compose.targets.swarm.trees import NodeTrees

DIGEST_LABEL = "io.openclaw-compose.value-digest"
"""On each secret: notices a value changed in .env (HMAC-SHA256 keyed by the profile's token)."""
LOCAL_HOST = "127.0.0.1"
STARTED = frozenset({"starting", "running"})
FAILED = frozenset({"failed", "rejected"})
ROLLED_BACK = frozenset({"rollback_started", "rollback_paused", "rollback_completed"})
"""A service's ``UpdateStatus.State`` once swarm's update monitor gave up on an update."""
UPDATE_DONE = frozenset({None, "completed"})
"""No update of the service in progress (none ever, or the last one past its monitor)."""
TASK_HEALTH = {"starting": "starting", "running": "healthy"}
"""A swarm task with a healthcheck is ``starting`` until the check passes, then ``running``
(an unhealthy one is replaced): its health, on any node, without asking that node. Its
container runs in both, so the gateway's state is ``running`` in both, as compose shows it."""
NODE_PREFLIGHT_TIMEOUT = 300.0
"""A probe job may first pull the image (850 MB) from the registry."""


class SwarmRuntime:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._trees = NodeTrees(engine)

    def _manager(self) -> SwarmState:
        swarm = self._engine.swarm.state()
        if not swarm.manager:
            raise DockerError(
                f"this Docker engine is not a swarm manager (swarm: {swarm.state}); run this on "
                "a manager, or make this host a one-node swarm with 'docker swarm init'"
            )
        return swarm

    def preflight(self, spec: Spec, plan: PortPlan) -> Preflight:
        """The placement on the swarm's real nodes, and the ports of the profiles on the
        engine's node when this machine is that node (the others: :meth:`distribute`)."""
        swarm = self._manager()
        placed, problems = resolve_nodes(plan, self._engine.swarm.nodes())
        problems += taken_stack_ports(spec, plan, self._engine, self._here(placed, swarm))
        if self._engine.local:  # a manager here: the front's node (the only manager)
            running = self._engine.containers.stack_containers(spec.project)
            problems += front_port_taken(spec, running, swarm=True)
        urls = {name: self._url(node, swarm, plan, name) for name, node in placed.items()}
        return Preflight(tuple(problems), urls)

    def _here(self, placed: Mapping[str, SwarmNode], swarm: SwarmState) -> list[str]:
        """The profiles whose node is this machine: placed on the engine's own node, and the
        engine on this machine."""
        if not self._engine.local:
            return []
        return [name for name, node in placed.items() if node.id == swarm.node_id]

    def distribute(self, spec: Spec, plan: PortPlan, progress: ProgressFn) -> Distribution:
        """With ``registry:``, push every image; then a probe job on every node not checked
        here: its ports free, its image runnable (and pulled)."""
        swarm = self._manager()
        placed, _ = resolve_nodes(plan, self._engine.swarm.nodes())
        images = push_images(spec, self._engine, progress) if spec.registry else {}
        tasks = current_tasks(self._engine.swarm.stack_tasks(spec.project))
        running = {  # a running gateway of this stack holds its own ports
            profile
            for profile in spec.profiles
            if (task := tasks.get(spec.scoped(profile))) and task.state in STARTED
        }
        skip = set(self._here(placed, swarm)) | running
        checked = sorted({placed[p].hostname for p in placed if p not in skip})
        if checked:
            progress(
                f"preflight on {plural(len(checked), 'node')} {', '.join(checked)}: ports and image"
            )
        start = time.monotonic()
        problems = node_problems(
            spec,
            plan,
            self._engine,
            placed,
            skip=skip,
            images=images,
            timeout=NODE_PREFLIGHT_TIMEOUT,
        )
        if checked:
            progress(f"preflight on the nodes done in {time.monotonic() - start:.1f} s")
        return Distribution(tuple(problems), images)

    def start(self, spec: Spec, directory: Path, progress: ProgressFn) -> None:
        """The secrets, ``docker stack deploy``, then the configs no seed uses."""
        self._secrets(spec, directory, progress)
        self._front_tls(spec, directory, progress)
        output = self._engine.swarm.stack_deploy(directory, STACK_FILE, spec.project)
        for line in output.splitlines():
            progress(f"docker stack deploy: {line}")
        self._remove_unused(spec, directory)

    def _front_tls(self, spec: Spec, directory: Path, progress: ProgressFn) -> None:
        """The front's certificate and key as one swarm secret, from their files. A changed
        pair (new names, a certificate of your own renewed) replaces it, and the front's
        service with it, which the deploy that follows creates again: a secret cannot change
        while a service uses it."""
        pem = front_pem(spec, directory)
        if pem is None:
            return
        swarm = self._engine.swarm
        name = front.tls_secret(spec.project)
        digest = hashlib.sha256(pem).hexdigest()
        existing = swarm.stack_secrets(spec.project)
        if name in existing:
            if existing[name].get(DIGEST_LABEL) == digest:
                return
            if spec.scoped(FRONT_SERVICE) in swarm.stack_services(spec.project):
                swarm.remove_service(spec.scoped(FRONT_SERVICE))
                progress("the front's certificate changed: its service is replaced")
            swarm.remove_secret(name)
        swarm.create_secret(name, pem, {STACK_LABEL: spec.project, DIGEST_LABEL: digest})
        progress(f"created swarm secret {name} from the front's certificate and key")

    def _secrets(
        self,
        spec: Spec,
        directory: Path,
        progress: ProgressFn,
        profiles: Sequence[str] | None = None,
    ) -> None:
        """Every profile's (or ``profiles``') token and secrets as swarm secrets, from their
        values in ``.env``."""
        swarm = self._engine.swarm
        values = stored_values(directory)
        existing = swarm.stack_secrets(spec.project)
        services = swarm.stack_services(spec.project)
        for profile_name, profile in spec.profiles.items():
            if profiles is not None and profile_name not in profiles:
                continue
            refs = profile_secrets(profile_name, profile)
            key = values[refs[0].variable]
            for ref in refs:
                name = swarm_secret(spec.project, ref)
                value = values[ref.variable]
                digest = keyed_digest(key, value)
                if name in existing:
                    if existing[name].get(DIGEST_LABEL) == digest:
                        continue
                    if spec.scoped(profile_name) in services:
                        raise DockerError(
                            f"{ref.name} of profile {profile_name!r} in {directory / ENV_FILE} "
                            f"({ref.variable}) is not the value in swarm secret {name!r}, which "
                            "its running service uses, and swarm secrets cannot change: run "
                            "'openclaw-compose undeploy' first (volumes are kept), then deploy "
                            "again"
                        )
                    swarm.remove_secret(name)
                labels = {STACK_LABEL: spec.project, PROFILE_LABEL: profile_name}
                swarm.create_secret(name, value, labels | {DIGEST_LABEL: digest})
                progress(f"created swarm secret {name} from {ENV_FILE} ({ref.variable})")

    def _remove_unused(self, spec: Spec, directory: Path) -> None:
        """After deploying: secrets of removed profiles (their services are pruned), and seeds
        and front configs of earlier deploys (configs are named after their content)."""
        swarm = self._engine.swarm
        secrets = {
            swarm_secret(spec.project, ref)
            for name, profile in spec.profiles.items()
            for ref in profile_secrets(name, profile)
        }
        configs = {
            seed_config_name(spec.project, name, seed_text(spec, name)) for name in spec.profiles
        }
        if spec.front is not None:
            secrets.add(front.tls_secret(spec.project))
            config = (directory / FRONT_CONFIG).read_text()
            configs.add(front.config_name(spec.project, config))
        for name in set(swarm.stack_secrets(spec.project)) - secrets:
            with suppress(Refused):  # still held by a task shutting down: goes with the stack
                swarm.remove_secret(name)
        for name in set(swarm.stack_configs(spec.project)) - configs:
            with suppress(Refused):  # likewise
                swarm.remove_config(name)

    def settled(self, spec: Spec, profiles: Sequence[str]) -> bool:
        """The current task of each profile's service started and no task it replaces still
        running: until then, a probe could be answered by the gateway of the previous deploy.
        The other services (a profile not started, or stopped: scaled to 0) do not count."""
        services = {spec.scoped(profile) for profile in profiles}
        tasks = [t for t in self._engine.swarm.stack_tasks(spec.project) if t.service in services]
        current = current_tasks(tasks)
        return all(
            service in current and current[service].state in STARTED for service in services
        ) and not any(task.desired != "running" and task.state in STARTED for task in tasks)

    def explain(self, spec: Spec, profiles: Sequence[str]) -> str:
        """Each task's state and error, and the service's last log lines, on whichever node
        its task runs (through the manager: ``docker service logs``)."""
        tasks = current_tasks(self._engine.swarm.stack_tasks(spec.project))
        lines = [
            "See 'openclaw-compose status --target swarm', 'docker service ps "
            f"{spec.scoped('PROFILE')} --no-trunc' and 'docker service logs "
            f"{spec.scoped('PROFILE')}'."
        ]
        for profile in profiles:
            lines.append(f"--- {profile}: task {_task_state(tasks.get(spec.scoped(profile)))}")
            lines.append(self.last_logs(spec, profile))
        return "\n".join(lines)

    def gateways(self, spec: Spec, plan: PortPlan) -> list[GatewayStatus]:
        """Every profile from its current task, on whichever node: the node, the task's
        container and state, health from the task state, the probes on the node's address."""
        swarm = self._manager()
        nodes = {node.id: node for node in self._engine.swarm.nodes()}
        tasks = current_tasks(self._engine.swarm.stack_tasks(spec.project))
        result = []
        for fp in plan.footprints:
            task = tasks.get(spec.scoped(fp.profile))
            node = nodes.get(task.node_id) if task else None
            url = self._url(node, swarm, plan, fp.profile)
            running = task is not None and task.state in STARTED
            result.append(
                GatewayStatus(
                    profile=fp.profile,
                    url=url,
                    container=task.container if task else None,
                    state="running" if running else _task_state(task),
                    health=TASK_HEALTH.get(task.state) if task else None,
                    probes={name: probe(url, name) if running else None for name in PROBES},
                    ports=fp.to_json(),
                    token=f"secret {swarm_secret(spec.project, token_ref(spec, fp.profile))}",
                    node=node.hostname if node else None,
                    version=image_version(self._engine, spec.profiles[fp.profile].image_ref(spec)),
                    address=node.address if node else None,
                )
            )
        return result

    def _url(self, node: SwarmNode | None, swarm: SwarmState, plan: PortPlan, profile: str) -> str:
        """Published on every address of its node: its address, or loopback when the node is
        this machine (then its advertised address may be one only the other nodes reach)."""
        local = node is None or (node.id == swarm.node_id and self._engine.local)
        host = LOCAL_HOST if local or node is None else node.address
        base = plan.footprint(profile).base
        return f"http://{host}:{base}"

    def stop(self, spec: Spec, directory: Path, *, volumes: bool, progress: ProgressFn) -> str:
        """Remove the stack (services, networks, configs, token secrets) and wait until its
        containers are gone on the engine's node; with ``volumes``, delete the stack's volumes
        there and name, per node, those kept on the nodes its other gateways last ran on."""
        del directory  # a stack is removed by name
        me = self._manager()
        swarm, containers = self._engine.swarm, self._engine.containers
        nodes = {node.id: node for node in swarm.nodes()}
        placed = {
            service.removeprefix(f"{spec.project}_"): nodes[task.node_id]
            for service, task in current_tasks(swarm.stack_tasks(spec.project)).items()
            if task.node_id in nodes
        }
        for line in swarm.stack_rm(spec.project).splitlines():
            progress(f"docker stack rm: {line}")
        label = stack_label(spec.project)
        timeout = 120
        if not wait_until(
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
        here = nodes[me.node_id]
        for name in containers.volumes(label):
            containers.remove_volume(name)
            progress(f"removed volume {name} on node {here.hostname} ({here.address})")
        kept = _volumes_elsewhere(spec, placed, me.node_id)
        return f"stack {spec.project!r} is removed; its volumes on node {here.hostname} deleted" + (
            "".join(
                f"\nvolumes kept on node {node}: {' '.join(names)} (each node keeps its own: "
                f"remove them there with 'docker volume rm {' '.join(names)}')"
                for node, names in kept.items()
            )
        )

    def backup(self, spec: Spec, profile: str, dest: Path) -> bool:
        self._manager()
        self._trees.backup(spec, profile, dest)
        return self._running(spec, profile)

    def trees_empty(self, spec: Spec, profile: str, image: str) -> Mapping[str, bool]:
        self._manager()
        return self._trees.empty(spec, profile, image)

    def write_trees(
        self, spec: Spec, profile: str, image: str, archive: Path, members: Mapping[str, str | None]
    ) -> None:
        self._trees.write(spec, profile, image, archive, members)

    def doctor(self, spec: Spec, profile: str) -> tuple[int, str]:
        return self._trees.doctor(spec, profile)

    def last_logs(self, spec: Spec, profile: str) -> str:
        with suppress(NotFound):
            return self._engine.swarm.service_logs(spec.scoped(profile), tail=20).rstrip()
        return "(no service)"

    def running(self, spec: Spec, profile: str) -> str | None:
        """Its current task's container while the task runs, on whichever node."""
        task = current_tasks(self._service_tasks(spec, profile)).get(spec.scoped(profile))
        if task is None or task.state not in STARTED:
            return None
        return task.container or spec.scoped(profile)

    def logs(
        self,
        spec: Spec,
        directory: Path,
        profiles: Sequence[str],
        options: LogOptions,
        line: LineFn,
    ) -> int:
        """``docker service logs`` of each profile's service in turn (through the manager, from
        whichever node its tasks ran on); it follows one service at a time."""
        del directory  # a service is named by the stack
        self._manager()
        names = list(profiles or spec.profiles)
        if options.follow and len(names) > 1:
            raise UsageError(
                f"--follow on swarm follows one profile (docker service logs follows one "
                f"service): name one of {', '.join(names)}"
            )
        code = 0
        for name in names:
            code = self._engine.swarm.stream_logs(spec.scoped(name), *options.args(), line=line)
            if code != 0:
                break
        return code

    def run_cli(
        self, spec: Spec, directory: Path, profile: str, args: Sequence[str], *, tty: bool
    ) -> int:
        del spec, directory, args, tty
        raise UsageError(
            f"cli runs in a container of this host (the compose target): on swarm, run 'docker "
            f"exec -it CONTAINER openclaw-compose-entrypoint --exec ...' on the node of "
            f"{profile!r}'s task (see 'openclaw-compose status --target swarm')"
        )

    def local_gateway(self, spec: Spec, profile: str) -> str | None:
        """The running container of the profile's task when it runs on this engine's node (a
        gateway on another node is out of reach: doctor does not audit it, and its config
        converges when it runs here)."""
        container = self._engine.containers.stack_containers(spec.project).get(profile)
        return container.name if container is not None and container.status == "running" else None

    def read_config(self, spec: Spec, profile: str) -> LiveConfig | None:
        container = self.local_gateway(spec, profile)
        return None if container is None else read_live(self._engine, container)

    def apply_config(
        self, spec: Spec, profile: str, patch: Mapping[str, Any], applied: Mapping[str, Any]
    ) -> str:
        container = self.local_gateway(spec, profile)
        if container is None:
            raise DockerError(f"profile {profile!r}: its gateway does not run on this node")
        return apply_live(self._engine, container, profile, patch, applied)

    def front_address(self, spec: Spec) -> str | None:
        """The manager's: this machine when the engine is here (the front publishes on every
        address of the manager, in host mode)."""
        return "127.0.0.1" if spec.front is not None and self._engine.local else None

    def crashed(self, spec: Spec, profile: str) -> str | None:
        """Tasks of its current image that failed :data:`CRASH_LOOP` times (swarm starts a new
        task each time), or one that exited with code 78."""
        image = spec.profiles[profile].image_ref(spec)
        failed = [
            t for t in self._service_tasks(spec, profile) if t.state in FAILED and t.image == image
        ]
        if any(t.exit_code == EXIT_MIGRATION for t in failed):
            return exit_reason(EXIT_MIGRATION)
        if len(failed) >= CRASH_LOOP:
            return f"crash loop: {len(failed)} tasks failed, last exit code {failed[-1].exit_code}"
        return None

    def plan_containers(
        self, loaded: LoadedSpec, plan: PortPlan, directory: Path
    ) -> Mapping[str, str]:
        """Unknown: no command tells ahead of ``docker stack deploy`` which services it updates."""
        del plan, directory
        return dict.fromkeys(loaded.spec.profiles, "unknown")

    def _service_tasks(self, spec: Spec, profile: str) -> list[TaskState]:
        service = spec.scoped(profile)
        return [
            task for task in self._engine.swarm.stack_tasks(spec.project) if task.service == service
        ]

    def _running(self, spec: Spec, profile: str) -> bool:
        return any(task.state in STARTED for task in self._service_tasks(spec, profile))

    def stop_gateway(self, spec: Spec, directory: Path, profile: str) -> bool:
        """Scale its service to 0 (its settings stay) and wait until its task is gone."""
        del directory  # a service is scaled by name
        service = spec.scoped(profile)
        if service not in self._engine.swarm.stack_services(spec.project):
            return False
        running = self._running(spec, profile)
        self._engine.swarm.scale(service, 0)
        timeout = 120
        if not wait_until(lambda: not self._running(spec, profile), timeout):
            raise DockerError(f"service {service} still has a running task after {timeout} s")
        return running

    def restart_gateway(self, spec: Spec, directory: Path, profile: str) -> None:
        """``docker service update --force``: a new task, the service's settings unchanged."""
        del directory  # a service is updated by name
        service = spec.scoped(profile)
        if service not in self._engine.swarm.stack_services(spec.project):
            raise NotFound(f"no service {service}; deploy the stack first")
        self._engine.swarm.force_update(service)

    def start_gateway(self, spec: Spec, directory: Path, profile: str) -> None:
        """``docker stack deploy`` of the written stack cut down to this profile's service and
        what it names (:func:`.render.stack_part`), without ``--prune``: its service is updated
        when its settings changed (swarm's rolling update, ``update_config`` in
        ``stack.yaml``), a service scaled to 0 runs again, and the other profiles' services
        are not touched, whatever the file now says of them (``up PROFILE`` writes the whole
        file, as compose's ``up --no-deps PROFILE`` does)."""
        path = directory / STACK_FILE
        try:
            text = stack_part(path.read_text(encoding="utf-8"), profile)
        except FileNotFoundError:
            raise DockerError(f"no {path}: deploy the stack first") from None
        except KeyError:
            raise DockerError(
                f"{path} has no service {profile!r}: deploy the stack first"
            ) from None
        self._secrets(spec, directory, lambda _: None, profiles=[profile])
        self._engine.swarm.stack_deploy_part(directory, text, spec.project)
        self._remove_unused(spec, directory)

    def await_gateway(
        self,
        spec: Spec,
        profile: str,
        timeout: float,
        *,
        steady: int,
        watch: WatchFn | None = None,
    ) -> str | None:
        """Until swarm's update is complete (past its monitor window), its current task runs the
        spec's image, no earlier task still runs, and the gateway answers on its node's
        address; a roll back by swarm's own update monitor
        (``failure_action: rollback``: the new task failed or never became healthy) ends the
        wait at once."""
        service, expected = spec.scoped(profile), spec.profiles[profile].image_ref(spec)
        plan = plan_ports(spec)
        answered, current = 0, None
        for _ in rounds(timeout):
            record = self._engine.swarm.stack_services(spec.project).get(service)
            if record is None:
                return "its service is gone"
            tasks = self._service_tasks(spec, profile)
            if record.update_state in ROLLED_BACK and record.image != expected:
                return _rolled_back(tasks, expected, record)
            current = current_tasks(tasks).get(service)
            ready = (
                record.update_state in UPDATE_DONE
                and current is not None
                and current.state == "running"
                and current.image == expected
                and not any(t.desired != "running" and t.state in STARTED for t in tasks)
            )
            url = self._task_url(plan, profile, current)
            answer = probe(url, "startupz") if ready else None
            answered = answered + 1 if answer == 200 else 0
            if answered >= steady:
                return None
            if watch is not None:
                updating = record.update_state not in UPDATE_DONE
                waiting = f"update {record.update_state}" if updating else "not ready yet"
                state = steadily(answer, answered, steady) if ready else waiting
                watch(f"task {_task_state(current)}, {state}")
        return (
            f"no {steady} /startupz 200 in a row within {timeout:.0f} s (task "
            f"{_task_state(current)})"
        )

    def _task_url(self, plan: PortPlan, profile: str, task: TaskState | None) -> str:
        """Where the profile's gateway answers: on the node of ``task``."""
        nodes = {node.id: node for node in self._engine.swarm.nodes()}
        node = nodes.get(task.node_id) if task else None
        return self._url(node, self._engine.swarm.state(), plan, profile)


def _rolled_back(tasks: Sequence[TaskState], expected: str, service: ServiceState) -> str:
    """What swarm's roll back says: why the new task failed (its exit code, its error)."""
    failed = [t for t in tasks if t.image == expected and t.state in FAILED]
    last = failed[-1] if failed else None
    why = ""
    if last is not None:
        why = exit_reason(last.exit_code) if last.exit_code else last.error or ""
    message = service.update_message or service.update_state
    return f"swarm rolled the service back to {service.image} ({message})" + (
        f": {why}" if why else ""
    )


def current_tasks(tasks: Sequence[TaskState]) -> dict[str, TaskState]:
    """The newest task of each service that is meant to run (else its newest task)."""
    current: dict[str, TaskState] = {}
    for task in tasks:
        known = current.get(task.service)
        if known is None or task.desired == "running" or known.desired != "running":
            current[task.service] = task
    return current


def _volumes_elsewhere(
    spec: Spec, placed: Mapping[str, SwarmNode], here: str
) -> dict[str, list[str]]:
    """The named volumes of the profiles whose last task ran on another node, by node."""
    kept: dict[str, list[str]] = {}
    for profile, node in sorted(placed.items()):
        if node.id != here and profile in spec.profiles:
            paths = spec.profiles[profile].host_paths()
            kept.setdefault(f"{node.hostname} ({node.address})", []).extend(
                spec.volume(profile, role) for role in MOUNTS if role not in paths
            )
    return kept


def _task_state(task: TaskState | None) -> str:
    if task is None:
        return "missing"
    return task.state + (f": {task.error}" if task.error else "")


def front_pem(spec: Spec, directory: Path) -> bytes | None:
    """The front's certificate (chain) and its key, one PEM as HAProxy loads it; None: no
    TLS. The files were checked (a certificate of your own) or written (the local CA's) just
    before."""
    tls = spec.front.tls if spec.front is not None else "none"
    if tls == "none":
        return None
    if isinstance(tls, FrontCertificate):
        cert, key = tls.cert, tls.key
    else:
        cert, key = directory / SERVER_CERT, directory / SERVER_KEY
    return cert.read_bytes().rstrip(b"\n") + b"\n" + key.read_bytes()
