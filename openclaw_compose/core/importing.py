"""Planning the move of a native gateway into a profile (pure: reads the native files only).

What moves: the whole state directory (sessions, agents, credentials, the state ``.env``,
channel logins), except what the gateway regenerates (:data:`REGENERATED`) and what moves
elsewhere; the config file, into the config volume; the workspace, into the workspace volume.
This is upstream's own machine move (``docs/install/migrating.md``): the whole state tree,
copied while the gateway is stopped (a running gateway's SQLite files may be caught between
database and WAL), then started at its new path, where Doctor's startup migrations run.

What changes in the config (it is written as plain JSON, so comments are not kept): every path
into the native state, workspace or config directory becomes the same path in the container;
the profile's seed config is merged over it (``gateway.port`` = the profile's port,
``gateway.mode`` local, token auth, ``agents.defaults.workspace`` = the container's, the browser
settings of ``browser: true``, and the profile's ``openclaw:`` fragment); and
``gateway.auth.token`` is removed, because the container's token is the profile's token in
``.env``.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw_compose.core.contract import (
    CONFIG_DIR,
    CONTAINER_UID,
    STATE_DIR,
    WORKSPACE_DIR,
    deep_merge,
    seed_config,
)
from openclaw_compose.core.native import NativeGateway, read_config, read_unit
from openclaw_compose.core.ports import FOOTPRINT_SPAN
from openclaw_compose.core.spec import ProfileSpec, token_variable

MEMBERS = {"state": "state", "config": "config", "workspace": "workspace"}
"""Role -> the directory of the archive that holds that tree."""
CONFIG_NAME = "openclaw.json"
REGENERATED = ("tmp", "cache", "plugin-skills")
"""State entries left behind: the old owner's locks, caches, and the skills link index (links
into the native install, rebuilt at start, as upstream's backups omit it)."""
_SERVICE_ENV = ("OPENCLAW_", "HOME", "PATH", "TMPDIR", "NODE_", "USER", "LANG", "LC_")
"""Unit variables that describe the native service itself, not the gateway's credentials."""


@dataclass
class ImportPlan:
    native: NativeGateway
    profile: str
    config: dict[str, Any]
    """The config as the container will read it."""
    changes: list[str] = field(default_factory=list)
    """What was rewritten, one line each."""
    notes: list[str] = field(default_factory=list)
    """What does not move by itself and needs the user."""
    shares_ports: bool = False
    """The profile's ports meet the native gateway's: ``up`` needs ``--ignore-native`` while
    the native files stay."""
    copied: list[str] = field(default_factory=list)
    """What was copied, one line per tree."""
    skipped: list[str] = field(default_factory=list)
    """What was left out, one line each."""


def plan_import(native: NativeGateway, profile: str, settings: ProfileSpec) -> ImportPlan:
    """The container's config and the list of changes (problems of the source are notes)."""
    ours = range(settings.port, settings.port + FOOTPRINT_SPAN + 1)
    plan = ImportPlan(native, profile, {}, shares_ports=not native.ports().isdisjoint(ours))
    moved = _relocate(read_config(native.config_path)[0], _path_map(native), plan, "")
    merged = deep_merge(moved, seed_config(settings))
    plan.changes += [
        f"{key}: {_show(before)} -> {_show(after)}"
        for key, before, after in _differences(moved, merged, "")
    ]
    auth = merged.get("gateway", {}).get("auth")
    if isinstance(auth, dict) and auth.pop("token", None) is not None:
        plan.changes.append(
            f"gateway.auth.token: removed; the gateway's token is {token_variable(profile)} in "
            ".env (clients that used the native token need that one)"
        )
    plan.config = merged
    plan.notes += _unit_notes(native)
    if not native.state_dir.is_dir():
        plan.notes.append(f"{native.state_dir}: no such directory; only the config moves")
    return plan


def _path_map(native: NativeGateway) -> list[tuple[Path, str]]:
    """Native directory -> its container path, the deepest first (the workspace is usually
    inside the state directory)."""
    pairs = [
        (native.workspace, WORKSPACE_DIR),
        (native.state_dir, STATE_DIR),
        (native.config_path.parent, CONFIG_DIR),
    ]
    return sorted(pairs, key=lambda pair: len(pair[0].parts), reverse=True)


