"""Moving files into and out of a profile's state, config and workspace, wherever they live.

A profile's trees are named volumes (``<project>_<profile>-<role>``) or host directories
(``state_dir`` and the like). Both are reached the same way: a one-shot container of the
profile's own image, with the three trees mounted where the gateway sees them, running as the
gateway's user (uid 1000), without network. So files land owned by the user that reads them,
host permissions never matter, and nothing runs on the host as root on a user's data.

The API is three functions over :class:`ProfileTrees` (built by :func:`profile_trees`):
:func:`empty_trees` says which trees hold files, :func:`write_tree` extracts (part of) a tar
archive into one tree, :func:`run_on_trees` runs a command with the trees mounted, optionally
copying one file out afterwards (``openclaw backup create`` uses it). Missing named volumes are
created with Compose's labels, so that ``docker compose up`` adopts them and ``down --volumes``
removes them.
"""

from __future__ import annotations

import shlex
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from openclaw_compose.core.contract import CONTAINER_UID, MOUNTS
from openclaw_compose.core.spec import Spec
from openclaw_compose.core.writing import make_bind_dirs
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
        role: str(paths[role]) if role in paths else spec.volume(profile, role) for role in ROLES
    }
    return ProfileTrees(spec.project, profile, image or settings.image_ref(spec), sources)


def _ensure(engine: Engine, trees: ProfileTrees) -> None:
    """Create what is missing: named volumes with Compose's labels, host directories owned by
    the container user."""
    for role, volume in trees.volumes().items():
        if not engine.containers.volume_exists(volume):
            labels = {PROJECT_LABEL: trees.project, VOLUME_LABEL: f"{trees.profile}-{role}"}
            engine.containers.create_volume(volume, labels)
    make_bind_dirs(tuple(Path(src) for role, src in trees.sources.items() if src.startswith("/")))


def run_on_trees(
    engine: Engine,
    trees: ProfileTrees,
    command: Sequence[str],
    *,
    get: tuple[str, Path] | None = None,
    environment: Mapping[str, str] | None = None,
) -> str:
    """Run ``command`` (a list, no shell) with the trees mounted; its output. ``get``
    (container path, local path) copies one file out when it succeeded. Raises
    :class:`DockerError` with the output when it fails."""
    _ensure(engine, trees)
    env = "".join(f"{k}={shlex.quote(v)} " for k, v in (environment or {}).items())
    script = f"{env}exec {shlex.join(command)}" if env else shlex.join(command)
    code, output = engine.containers.run_once(
        trees.image, ["sh", "-c", script], mounts=trees.mounts(), user=USER, get=get
    )
    if code != 0:
        raise DockerError(
            f"{shlex.join(command)} failed for profile {trees.profile!r} (exit code {code}):\n"
            + tail_lines(output)
        )
    return output


EMPTY_SCRIPT = "; ".join(
    f'if [ -z "$(ls -A {MOUNTS[role]})" ]; then echo {role}=empty; else echo {role}=full; fi'
    for role in ROLES
)
"""Prints ``ROLE=empty`` or ``ROLE=full`` for each tree mounted where the gateway sees it."""


def parse_empty(output: str) -> dict[str, bool]:
    """What :data:`EMPTY_SCRIPT` printed: role -> True when that tree holds no file."""
    found = dict(line.split("=", 1) for line in output.split() if "=" in line)
    return {role: found.get(role) == "empty" for role in ROLES}


def empty_trees(engine: Engine, trees: ProfileTrees) -> dict[str, bool]:
    """Role -> True when that tree holds no file (a missing volume or directory is empty)."""
    return parse_empty(run_on_trees(engine, trees, ["sh", "-c", EMPTY_SCRIPT]))


