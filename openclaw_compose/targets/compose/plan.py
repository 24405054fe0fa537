"""What ``up`` would do to each gateway's container, as Compose itself tells it.

The project ``up`` would write is rendered into a private temporary directory (the ``.env`` as
the writer would make it: stored tokens kept, digests recomputed) and Compose computes each
service's config hash (``docker compose config --hash``), compared with the
``com.docker.compose.config-hash`` label of the running container: equal is kept, different is
recreated, none is created; a container of the project whose profile is gone is removed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from openclaw_compose.core.envfile import ENV_FILE, decode_env, merge_tokens
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.secretstore import with_digests
from openclaw_compose.engine import Engine
from openclaw_compose.targets.compose.render import COMPOSE_FILE, render_project

HASH_LABEL = "com.docker.compose.config-hash"


def container_plan(
    engine: Engine, loaded: LoadedSpec, plan: PortPlan, directory: Path
) -> dict[str, str]:
    """Profile -> create, recreate, keep or remove, for the project in ``directory``."""
    spec = loaded.spec
    running = engine.containers.project_containers(spec.project)
    if not directory.is_dir():
        gone = [name for name in running if name not in spec.profiles]
        return dict.fromkeys(spec.profiles, "create") | dict.fromkeys(gone, "remove")
    project = render_project(loaded, plan, directory)
    env_path = directory / ENV_FILE
    before = env_path.read_bytes() if env_path.is_file() else None
    env = with_digests(
        decode_env(merge_tokens(before, project.token_variables, env_path), env_path),
        project.digests,
    )
    with tempfile.TemporaryDirectory(prefix="openclaw-compose-plan-") as tmp:
        document = Path(tmp) / COMPOSE_FILE
        document.write_text(project.files[COMPOSE_FILE], encoding="utf-8")
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
