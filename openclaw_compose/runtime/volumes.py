"""Moving files into a profile's state, config and workspace, wherever they live.

A profile's trees are named volumes (``<project>_<profile>-<role>``) or host directories
(``state_dir`` and the like). Both are reached the same way: a one-shot container of the
profile's own image with the three trees mounted where the gateway sees them, running as the
gateway's user (uid 1000), without network. So files land owned by the user that reads them,
and nothing runs on the host as root over a user's data. Missing named volumes are created
with Compose's labels, so that ``docker compose up`` adopts them and ``down --volumes``
removes them.

(The same API as the ``upgrades`` branch's module of this name, which also copies files out;
one of the two is kept when both are merged.)
"""

from __future__ import annotations

import shlex
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from openclaw_compose.core.contract import MOUNTS
from openclaw_compose.core.spec import Spec
from openclaw_compose.core.writing import CONTAINER_UID, make_bind_dirs
from openclaw_compose.engine import Engine
from openclaw_compose.engine.containers import PROJECT_LABEL
from openclaw_compose.errors import DockerError

USER = f"{CONTAINER_UID}:{CONTAINER_UID}"
ROLES = tuple(MOUNTS)
"""``state``, ``config``, ``workspace``."""
VOLUME_LABEL = "com.docker.compose.volume"
_INBOX = "/tmp"


@dataclass(frozen=True)
class ProfileTrees:
    """Where one profile's trees live on this host, and the image that reaches them."""

    project: str
    profile: str
    image: str
    sources: Mapping[str, str]
    """Role -> a named volume, or an absolute host directory (a bind mount)."""

    def mounts(self) -> list[str]:
        return [f"{self.sources[role]}:{MOUNTS[role]}" for role in ROLES]

    def volumes(self) -> dict[str, str]:
        """Role -> volume name, for the trees that are named volumes."""
        return {role: src for role, src in self.sources.items() if not src.startswith("/")}


def profile_trees(spec: Spec, profile: str, image: str | None = None) -> ProfileTrees:
    """The trees of ``profile`` (host paths in a loaded spec are absolute), reached through
    ``image`` (default: the profile's own)."""
    settings = spec.profiles[profile]
    paths = settings.host_paths()
    sources = {
        role: str(paths[role]) if role in paths else f"{spec.project}_{profile}-{role}"
        for role in ROLES
    }
    return ProfileTrees(spec.project, profile, image or settings.image(spec), sources)


def _ensure(engine: Engine, trees: ProfileTrees) -> None:
    for role, volume in trees.volumes().items():
        if not engine.containers.volume_exists(volume):
            labels = {PROJECT_LABEL: trees.project, VOLUME_LABEL: f"{trees.profile}-{role}"}
            engine.containers.create_volume(volume, labels)
    make_bind_dirs(tuple(Path(src) for src in trees.sources.values() if src.startswith("/")))


def _run(engine: Engine, trees: ProfileTrees, script: str, put: Path | None = None) -> str:
    _ensure(engine, trees)
    code, output = engine.containers.run_once(
        trees.image,
        ["sh", "-c", script],
        mounts=trees.mounts(),
        user=USER,
        put=(_INBOX, put) if put is not None else None,
    )
    if code != 0:
        tail = "\n".join(f"  {line}" for line in output.rstrip().splitlines()[-20:])
        raise DockerError(
            f"writing the trees of profile {trees.profile!r} failed (exit code {code}):\n{tail}"
        )
    return output


def empty_trees(engine: Engine, trees: ProfileTrees) -> dict[str, bool]:
    """Role -> True when that tree holds no file (a missing volume or directory is empty)."""
    script = "; ".join(
        f'[ -z "$(ls -A {MOUNTS[role]})" ] && echo {role}=empty || echo {role}=full'
        for role in ROLES
    )
    found = dict(line.split("=", 1) for line in _run(engine, trees, script).split() if "=" in line)
    return {role: found.get(role) == "empty" for role in ROLES}


def write_tree(
    engine: Engine,
    trees: ProfileTrees,
    archive: Path,
    members: Mapping[str, str],
    *,
    replace: bool,
) -> None:
    """Unpack ``archive`` (a tar) into the trees: ``members`` maps a role to the directory in
    the archive whose contents become that tree (owned by uid 1000). With ``replace`` those
    trees are emptied first; without it a tree that holds files is refused."""
    steps = ["set -eu"]
    for role, member in members.items():
        target = MOUNTS[role]
        inner = PurePosixPath(member.strip("/"))
        steps.append(
            f"find {target} -mindepth 1 -delete"
            if replace
            else f'[ -z "$(ls -A {target})" ] || {{ echo "{role} is not empty" >&2; exit 3; }}'
        )
        steps.append(
            f"tar -xf {_INBOX}/{shlex.quote(archive.name)} -C {target} --no-same-owner "
            f"--strip-components={len(inner.parts)} {shlex.quote(str(inner))}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        wrapper = Path(tmp) / "inbox.tar"
        with tarfile.open(wrapper, "w") as tar:
            info = tar.gettarinfo(str(archive), arcname=archive.name)
            info.uid = info.gid = CONTAINER_UID
            info.mode = 0o600
            with archive.open("rb") as source:
                tar.addfile(info, source)
        _run(engine, trees, "\n".join(steps), put=wrapper)
