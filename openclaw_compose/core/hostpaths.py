"""The host directories a profile bind-mounts: can Compose mount them, can they be
created (:mod:`.checks` reports what is found here).

A path that fails here would otherwise fail late: ``docker compose up`` refusing ``./a:b``, a
``mkdir`` under a regular file, a traceback from a symbolic link loop or an unknown ``~user``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from openclaw_compose.errors import shown


class NotReadable(OSError):
    """A file that is not read: not a regular file, or over the bound (``strerror`` says)."""


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit``: opened without blocking (a
    FIFO or a device would), checked with ``fstat`` before a byte is read. Raises
    :class:`OSError` (``FileNotFoundError`` when missing, :class:`NotReadable` otherwise)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        mode = os.fstat(fd)
        if not stat.S_ISREG(mode.st_mode):
            raise NotReadable(0, "not a regular file (a FIFO, a device or a directory)")
        if mode.st_size > limit:
            raise NotReadable(0, f"over {limit >> 20 or 1} MiB, more than it can be")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise NotReadable(0, f"over {limit >> 20 or 1} MiB, more than it can be")
    return data


def unmountable(path: Path) -> str | None:
    """Why Compose cannot bind-mount ``path`` (or it cannot be resolved), else None."""
    text = str(path)
    reasons = (
        ("\0" in text, "contains a NUL byte"),
        (not _utf8(text), "is not UTF-8; Compose files are UTF-8 text"),
        (text.startswith("~"), f"{text.partition('/')[0]} names no user of this host"),
        (":" in text, "contains ':', which Compose reads as the separator of source and target"),
        (not text.isprintable(), "contains a line break or another control character"),
    )
    reason = next((reason for bad, reason in reasons if bad), None)
    if reason is None and _loops(path):
        return "a symbolic link in it points back at itself (a loop)"
    return reason


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _loops(path: Path) -> bool:
    try:
        path.resolve()
    except RuntimeError:
        return True
    return False


def not_a_directory(path: Path) -> str | None:
    """Why ``path`` cannot be (made) a directory: it, or an ancestor, is something else."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return None
        if candidate.exists() or candidate.is_symlink():
            what = "is" if candidate == path else f"is under {shown(candidate)}, which is"
            return f"{what} a file, not a directory; choose a directory path"
    return None
