"""``plan``: what ``up`` would do, per profile, without writing or starting anything.

Containers: the project ``up`` would write is rendered into a private temporary directory (the
``.env`` as the writer would make it: stored tokens kept, digests recomputed) and Compose
computes each service's config hash (``docker compose config --hash``), compared with the
``com.docker.compose.config-hash`` label of the running container: equal is kept, different is
recreated, none is created; a container of the project whose profile is gone is removed.
Config keys: :func:`openclaw_compose.runtime.converge.planned` (read from running gateways).
Volumes: the named volumes of the project that do not exist yet.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw_compose.core.contract import MOUNTS
from openclaw_compose.core.converge import ConfigChange
from openclaw_compose.core.envfile import ENV_FILE, decode_env, merge_tokens
from openclaw_compose.core.secretstore import with_digests
from openclaw_compose.engine import Engine
from openclaw_compose.project import CheckedSpec
from openclaw_compose.runtime.converge import planned

HASH_LABEL = "com.docker.compose.config-hash"


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
    if checked.target.name == "compose":
        containers = _compose_containers(checked, directory, engine)
    else:
        containers = dict.fromkeys(spec.profiles, "unknown")
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


def _compose_containers(checked: CheckedSpec, directory: Path, engine: Engine) -> dict[str, str]:
    spec = checked.loaded.spec
    running = engine.containers.project_containers(spec.project)
    if not directory.is_dir():
        gone = [name for name in running if name not in spec.profiles]
        return dict.fromkeys(spec.profiles, "create") | dict.fromkeys(gone, "remove")
    project = checked.target.render(checked.loaded, checked.plan, directory)
    env_path = directory / ENV_FILE
    before = env_path.read_bytes() if env_path.is_file() else None
    env = with_digests(
        decode_env(merge_tokens(before, project.token_variables, env_path), env_path),
        project.digests,
    )
    with tempfile.TemporaryDirectory(prefix="openclaw-compose-plan-") as tmp:
        document = Path(tmp) / checked.target.document
        document.write_text(project.files[checked.target.document], encoding="utf-8")
        (Path(tmp) / ENV_FILE).write_text(env, encoding="utf-8")
        output = engine.compose.run(
            directory,
            "-f",
            str(document),
            "--env-file",
            str(Path(tmp) / ENV_FILE),
            "config",
            "--hash",
            "*",
        )
    hashes = dict(line.split(maxsplit=1) for line in output.splitlines() if " " in line)
    actions = {
        name: "create"
        if name not in running
        else "keep"
        if running[name].labels.get(HASH_LABEL) == hashes.get(name, "").strip()
        else "recreate"
        for name in spec.profiles
    }
    return actions | {name: "remove" for name in running if name not in spec.profiles}
