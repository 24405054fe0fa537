"""Docker Swarm: the node's swarm state, nodes, services, tasks, secrets and configs (SDK), and
``docker stack deploy`` / ``rm`` (CLI: its loader turns stack files into services, which the SDK
has no equivalent for)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import docker.types

from openclaw_compose.engine.client import Client, run_docker, stream_docker
from openclaw_compose.engine.containers import STACK_LABEL, stack_label
from openclaw_compose.engine.records import (
    Job,
    JobMount,
    JobResult,
    ServicePort,
    ServiceState,
    SwarmNode,
    SwarmState,
    TaskState,
)
from openclaw_compose.errors import Refused
from openclaw_compose.polling import rounds, wait_until

JOB_DONE = frozenset({"complete", "failed", "rejected", "shutdown", "orphaned", "remove"})


class Swarm:
    """The swarm as this engine sees it (a manager sees all of it)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def state(self) -> SwarmState:
        info = self._client.call(self._client.sdk.info).get("Swarm") or {}
        return SwarmState(
            state=info.get("LocalNodeState") or "inactive",
            node_id=info.get("NodeID") or "",
            manager=bool(info.get("ControlAvailable")),
        )

    def nodes(self) -> list[SwarmNode]:
        nodes = self._client.call(self._client.sdk.nodes.list)
        return [_swarm_node(node.attrs) for node in nodes]

    def stack_services(self, stack: str) -> dict[str, ServiceState]:
        """The stack's services by name."""
        services = self._client.call(
            lambda: self._client.sdk.services.list(filters={"label": stack_label(stack)})
        )
        return {service.name: _service_state(service.attrs) for service in services}

    def stack_tasks(self, stack: str) -> list[TaskState]:
        """Every task of the stack's services (old ones included), oldest first."""
        tasks = self._client.call(
            lambda: self._client.sdk.api.tasks(filters={"label": stack_label(stack)})
        )
        services = {s.id: name for name, s in self.stack_services(stack).items()}
        return [
            TaskState(
                service=services[task["ServiceID"]],
                state=task.get("Status", {}).get("State", "unknown"),
                desired=task.get("DesiredState", "unknown"),
                error=task.get("Status", {}).get("Err") or None,
                node_id=task.get("NodeID", ""),
                container=_task_container(services[task["ServiceID"]], task),
                image=task.get("Spec", {}).get("ContainerSpec", {}).get("Image", ""),
                exit_code=(task.get("Status", {}).get("ContainerStatus") or {}).get("ExitCode"),
            )
            for task in sorted(tasks, key=lambda task: str(task.get("CreatedAt", "")))
            if task.get("ServiceID") in services
        ]

    def service_ports(self) -> list[ServicePort]:
        """Ports published by every swarm service (none when this engine is no manager, also
        when it stopped being one while asked: on a shared engine another client may leave the
        swarm at any time)."""
        if not self.state().manager:
            return []
        try:
            services = self._client.call(self._client.sdk.services.list)
        except Refused:
            if self.state().manager:
                raise
            return []  # the engine left the swarm since it was asked (another client did)
        return [
            ServicePort(
                port=port["PublishedPort"],
                mode=port.get("PublishMode", "ingress"),
                service=service.name,
                stack=(service.attrs["Spec"].get("Labels") or {}).get(STACK_LABEL),
            )
            for service in services
            for port in (service.attrs.get("Endpoint", {}).get("Ports") or [])
            if port.get("PublishedPort")
        ]

    def run_job(self, job: Job, timeout: float) -> JobResult:
        """Run ``job`` once as a one-task service that is never restarted; wait for it, read
        its output, remove it (and, on this engine's node, wait until its container is gone:
        it may hold a volume that is deleted next). How the manager looks at another node's
        ports and files: the task runs there.

        Not a swarm ``replicated-job``: the engine leaves a finished job's containers behind
        when the job is removed (seen here for over a minute), and with them the volumes they
        mounted; a replicated service's are removed with it."""
        api = self._client.sdk.api
        template = docker.types.TaskTemplate(
            docker.types.ContainerSpec(
                job.image,
                command=list(job.command),
                user=job.user,
                mounts=[_mount(mount) for mount in job.mounts],
                secrets=[self._secret_reference(n, f, job.user) for n, f in job.secrets.items()],
            ),
            restart_policy=docker.types.RestartPolicy(condition="none"),
            placement=docker.types.Placement(constraints=[f"node.id == {job.node_id}"]),
            networks=[{"Target": "host"}],
        )
        created = self._client.call(
            lambda: api.create_service(
                template,
                name=job.name,
                labels=dict(job.labels),
                mode=docker.types.ServiceMode("replicated", replicas=1),
            )
        )
        service = created["ID"]
        try:
            task: dict[str, Any] = {}
            for _ in rounds(timeout, interval=0.5):
                tasks = self._client.call(lambda: api.tasks(filters={"service": service}))
                task = tasks[0] if tasks else {}
                if task.get("Status", {}).get("State") in JOB_DONE:
                    break
            else:
                return JobResult("timeout", f"not done after {timeout:.0f} s", "")
            status = task["Status"]
            logs = self._client.call(
                lambda: b"".join(api.service_logs(service, stdout=True, stderr=True))
            )
            return JobResult(status["State"], status.get("Err"), logs.decode(errors="replace"))
        finally:
            self._client.call(lambda: api.remove_service(service))
            self._wait_removed(service)

    def _wait_removed(self, service: str, timeout: float = 30) -> None:
        """Until no container of ``service`` is left on this engine's node. The API's list, not
        the SDK's: that one inspects each container it lists, and a container swarm removes in
        between fails it with 404 (seen on a loaded machine)."""
        label = {"label": f"com.docker.swarm.service.id={service}"}
        wait_until(
            lambda: (
                not self._client.call(
                    lambda: self._client.sdk.api.containers(all=True, filters=label)
                )
            ),
            timeout,
            interval=0.5,
        )

    def _secret_reference(
        self, name: str, filename: str, user: str | None
    ) -> docker.types.SecretReference:
        uid, _, gid = (user or "0").partition(":")
        secret = self._client.call(lambda: self._client.sdk.secrets.get(name))
        return docker.types.SecretReference(
            secret.id, name, filename=filename, uid=uid, gid=gid or uid, mode=0o400
        )

    def scale(self, service: str, replicas: int) -> None:
        """Set a replicated service's number of tasks (0: stop it, keeping its spec)."""
        self._client.call(lambda: self._client.sdk.services.get(service).scale(replicas))

    def remove_service(self, service: str) -> None:
        """``docker service rm``: its tasks are shut down, its secrets and configs released."""
        self._client.call(lambda: self._client.sdk.services.get(service).remove())

    def force_update(self, service: str) -> None:
        """``docker service update --force``: replace the service's tasks, settings unchanged."""
        self._client.call(lambda: self._client.sdk.services.get(service).force_update())

    def service_logs(self, service: str, tail: int = 40) -> str:
        """A service's last log lines, from whichever node its tasks ran on."""
        api = self._client.sdk.api
        data = self._client.call(
            lambda: b"".join(api.service_logs(service, stdout=True, stderr=True, tail=tail))
        )
        return data.decode(errors="replace")

    def stream_logs(self, service: str, *args: str, line: Callable[[str], None]) -> int:
        """``docker service logs ARGS SERVICE`` (``--follow`` too), each line handed to ``line``
        as it comes, after its task's name and node; its exit code."""
        return stream_docker(["service", "logs", *args, service], None, line)

    def stack_secrets(self, stack: str) -> dict[str, dict[str, str]]:
        """The stack's secrets (names and labels; their data cannot be read back)."""
        secrets = self._client.call(
            lambda: self._client.sdk.secrets.list(filters={"label": stack_label(stack)})
        )
        return {s.name: dict(s.attrs["Spec"].get("Labels") or {}) for s in secrets}

    def create_secret(self, name: str, data: str | bytes, labels: Mapping[str, str]) -> None:
        """Through the API: the data is in no file and on no command line."""
        raw = data.encode() if isinstance(data, str) else data
        self._client.call(
            lambda: self._client.sdk.secrets.create(name=name, data=raw, labels=dict(labels))
        )

    def remove_secret(self, name: str) -> None:
        self._client.call(lambda: self._client.sdk.secrets.get(name).remove())

    def stack_configs(self, stack: str) -> list[str]:
        configs = self._client.call(
            lambda: self._client.sdk.configs.list(filters={"label": stack_label(stack)})
        )
        return sorted(config.name for config in configs)

    def remove_config(self, name: str) -> None:
        self._client.call(lambda: self._client.sdk.configs.get(name).remove())

    def stack_deploy(self, directory: Path, stack_file: str, stack: str) -> str:
        """``docker stack deploy``; what it printed (stdout and stderr: warnings are there).

        ``--resolve-image never``: the images are local, and asking a registry would fail with
        a warning; ``--prune`` removes the services of profiles no longer in the file;
        ``--detach=true``: readiness is the gateways' own ``/startupz``, waited for by the caller.
        """
        args = ["stack", "deploy", "--resolve-image", "never", "--prune", "--detach=true"]
        completed = run_docker([*args, "--compose-file", stack_file, stack], cwd=directory)
        return completed.stdout + completed.stderr

    def stack_deploy_part(self, directory: Path, text: str, stack: str) -> str:
        """``docker stack deploy`` of ``text``, a stack file holding some of the stack's
        services, read from standard input in ``directory`` (its relative paths, the seeds',
        are resolved there); without ``--prune``: the stack's services not in it are left
        exactly as they are."""
        args = ["stack", "deploy", "--resolve-image", "never", "--detach=true"]
        completed = run_docker([*args, "--compose-file", "-", stack], cwd=directory, stdin=text)
        return completed.stdout + completed.stderr

    def stack_rm(self, stack: str) -> str:
        """``docker stack rm``, waiting until its tasks are shut down."""
        completed = run_docker(["stack", "rm", "--detach=false", stack], cwd=None)
        return completed.stdout + completed.stderr


