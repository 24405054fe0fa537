"""Crash-consistent changes to an output directory: a lock, a journal, and recovery.

One run at a time: each run holds an exclusive ``flock`` on the output directory itself (no lock
file is left behind) while it reads, plans and writes. A run's changes are first staged as files
in ``.openclaw-compose.journal/``; once all of them are on disk, an intent record (``intent.json``:
which staged file becomes which project file, which files are then removed) is written and
renamed into place: that rename is the commit. Then the staged files are renamed over their
targets, in the order given, stale files are removed, and the journal is deleted.

A run killed before the commit leaves a journal without intent: the next run deletes it (the
project was never touched). A run killed after it leaves a committed intent: the next run finishes
it before doing anything else. Names in an intent record are checked against the names
openclaw-compose writes (:func:`is_ours`), so a tampered journal cannot reach outside the project.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.envfile import carry_assignments
from openclaw_compose.core.spec import VALUE_VARIABLE
from openclaw_compose.errors import OutputError, shown
from openclaw_compose.polling import wait_until

JOURNAL_DIR = ".openclaw-compose.journal"
INTENT = "intent.json"
ABSENT = "absent"
"""The ``base`` of a file that did not exist when the run planned it."""
LOCK_WAIT = 120.0
"""Seconds a run waits for another run on the same directory to finish."""
_STAGED = re.compile(r"[0-9]{1,6}")
_LEGACY = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")
_OURS = re.compile(
    r"(?:compose\.yaml|stack\.yaml|\.env|\.openclaw-compose\.sums"
    r"|seeds/[a-z0-9][a-z0-9_-]{0,63}\.json"
    r"|front/(?:haproxy\.cfg|ca\.crt|server\.crt|server\.crt\.key)|tls/ca\.key"
    rf"|secrets/(?:{VALUE_VARIABLE.pattern}|\.gitignore))"
)


def is_ours(name: str) -> bool:
    """Whether ``name`` is a project file that openclaw-compose may write or remove."""
    return _OURS.fullmatch(name) is not None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def try_lock(fd: int) -> bool:
    """Take the lock on ``fd`` if no other process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold the output directory's lock; waits up to :data:`LOCK_WAIT` for another run."""
    fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not wait_until(lambda: try_lock(fd), LOCK_WAIT, interval=0.02):
            raise OutputError(
                f"{shown(out_dir)}: another openclaw-compose run has been writing here for over "
                f"{LOCK_WAIT:.0f} s; wait for it to end (or stop it) and run again (nothing was "
                "changed)"
            )
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Change:
    """One file of a transaction: its new bytes and mode. ``base`` is the digest of the content
    it replaces (or :data:`ABSENT`) for a file of the user's (``.env``): should it have changed
    before an interrupted run is completed, it is kept and only gains what it lacks."""

    name: str
    data: bytes
    mode: int = 0o644
    base: str | None = None


def commit(out_dir: Path, changes: Sequence[Change], removals: Sequence[str]) -> None:
    """Stage ``changes``, commit the intent, apply it; a run interrupted at any point is
    completed or undone by the next :func:`recover`."""
    journal = out_dir / JOURNAL_DIR
    journal.mkdir(mode=0o700, exist_ok=True)  # it stages .env and the secret files
    writes: list[list[str | None]] = []
    committed = False
    try:
        for number, change in enumerate(changes):
            _write_file(journal / str(number), change.data, change.mode)
            writes.append([str(number), change.name, change.base])
        os.sync()  # every staged file on disk before the intent: one call, not one per file
        intent = json.dumps({"write": writes, "remove": list(removals)}).encode()
        _write_file(journal / "intent.tmp", intent, 0o600, sync=True)
        os.replace(journal / "intent.tmp", journal / INTENT)
        _fsync(journal)
        committed = True
        _apply(out_dir, journal)
    except BaseException as exc:
        if not committed:
            _discard(journal)
            raise
        try:
            _apply(out_dir, journal)  # finish what was committed (a Ctrl-C, say)
        except OSError as again:
            raise OutputError(
                f"{shown(again.filename or out_dir)}: {again.strerror}; the project was only "
                "partly updated, and the next run completes it: fix that and run again"
            ) from None
        if not isinstance(exc, Exception):
            raise  # Ctrl-C: the write is complete, and the run still stops


def recover(out_dir: Path) -> bool:
    """Finish or undo the transaction an earlier run left behind; True if there was one."""
    _remove_legacy_temporaries(out_dir)
    journal = out_dir / JOURNAL_DIR
    if not journal.is_dir() or journal.is_symlink():
        return False
    if (journal / INTENT).is_file():
        _apply(out_dir, journal)
    else:
        _discard(journal)
    return True


def _apply(out_dir: Path, journal: Path) -> None:
    try:
        intent = json.loads((journal / INTENT).read_bytes())
    except FileNotFoundError:
        _discard(journal)  # an interrupted _discard: everything was applied
        return
    except (OSError, ValueError) as exc:
        raise _unreadable(journal, exc) from None
    try:
        writes = [(str(s), str(n), b) for s, n, b in intent["write"]]
        removals = [str(name) for name in intent["remove"]]
    except (ValueError, TypeError, KeyError) as exc:
        raise _unreadable(journal, exc) from None
    touched = {out_dir}
    for staged, name, base in writes:
        if not (_STAGED.fullmatch(staged) and is_ours(name)):
            continue
        source, target = journal / staged, out_dir / name
        if not source.exists():
            continue  # renamed before the interruption
        current = _read(target)
        if base is not None and (digest(current) if current is not None else ABSENT) != base:
            # Changed since the interrupted run planned it (the user's .env): keep it, and add
            # only the assignments it lacks, which the files renamed after it may name.
            source.write_bytes(carry_assignments(current, source.read_bytes(), target))
        target.parent.mkdir(exist_ok=True)
        os.replace(source, target)
        touched.add(target.parent)
    for directory in touched:
        _fsync(directory)
    for name in removals:
        if is_ours(name):
            with suppress(FileNotFoundError):
                (out_dir / name).unlink()
    _discard(journal)


def _remove_legacy_temporaries(out_dir: Path) -> None:
    """Versions before the journal staged each file as ``.<name>.<8 random>.tmp`` next to it,
    and a crash left them behind: those names, and only those, are removed."""
    for directory in (out_dir, out_dir / "seeds"):
        with suppress(FileNotFoundError, NotADirectoryError):
            for entry in directory.iterdir():
                name = _LEGACY.fullmatch(entry.name)
                if name and is_ours(str(entry.relative_to(out_dir).with_name(name.group(1)))):
                    entry.unlink(missing_ok=True)


def _unreadable(journal: Path, exc: Exception) -> OutputError:
    return OutputError(
        f"{shown(journal / INTENT)}: unreadable journal of an interrupted run ({exc}); "
        f"check the project, then delete {shown(journal)} and run again"
    )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _discard(journal: Path) -> None:
    """Delete the journal: only the files a run puts there."""
    with suppress(FileNotFoundError, NotADirectoryError):
        for entry in journal.iterdir():
            if _STAGED.fullmatch(entry.name) or entry.name == "intent.tmp":
                entry.unlink(missing_ok=True)
        (journal / INTENT).unlink(missing_ok=True)  # last: until then, a rerun finishes
    with suppress(OSError):
        journal.rmdir()  # left, with what someone else put there, when not empty


def _write_file(path: Path, data: bytes, mode: int, *, sync: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
