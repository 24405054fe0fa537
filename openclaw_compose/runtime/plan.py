"""``plan``: what ``up`` would do, per profile, without writing or starting anything.

Containers: :meth:`openclaw_compose.targets.base.Runtime.plan_containers`, the target's own
answer (compose: Compose's config hash against the running containers; swarm cannot tell).
Config keys: :func:`openclaw_compose.runtime.converge.planned` (read from running gateways).
Volumes: the named volumes of the project that do not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw_compose.core.contract import MOUNTS
from openclaw_compose.core.converge import ConfigChange
from openclaw_compose.engine import Engine
from openclaw_compose.project import CheckedSpec
from openclaw_compose.runtime.converge import planned


@dataclass(frozen=True)
class ProfilePlan:
    profile: str
    container: str
    """create, recreate, keep, remove, or unknown (a target that cannot tell)."""
    config: ConfigChange | None
    """None: its gateway does not run here (not started, or on another node); a new gateway
    starts from its seed."""
    volumes: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return self.container != "keep" or bool(self.config) or bool(self.volumes)

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "container": self.container,
            "config": self.config.to_json() if self.config is not None else None,
            "volumes": list(self.volumes),
        }

    def describe(self) -> str:
        config = (
            "not read (its gateway does not run here; a new one starts from its seed)"
            if self.config is None
            else self.config.describe()
        )
        volumes = f"; volumes created: {', '.join(self.volumes)}" if self.volumes else ""
        return f"{self.profile}: container {self.container}; config: {config}{volumes}"


def plan(checked: CheckedSpec, directory: Path, engine: Engine) -> list[ProfilePlan]:
    spec = checked.loaded.spec
    runtime = checked.target.runtime(engine)
    configs = {p.profile: p.change for p in planned(spec, runtime)}
    containers = runtime.plan_containers(checked.loaded, checked.plan, directory)
    result = []
    for name, profile in spec.profiles.items():
        volumes = tuple(
            volume
            for role in MOUNTS
            if role not in profile.host_paths()
            and not engine.containers.volume_exists(volume := spec.volume(name, role))
        )
        result.append(ProfilePlan(name, containers.get(name, "create"), configs[name], volumes))
    result += [
        ProfilePlan(name, action, None) for name, action in containers.items() if action == "remove"
    ]
    return result