def _mount(mount: JobMount) -> docker.types.Mount:
    if mount.source.startswith("/"):
        return docker.types.Mount(mount.target, mount.source, type="bind")
    return docker.types.Mount(mount.target, mount.source, labels=dict(mount.labels) or None)


def _task_container(service: str, task: dict[str, Any]) -> str | None:
    if not (task.get("Status", {}).get("ContainerStatus") or {}).get("ContainerID"):
        return None
    return f"{service}.{task.get('Slot', 1)}.{task['ID']}"


def _service_state(attrs: dict[str, Any]) -> ServiceState:
    update = attrs.get("UpdateStatus") or {}
    return ServiceState(
        id=attrs["ID"],
        name=attrs["Spec"]["Name"],
        image=attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"],
        update_state=update.get("State"),
        update_message=update.get("Message"),
    )


def _swarm_node(attrs: dict[str, Any]) -> SwarmNode:
    spec, status = attrs.get("Spec", {}), attrs.get("Status", {})
    address = status.get("Addr", "")
    if address in ("", "0.0.0.0"):  # some managers report this; their swarm address is right
        address = (attrs.get("ManagerStatus") or {}).get("Addr", "").rpartition(":")[0]
    return SwarmNode(
        id=attrs["ID"],
        hostname=attrs.get("Description", {}).get("Hostname", ""),
        role=spec.get("Role", "worker"),
        labels=dict(spec.get("Labels") or {}),
        state=status.get("State", "unknown"),
        availability=spec.get("Availability", "active"),
        address=address,
    )