STAGE = ".openclaw-compose-restore"
"""Inside each tree: ``STAGE.new`` (the archive's contents, extracted and complete before any
old file moves), ``STAGE.old`` (the old contents during the swap), ``STAGE.moved`` (the old
contents are all in ``STAGE.old``); ``STAGE.ready`` in the state tree: every tree is extracted,
the swap may begin."""
_READY = f"{MOUNTS['state']}/{STAGE}.ready"
_SWAP = f"""S={STAGE}
entries() {{ for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do [ -e "$e" ] || [ -L "$e" ] || continue
  case "${{e##*/}}" in "$S".*) continue;; esac; printf '%s\\0' "$e"; done; }}
swap() {{
  if [ ! -e "$1/$S.moved" ]; then mkdir -p "$1/$S.old"
    entries "$1" | xargs -0 -r mv -t "$1/$S.old" --; touch "$1/$S.moved"; fi
  entries "$1/$S.new" | xargs -0 -r mv -t "$1" --
  rm -rf -- "$1/$S.old" "$1/$S.new" "$1/$S.moved"
}}
if [ -e {_READY} ]; then
  for t in {" ".join(MOUNTS.values())}; do
    if [ -d "$t/$S.new" ]; then swap "$t"; else rm -rf -- "$t/$S.old" "$t/$S.moved"; fi
  done; rm -f {_READY}
else
  for t in {" ".join(MOUNTS.values())}; do rm -rf -- "$t/$S.new"; done
fi"""
"""Defines ``swap``, then finishes (or undoes) what an interrupted write left: with the ready
mark every tree is swapped in (a tree whose swap was cut off in its final ``rm`` keeps no
``STAGE.moved`` or ``STAGE.old``), without it the staged copies are removed."""


def write_script(archive: str, members: Mapping[str, str | None], *, replace: bool) -> str:
    """A shell script that extracts ``archive`` (a path in the container) into the mounted
    trees, as :func:`write_tree` describes: first into a staging directory inside each tree,
    all of them, then (only once every tree is complete) swapped in by renames; a failure
    before the swap leaves every tree as it was."""
    targets = [MOUNTS[role] for role in members]
    steps = ["set -eu", _SWAP]
    if not replace:
        steps += [
            f'[ -z "$(ls -A {MOUNTS[role]})" ] || {{ echo "{role} is not empty" >&2; exit 3; }}'
            for role in members
        ]
    steps.append(f"trap 'rm -rf -- {' '.join(f'{t}/$S.new' for t in targets)}' EXIT")
    for role, member in members.items():
        stage = f"{MOUNTS[role]}/$S.new"
        steps.append(f'mkdir -- "{stage}"')
        if member is not None:
            depth = len(PurePosixPath(member.strip("/")).parts)
            steps.append(
                f'tar -xf {shlex.quote(archive)} -C "{stage}" --no-same-owner '
                f"--strip-components={depth} -- {shlex.quote(member.strip('/'))}"
            )
    steps += [f"touch {_READY}", "trap - EXIT"]
    steps += [f"swap {target}" for target in targets]
    steps.append(f"rm -f {_READY}")
    return "\n".join(steps)


def write_tree(
    engine: Engine,
    trees: ProfileTrees,
    archive: Path,
    members: Mapping[str, str | None],
    *,
    replace: bool,
) -> None:
    """Extract ``archive`` (tar, optionally gzipped) into the trees: ``members`` maps a role to
    the directory inside the archive whose contents become that tree (files owned by uid 1000),
    or to None (the tree only gets emptied). With ``replace`` the trees named in ``members`` are
    emptied first; without it a tree that holds files is refused."""
    _ensure(engine, trees)
    script = write_script(f"{_INBOX}/{archive.name}", members, replace=replace)
    with tempfile.TemporaryDirectory() as tmp:
        wrapper = Path(tmp) / "in.tar"
        _wrap(archive, wrapper)
        code, output = engine.containers.run_once(
            trees.image,
            ["sh", "-c", script],
            mounts=trees.mounts(),
            user=USER,
            put=(_INBOX, wrapper),
        )
    if code != 0:
        raise DockerError(
            f"writing {', '.join(members)} of profile {trees.profile!r} failed "
            f"(exit code {code}):\n" + tail_lines(output)
        )


def _wrap(archive: Path, wrapper: Path) -> None:
    """A tar holding ``archive`` as one file (what the Engine API's archive upload takes)."""
    with tarfile.open(wrapper, "w") as tar:
        info = tar.gettarinfo(str(archive), arcname=archive.name)
        info.uid = info.gid = CONTAINER_UID
        info.mode = 0o600
        with archive.open("rb") as source:
            tar.addfile(info, source)


def tail_lines(text: str, lines: int = 20) -> str:
    """The last ``lines`` lines of ``text``, indented (for an error message)."""
    tail: Iterable[str] = text.rstrip().splitlines()[-lines:]
    return "\n".join(f"  {line}" for line in tail)
