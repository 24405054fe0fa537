"""What OpenClaw's own backup archive (the payload of ours) holds, checked whole before a
restore touches anything: every member read through (a truncated or corrupt stream fails here,
not halfway into a profile's trees), regular files and directories only (symbolic links only
when they point inside their own tree: OpenClaw archives a workspace's links as links), names
relative, without ``..``, under the archive's root (the trees it names: none starting with
``-``, and they reach ``tar`` after ``--``), a bound on the
count and the total size, and OpenClaw's ``manifest.json`` of the shape it writes: its
``runtimeVersion`` (covered by our checksum, unlike our own manifest's copy) decides whether the
archive is too new, and every asset it lists is there.
"""

from __future__ import annotations

import json
import posixpath
import re
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from openclaw_compose.core.contract import CONFIG_PATH, MOUNTS
from openclaw_compose.errors import ArchiveError, shown

MAX_MEMBERS = 2_000_000
MAX_BYTES = 256 << 30
"""256 GiB unpacked: far above any gateway's state, far below what a crafted archive claims."""
MAX_MANIFEST = 1 << 20
_VERSION = re.compile(r"\d+\.\d+\.\d+(?:[-+.][0-9A-Za-z.-]+)?")
ROLES = tuple(MOUNTS)


@dataclass(frozen=True)
class Payload:
    runtime_version: str
    members: Mapping[str, str | None]
    """Role -> the directory in the archive whose contents become that tree (None: none)."""


def inspect_payload(payload: Path, label: str) -> Payload:
    """``payload`` checked whole (see the module); :class:`ArchiveError` naming ``label``."""
    kinds: dict[str, str] = {}
    links: dict[str, str] = {}
    manifest: Any = None
    total = 0
    try:
        with tarfile.open(payload, "r:gz") as tar:
            for member in tar:
                name = _name(member.name, label)
                if len(kinds) >= MAX_MEMBERS or name in kinds:
                    raise ArchiveError(f"{label}: too many members, or one twice ({shown(name)})")
                total += max(member.size, 0)
                if total > MAX_BYTES:
                    raise ArchiveError(f"{label}: unpacks to over {MAX_BYTES >> 30} GiB")
                kinds[name] = _kind(member, label)
                if member.issym():
                    links[name] = member.linkname
                stream = tar.extractfile(member) if member.isreg() else None
                if stream is None:
                    continue
                if PurePosixPath(name).parts[1:] == ("manifest.json",):
                    manifest = _json(stream.read(MAX_MANIFEST + 1), label)
                else:
                    while stream.read(1 << 20):
                        pass
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise ArchiveError(
            f"{label}: OpenClaw's archive inside it is unreadable ({exc}); nothing was restored"
        ) from None
    version, members = _manifest(manifest, kinds, label)
    for name, target in links.items():
        tree = next((m for m in members.values() if m and _under(name, m)), None)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if tree is None or target.startswith("/") or not _under(resolved, tree):
            raise ArchiveError(
                f"{label}: {shown(name)} is a symbolic link out of its tree; nothing was restored"
            )
    return Payload(version, members)


def _name(raw: str, label: str) -> str:
    path = PurePosixPath(raw)
    if not raw or len(raw) > 4096 or path.is_absolute() or ".." in path.parts or "\0" in raw:
        raise ArchiveError(f"{label}: member {shown(raw)} has an unsafe name; nothing was restored")
    return str(path)


def _kind(member: tarfile.TarInfo, label: str) -> str:
    if member.isreg():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "link"
    raise ArchiveError(
        f"{label}: {shown(member.name)} is not a regular file, a directory or a symbolic link "
        "(a device, a FIFO or a hard link); nothing was restored"
    )


def _json(data: bytes, label: str) -> Any:
    if len(data) > MAX_MANIFEST:
        raise ArchiveError(f"{label}: OpenClaw's manifest.json is over 1 MiB")
    try:
        return json.loads(data)
    except ValueError:
        raise ArchiveError(f"{label}: OpenClaw's manifest.json is not JSON") from None


def _under(name: str, tree: str) -> bool:
    return name == tree or name.startswith(tree + "/")


def _manifest(
    manifest: Any, kinds: Mapping[str, str], label: str
) -> tuple[str, dict[str, str | None]]:
    """The runtime version and role -> tree of OpenClaw's manifest, checked against the
    members."""

    def wrong(what: str) -> ArchiveError:
        return ArchiveError(f"{label}: OpenClaw's manifest.json {what}; nothing was restored")

    if not isinstance(manifest, dict):
        raise wrong("is missing or not an object")
    version, root, assets = (manifest.get(k) for k in ("runtimeVersion", "archiveRoot", "assets"))
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise wrong("has no runtimeVersion of the form 2026.9.6")
    if not isinstance(root, str) or any(PurePosixPath(n).parts[0] != root for n in kinds):
        raise wrong("has no archiveRoot that holds every member")
    if not isinstance(assets, list):
        raise wrong("has no list of assets")
    members: dict[str, str | None] = dict.fromkeys(ROLES)
    for asset in assets:
        if not isinstance(asset, dict):
            raise wrong("lists an asset that is not an object")
        source, path = asset.get("sourcePath"), asset.get("archivePath")
        if not isinstance(source, str) or not isinstance(path, str):
            raise wrong("lists an asset without sourcePath and archivePath")
        path = path.strip("/")
        if any(part.startswith("-") for part in PurePosixPath(path).parts):
            raise wrong(f"lists {shown(path)}, a name that would be read as an option")
        if kinds.get(path) not in ("dir", "file") or not _under(path, root):
            raise wrong(f"lists {shown(path)}, which the archive does not hold")
        for role, mount in MOUNTS.items():
            if source == mount and kinds[path] == "dir":
                members[role] = path
            elif role == "config" and source == CONFIG_PATH:
                members[role] = str(PurePosixPath(path).parent)
    return version, members
