"""A running gateway's config, read and patched in its container through OpenClaw's own CLI
(``openclaw config patch``), for every target whose gateway's container this engine reaches.

The patch goes through the image's entrypoint (``--exec``), so the CLI has the secrets the
gateway has and resolves ``${NAME}`` references as it does; the file keeps the references.
OpenClaw validates the whole result before it writes, and the running gateway, which watches
its config file, applies it (hot, or by restarting itself where a key needs it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from openclaw_compose.core.contract import (
    APPLIED_PATH,
    CONFIG_PATH,
    CONTAINER_UID,
    EXEC_ENTRYPOINT,
    PATCH_PATH,
    SEED_TARGET,
)
from openclaw_compose.engine import Engine
from openclaw_compose.errors import DockerError
from openclaw_compose.host.volumes import tail_lines
from openclaw_compose.targets.base import LiveConfig


def read_live(engine: Engine, container: str) -> LiveConfig:
    """The config and the record of what was applied, from a running container; without a
    record (a gateway no ``up`` of this version converged yet), the seed mounted in the
    container, which its config was made from."""
    config = _read(engine, container, CONFIG_PATH)
    record = _read(engine, container, APPLIED_PATH)
    if record:
        return LiveConfig(config, record)
    return LiveConfig(config, _read(engine, container, SEED_TARGET), recorded=False)


def _read(engine: Engine, container: str, path: str) -> str | None:
    code, output = engine.containers.exec(container, ["cat", path])
    return output if code == 0 else None


def apply_live(
    engine: Engine,
    container: str,
    profile: str,
    patch: Mapping[str, Any],
    applied: Mapping[str, Any],
) -> str:
    """``openclaw config patch --file`` of ``patch`` (skipped when empty), then the record of
    ``applied``; the patch's output. Raises when OpenClaw refuses the patch (nothing written)."""
    containers, output = engine.containers, ""
    if patch:
        containers.put_file(container, PATCH_PATH, json.dumps(patch).encode(), owner=CONTAINER_UID)
        command = [*EXEC_ENTRYPOINT, "config", "patch", "--file", PATCH_PATH]
        code, output = containers.exec(container, command)
        containers.exec(container, ["rm", "-f", PATCH_PATH])
        if code != 0:
            raise DockerError(
                f"'openclaw config patch' refused the config of profile {profile!r} (exit code "
                f"{code}); its config is unchanged:\n" + tail_lines(output)
            )
    record = json.dumps(applied, indent=2) + "\n"
    containers.put_file(container, APPLIED_PATH, record.encode(), owner=CONTAINER_UID)
    return output
