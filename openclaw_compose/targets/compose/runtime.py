"""The compose target's runtime hooks: ``docker compose`` on the generated project, and this
host's containers for state and logs. A profile's trees are reached through this engine
(:mod:`openclaw_compose.host.volumes`), its backup made in its running container."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from openclaw_compose.core.contract import (
    CRASH_LOOP,
    EXEC_ENTRYPOINT,
    EXIT_MIGRATION,
    backup_command,
    backup_file,
    clean_then,
    exit_reason,
)
from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import Footprint, PortPlan, plan_ports
from openclaw_compose.core.spec import Spec, token_variable
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import project_label
from openclaw_compose.engine.records import ContainerState
from openclaw_compose.errors import DockerError, OutputError
from openclaw_compose.host.images import VERSION_LABEL
from openclaw_compose.host.preflight import taken_ports
from openclaw_compose.host.probes import PROBES, connect_host, probe, steadily
from openclaw_compose.host.volumes import (
    empty_trees,
    profile_trees,
    run_on_trees,
    tail_lines,
    write_tree,
)
from openclaw_compose.polling import rounds
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
from openclaw_compose.targets.compose.network import profile_services
from openclaw_compose.targets.compose.plan import container_plan
from openclaw_compose.targets.compose.render import COMPOSE_FILE
from openclaw_compose.targets.liveconfig import apply_live, read_live


def base_url(spec: Spec, fp: Footprint) -> str:
    return f"http://{connect_host(str(spec.publish_address))}:{fp.base}"


def crash_reason(container: ContainerState) -> str | None:
    """Why a gateway's container will not come up: it exited for good, exited with code 78, or
    restarted :data:`CRASH_LOOP` times; None while it may still."""
    exited = container.status != "running" or container.restarts > 0
    if exited and container.exit_code == EXIT_MIGRATION:
        return exit_reason(EXIT_MIGRATION)
    if container.restarts >= CRASH_LOOP:
        return (
            f"crash loop: restarted {container.restarts} times, last exit code "
            f"{container.exit_code}"
        )
    if container.status in ("exited", "dead"):
        return exit_reason(container.exit_code)
    return None


class ComposeRuntime:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def preflight(self, spec: Spec, plan: PortPlan) -> Preflight:
        """Every port the project binds on this host is free (its own containers' excepted)."""
        return Preflight(
            tuple(taken_ports(spec, plan, self._engine)),
            {fp.profile: base_url(spec, fp) for fp in plan.footprints},
        )

    def distribute(self, spec: Spec, plan: PortPlan, progress: ProgressFn) -> Distribution:
        del spec, plan, progress  # this host is the only node, and preflight checked it
        return Distribution()

    def start(self, spec: Spec, directory: Path, progress: ProgressFn) -> None:
        del progress  # compose says nothing
        self._engine.containers.remove_leftovers(spec.project)
        self._engine.compose.run(directory, "up", "--detach", "--remove-orphans")

    def settled(self, spec: Spec, profiles: Sequence[str]) -> bool:
        del spec, profiles  # compose replaces a container before it returns
        return True

    def gateways(self, spec: Spec, plan: PortPlan) -> list[GatewayStatus]:
        containers = self._engine.containers.project_containers(spec.project)
        result = []
        for fp in plan.footprints:
            container = containers.get(fp.profile)
            url = base_url(spec, fp)
            running = container is not None and container.status == "running"
            result.append(
                GatewayStatus(
                    profile=fp.profile,
                    url=url,
                    container=container.name if container else None,
                    state=container.status if container else "missing",
                    health=container.health if container else None,
                    probes={name: probe(url, name) if running else None for name in PROBES},
                    ports=fp.to_json(),
                    token=f"{ENV_FILE}: {token_variable(fp.profile)}",
                    version=container.labels.get(VERSION_LABEL) if container else None,
                )
            )
        return result

    def explain(self, spec: Spec, profiles: Sequence[str]) -> str:
        containers = self._engine.containers.project_containers(spec.project)
        return "\n".join(
            [
                "See 'openclaw-compose status' and 'openclaw-compose logs PROFILE'.",
                *(self._last_logs(containers.get(profile), profile) for profile in profiles),
            ]
        )

    def _last_logs(self, container: ContainerState | None, profile: str) -> str:
        if container is None:
            return f"--- {profile}: no container"
        lines = self._engine.containers.logs(container.name, tail=20).rstrip()
        return f"--- last log lines of {profile} ({container.name}, {container.status}):\n{lines}"

    def stop(self, spec: Spec, directory: Path, *, volumes: bool, progress: ProgressFn) -> str:
        del progress  # compose down prints nothing worth repeating
        if not (directory / COMPOSE_FILE).exists():
            raise OutputError(
                f"{directory / COMPOSE_FILE}: not found; run 'down' where the project was "
                "generated, or pass -o DIR"
            )
        args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
        self._engine.compose.run(directory, *args)
        if not volumes:
            return f"project {spec.project!r} is down; volumes kept"
        leftover = self._engine.containers.volumes(project_label(spec.project))
        if leftover:
            raise DockerError(f"volumes still present after down --volumes: {', '.join(leftover)}")
        return f"project {spec.project!r} is down; volumes deleted"

    def _container(self, spec: Spec, profile: str) -> ContainerState | None:
        return self._engine.containers.project_containers(spec.project).get(profile)

    def backup(self, spec: Spec, profile: str, dest: Path) -> bool:
        """In the running container (``docker exec``), else in a one-shot container of the
        profile's image with its trees mounted."""
        container = self._container(spec, profile)
        archive = backup_file()
        if container is None or container.status != "running":
            trees = profile_trees(spec, profile)
            run_on_trees(
                self._engine,
                trees,
                backup_command(archive),
                get=(archive, dest),
                environment={"OPENCLAW_PROFILE": profile},
            )
            return False
        try:
            code, output = self._engine.containers.exec(
                container.name, clean_then(backup_command(archive))
            )
            if code != 0:
                raise DockerError(
                    f"'openclaw backup create' failed in {container.name} (exit code {code}):\n"
                    + tail_lines(output)
                )
            self._engine.containers.copy_from(container.name, archive, dest)
        finally:
            with suppress(DockerError):
                self._engine.containers.exec(container.name, ["rm", "-f", archive])
        return True

    def trees_empty(self, spec: Spec, profile: str, image: str) -> Mapping[str, bool]:
        return empty_trees(self._engine, profile_trees(spec, profile, image))

    def write_trees(
        self, spec: Spec, profile: str, image: str, archive: Path, members: Mapping[str, str | None]
    ) -> None:
        trees = profile_trees(spec, profile, image)
        write_tree(self._engine, trees, archive, members, replace=True)

    def stop_gateway(self, spec: Spec, directory: Path, profile: str) -> bool:
        container = self._container(spec, profile)
        if container is None or container.status not in ("running", "restarting"):
            return False
        self._engine.compose.run(directory, "stop", profile)
        return True

    def restart_gateway(self, spec: Spec, directory: Path, profile: str) -> None:
        del spec  # compose reads the project from the directory
        self._engine.compose.run(directory, "restart", profile)

    def start_gateway(self, spec: Spec, directory: Path, profile: str) -> None:
        """``up --no-deps PROFILE`` (with its carrier and host link): Compose recreates the
        container when its image (or any setting) changed, stopping the old one first."""
        self._engine.containers.remove_leftovers(spec.project)
        services = profile_services(spec, profile)
        self._engine.compose.run(directory, "up", "--detach", "--no-deps", *services)

    def await_gateway(
        self,
        spec: Spec,
        profile: str,
        timeout: float,
        *,
        steady: int,
        watch: WatchFn | None = None,
    ) -> str | None:
        footprint = plan_ports(spec).footprint(profile)
        url = base_url(spec, footprint)
        answered, status = 0, "missing"
        for _ in rounds(timeout):
            container = self._container(spec, profile)
            if container is None:
                return "its container is gone"
            if reason := crash_reason(container):
                return reason
            answer = probe(url, "startupz")
            answered = answered + 1 if answer == 200 else 0
            status = container.status
            if status == "running" and answered >= steady:
                return None
            if watch is not None:
                watch(f"container {status}, {steadily(answer, answered, steady)}")
        return f"no {steady} /startupz 200 in a row within {timeout:.0f} s (container {status})"

    def running(self, spec: Spec, profile: str) -> str | None:
        container = self._container(spec, profile)
        return container.name if container is not None and container.status == "running" else None

    def local_gateway(self, spec: Spec, profile: str) -> str | None:
        """Every gateway runs on this host: :meth:`running`."""
        return self.running(spec, profile)

    def logs(
        self,
        spec: Spec,
        directory: Path,
        profiles: Sequence[str],
        options: LogOptions,
        line: LineFn,
    ) -> int:
        """``docker compose logs`` of the project in ``directory``."""
        del spec  # compose reads the project from the directory
        return self._engine.compose.stream(directory, "logs", *options.args(), *profiles, line=line)

    def run_cli(
        self, spec: Spec, directory: Path, profile: str, args: Sequence[str], *, tty: bool
    ) -> int:
        """``docker compose exec`` (``-T`` without a terminal) in the profile's container."""
        del spec  # compose reads the project from the directory
        command = ["exec", *([] if tty else ["-T"]), profile, *EXEC_ENTRYPOINT, *args]
        return self._engine.compose.passthrough(directory, *command)

    def front_address(self, spec: Spec) -> str | None:
        """The front's own address: it runs on this machine's network."""
        return None if spec.front is None else str(spec.front.address)

    def crashed(self, spec: Spec, profile: str) -> str | None:
        container = self._container(spec, profile)
        return "its container is gone" if container is None else crash_reason(container)

    def doctor(self, spec: Spec, profile: str) -> tuple[int, str]:
        container = self._container(spec, profile)
        if container is None:
            return 1, "no container"
        return self._engine.containers.exec(container.name, ["openclaw", "doctor", "--json"])

    def last_logs(self, spec: Spec, profile: str) -> str:
        container = self._container(spec, profile)
        if container is None:
            return "(no container)"
        return self._engine.containers.logs(container.name, tail=20).rstrip()

    def read_config(self, spec: Spec, profile: str) -> LiveConfig | None:
        container = self._container(spec, profile)
        if container is None or container.status != "running":
            return None
        return read_live(self._engine, container.name)

    def apply_config(
        self, spec: Spec, profile: str, patch: Mapping[str, Any], applied: Mapping[str, Any]
    ) -> str:
        container = self._container(spec, profile)
        if container is None or container.status != "running":
            raise DockerError(f"profile {profile!r}: its gateway does not run")
        return apply_live(self._engine, container.name, profile, patch, applied)

    def plan_containers(
        self, loaded: LoadedSpec, plan: PortPlan, directory: Path
    ) -> Mapping[str, str]:
        """Compose's config hash of each service against its running container's."""
        return container_plan(self._engine, loaded, plan, directory)