def _relocate(value: Any, paths: list[tuple[Path, str]], plan: ImportPlan, key: str) -> Any:
    if isinstance(value, dict):
        return {k: _relocate(v, paths, plan, f"{key}.{k}" if key else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, paths, plan, f"{key}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or not value.startswith(("/", "~/")):
        return value
    home = plan.native.home
    path = Path(str(home) + value[1:] if value.startswith("~/") else value)
    for native_dir, container_dir in paths:
        if path.is_relative_to(native_dir):
            moved = str(Path(container_dir) / path.relative_to(native_dir)).rstrip("/.")
            plan.changes.append(f"{key}: {value} -> {moved}")
            return moved
    if path.is_relative_to(home) or path.exists():
        plan.notes.append(
            f"{key}: {value} is outside the gateway's own directories and does not exist in "
            "the container; mount it or change the setting"
        )
    return value


def _differences(before: Any, after: Any, key: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        for name in after:
            yield from _differences(before.get(name), after[name], f"{key}.{name}".lstrip("."))
    elif before != after:
        yield key, before, after


def _show(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)


def _unit_notes(native: NativeGateway) -> Iterator[str]:
    for path in native.units:
        names = sorted(
            name for name in read_unit(path).environment if not name.startswith(_SERVICE_ENV)
        )
        if names:
            yield (
                f"{path} sets {', '.join(names)} for the native gateway: not carried over; put "
                f"what the gateway needs in {STATE_DIR}/.env of the profile (the state .env)"
            )
        yield (
            f"{path}: the native service is untouched; disable it (systemctl --user disable "
            f"--now {path.name}) so that the two never run at once"
        )


PROJECT_MARK = ".openclaw-compose.sums"
"""A file every generated project directory holds (next to its ``.env``)."""


def is_project_dir(path: Path, private: frozenset[Path]) -> bool:
    """``path`` is an openclaw-compose project directory (its ``.env`` holds every profile's
    token and keys): one of ``private``, or a directory holding a generated project's mark."""
    return path.resolve() in private or (path / PROJECT_MARK).is_file()


def write_archive(plan: ImportPlan, archive: Path, private: frozenset[Path]) -> list[str]:
    """The tar of the three trees, files owned by the container user; returns notes about what
    was left out (sockets, absolute symbolic links that point outside the trees, project
    directories: ``private`` and any that holds :data:`PROJECT_MARK`), and fills
    ``plan.copied``."""
    native = plan.native
    skipped: list[str] = []
    skip = {
        native.config_path,
        native.workspace,
        native.state_dir,  # a workspace may hold the state directory (a home as workspace)
        *(native.state_dir / name for name in REGENERATED),
    }

    def owned(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
            skipped.append(f"{info.name}: not a file, directory or link: left out")
            return None
        if info.issym() and info.linkname.startswith("/"):
            skipped.append(f"{info.name} -> {info.linkname}: an absolute link, kept as it is")
        info.uid = info.gid = CONTAINER_UID
        info.uname = info.gname = ""
        return info

    def walked(source: Path) -> Iterator[Path]:
        for path in _walk(source, skip):
            if path.is_dir() and not path.is_symlink() and is_project_dir(path, private):
                skip.add(path)
                skipped.append(
                    f"{path}: an openclaw-compose project directory (its .env holds other "
                    "profiles' tokens and keys): left out"
                )
                continue
            yield path

    with tarfile.open(archive, "w") as tar:
        for role, source in (("state", native.state_dir), ("workspace", native.workspace)):
            tar.addfile(_directory(MEMBERS[role]))
            count = 0
            for path in walked(source) if source.is_dir() else ():
                arcname = f"{MEMBERS[role]}/{path.relative_to(source)}"
                tar.add(path, arcname, recursive=False, filter=owned)
                count += 1
            plan.copied.append(f"{role}: {count} entries from {source}")
        tar.addfile(_directory(MEMBERS["config"]))
        data = (json.dumps(plan.config, indent=2) + "\n").encode()
        info = tarfile.TarInfo(f"{MEMBERS['config']}/{CONFIG_NAME}")
        info.size, info.mode, info.uid, info.gid = len(data), 0o600, CONTAINER_UID, CONTAINER_UID
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    plan.copied.append(f"config: {native.config_path}, rewritten ({len(plan.changes)} changes)")
    return skipped


def _walk(root: Path, skip: set[Path]) -> Iterator[Path]:
    """Every entry below ``root`` except ``skip`` (and what is below them), parents first; a
    directory the consumer adds to ``skip`` when it is yielded is not entered."""
    for path in sorted(root.iterdir()):
        if path in skip:
            continue
        yield path
        if path.is_dir() and not path.is_symlink() and path not in skip:
            yield from _walk(path, skip)


def _directory(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o700, int(time.time())
    info.uid = info.gid = CONTAINER_UID
    return info
