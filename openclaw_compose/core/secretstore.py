"""The private store of secret values: the project's ``.env`` (mode 0600), next to the tokens.

Why ``.env``: it is already the one private file of a project (the tokens are there, kept
across regenerations, never in a generated file), upstream's own Docker setup keeps provider keys
in its ``.env``, and Compose reads it itself. The Compose target mounts each value as
``/run/secrets/<NAME>`` from a file: Compose takes a secret from the environment only by copying
it into the container's root file system, which is read-only. So every run that writes ``.env``
also writes :func:`secret_files`, copies of its values in ``secrets/`` (mode 0700, files 0444:
a bind-mounted file keeps its host owner and mode, and the gateway, uid 1000, reads a 0600 file
only if it is chowned to uid 1000, which a non-root user cannot do; the directory keeps other
users of the host out, as ``.env``'s own mode does).

Each value is written in a form Compose reads back byte for byte (single-quoted, or
double-quoted with escapes; see :mod:`.dotenv`); a value that is not UTF-8, or holds a NUL byte
(which no environment variable can), is refused. Compose does not recreate a container when a
secret's value changes, so the store also keeps, per profile, a keyed digest of its token and
secrets (HMAC-SHA256 keyed by the token: it tells nothing about the values without the token), which
``compose.yaml`` puts in a label: a changed value recreates that gateway, and only it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.checks import CheckCode, Problem, Severity
from openclaw_compose.core.contract import SECRETS_DIR, SecretRef, secret_digests
from openclaw_compose.core.envfile import (
    ENV_FILE,
    decode_env,
    quoted,
    read_env,
    remove_variable,
    set_variable,
    set_variables,
)
from openclaw_compose.core.hostpaths import read_bounded
from openclaw_compose.core.spec import VALUE_VARIABLE, ProfileSpec, Spec, secret_variable
from openclaw_compose.errors import UsageError


@dataclass(frozen=True)
class SecretState:
    profile: str
    name: str
    variable: str
    set: bool

    def to_json(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "name": self.name,
            "variable": self.variable,
            "set": self.set,
        }


STORE_LIMIT = 16 << 20
"""The largest ``.env`` read (16 MiB, the profiles file's bound): a device or an endless file
there is refused, not read until memory runs out."""
VALUE_LIMIT = 64 << 10
"""The largest value stored (64 KiB, far above any key or token): the gateway gets each value
as an environment variable, and Linux refuses to start a process with one over 128 KiB."""


def read_store(directory: Path) -> str | None:
    """The text of the project's ``.env``; None when there is none yet. A FIFO, a device or an
    oversized file is refused without blocking."""
    path = directory / ENV_FILE
    try:
        return decode_env(read_bounded(path, STORE_LIMIT), path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror}") from None


def stored_values(directory: Path) -> dict[str, str]:
    text = read_store(directory)
    return read_env(text) if text is not None else {}


SECRETS_IGNORE = f"{SECRETS_DIR}/.gitignore"
"""Keeps the secret files out of a git repository that holds the project, as ``.env`` usually
is by the user's own ignore file."""


def secret_files(text: str) -> dict[str, bytes]:
    """The files of the Compose target's :data:`SECRETS_DIR`: one per token or secret value
    ``text`` (a ``.env``) holds, named after its variable, holding the value as Compose reads it
    (an empty value is no value, as :func:`missing_secrets` says), and :data:`SECRETS_IGNORE`."""
    return {SECRETS_IGNORE: b"*\n"} | {
        f"{SECRETS_DIR}/{variable}": value.encode()
        for variable, value in read_env(text).items()
        if value and VALUE_VARIABLE.fullmatch(variable)
    }


def secret_states(spec: Spec, directory: Path, profile: str | None = None) -> list[SecretState]:
    """Every declared secret (of ``profile``, or of all) and whether a value is stored."""
    values = stored_values(directory)
    return [
        SecretState(name, secret, variable, bool(values.get(variable)))
        for name, spec_profile in spec.profiles.items()
        if profile in (None, name)
        for secret in spec_profile.secrets
        for variable in (secret_variable(name, secret),)
    ]


def missing_secrets(spec: Spec, directory: Path, severity: Severity) -> Iterator[Problem]:
    """``secret-missing``: a warning while generating, an error before starting gateways."""
    for state in secret_states(spec, directory):
        if not state.set:
            yield Problem(
                CheckCode.SECRET_MISSING,
                severity,
                (state.profile,),
                f"profile {state.profile!r}: secret {state.name} has no value in "
                f"{directory / ENV_FILE}; set it with 'openclaw-compose secret set "
                f"{state.profile} {state.name}' (the value is read from standard input)",
            )


def clean_value(raw: str | bytes) -> str:
    """The value as read from standard input, its trailing newline dropped; refuses what no
    environment variable can hold (never showing the value)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"the value is not UTF-8 (byte {exc.start + 1}); give it as UTF-8 text on "
                "standard input (nothing was changed)"
            ) from None
    value = raw.removesuffix("\n").removesuffix("\r")
    if not value:
        raise UsageError("the value is empty; give the secret's value on standard input")
    if len(value.encode()) > VALUE_LIMIT:
        raise UsageError(
            f"the value is over {VALUE_LIMIT >> 10} KiB, more than the gateway can be given as "
            "an environment variable; nothing was changed"
        )
    if "\0" in value:
        raise UsageError(
            "the value contains a NUL byte, which no environment variable can hold; nothing "
            "was changed"
        )
    quoted(value)
    return value


def set_secret(spec: Spec, text: str | None, profile: str, name: str, value: str) -> str:
    """``text`` (of ``.env``) with ``value`` stored for ``profile``'s secret ``name``."""
    declared = _profile(spec, profile).secrets
    if name not in declared:
        listed = ", ".join(declared) or "none"
        raise UsageError(
            f"profile {profile!r} declares no secret {name} (its secrets: {listed}); add it to "
            f"profiles.{profile}.secrets in the profiles file first"
        )
    stored = set_variable(text, secret_variable(profile, name), quoted(value))
    return with_digests(stored, secret_digests(spec))


def remove_secret(spec: Spec, text: str | None, profile: str, name: str) -> str:
    """``text`` (of ``.env``) without ``profile``'s secret ``name``; refuses an unknown one."""
    _profile(spec, profile)
    variable = secret_variable(profile, name)
    if text is None or variable not in read_env(text):
        raise UsageError(f"profile {profile!r} has no stored secret {name}; nothing to remove")
    return with_digests(remove_variable(text, variable), secret_digests(spec))


def _profile(spec: Spec, profile: str) -> ProfileSpec:
    try:
        return spec.profiles[profile]
    except KeyError:
        raise UsageError(
            f"no profile {profile!r}; the profiles are: {', '.join(spec.profiles)}"
        ) from None


def keyed_digest(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


def with_digests(text: str, digests: Mapping[str, tuple[SecretRef, ...]]) -> str:
    """``text`` with each digest variable set from the current values (the first ref, the
    token, is the key); a profile without its token yet gets none."""
    values = read_env(text)
    changed = {}
    for variable, refs in digests.items():
        key = values.get(refs[0].variable)
        if not key:
            continue
        message = json.dumps([[ref.name, values.get(ref.variable)] for ref in refs])
        digest = keyed_digest(key, message)
        if values.get(variable) != digest:
            changed[variable] = digest
    return set_variables(text, changed) if changed else text
