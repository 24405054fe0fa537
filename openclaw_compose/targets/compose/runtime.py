"""The compose target's runtime hooks: ``docker compose`` on the generated project, and this
host's containers for state and logs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.spec import Spec, token_variable
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import ContainerState, project_label
from openclaw_compose.errors import DockerError, OutputError
from openclaw_compose.runtime.images import VERSION_LABEL
from openclaw_compose.runtime.preflight import taken_ports
from openclaw_compose.runtime.probes import PROBES, connect_host, probe
from openclaw_compose.targets.base import Distribution, GatewayStatus, Preflight, ProgressFn
from openclaw_compose.targets.compose.render import COMPOSE_FILE


def base_url(spec: Spec, fp: Footprint) -> str:
    return f"http://{connect_host(str(spec.publish_address))}:{fp.base}"


def dashboard_url(base: str, token: str) -> str:
    """The Control UI with the token in the URL fragment, which the browser never sends to the
    server and the UI reads to sign in: the URL is a credential."""
    return f"{base}/#token={token}"


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
        del spec, progress  # compose reads the project from the directory and says nothing
        self._engine.compose.run(directory, "up", "--detach", "--remove-orphans")

    def settled(self, spec: Spec) -> bool:
        del spec  # compose replaces a container before it returns
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
