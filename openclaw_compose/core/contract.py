"""The gateway container contract, the same for every target (pure: no I/O).

The container side of the contract lives here and in ``images/gateway/``: state, config and
workspace at fixed paths owned by uid 1000, the seed config mounted read-only at
:data:`SEED_TARGET`, which the image's entrypoint copies into the config volume on first start,
and the gateway token and the profile's secrets as files ``/run/secrets/<NAME>``, which the
entrypoint exports as environment variables of those names (:data:`SECRETS_VARIABLE` lists
them), so that no value is in the container's configured environment (``docker inspect``).
The pieces of a gateway service that do not depend on the target (environment, mounts,
healthcheck, labels, seeds, the header of generated files) are here; each target
(``targets/<name>/render.py``) builds its document from them.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openclaw_compose.core.front import merge_lists, seed_additions
from openclaw_compose.core.frontcerts import CA_KEY, Reader
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import Footprint, format_range
from openclaw_compose.core.resources import Limits, limits
from openclaw_compose.core.spec import (
    DEFAULT_AUTH_MODE,
    ProfileSpec,
    Spec,
    digest_variable,
    secret_variable,
    token_variable,
)

SEEDS_DIR = "seeds"
SECRETS_DIR = "secrets"
"""The Compose target's copy of the ``.env`` values its gateways mount as secret files (a
read-only root cannot take Compose's secrets from the environment: see :func:`hardening`)."""
FOLDERS = (SEEDS_DIR, "front", "tls", SECRETS_DIR)
"""The folders openclaw-compose writes into: the seeds, the HTTPS front's files, its CA's key,
the secret files."""
HOME = "/home/node"
STATE_DIR = f"{HOME}/.openclaw"
CONFIG_DIR = f"{HOME}/.openclaw-config"
CONFIG_PATH = f"{CONFIG_DIR}/openclaw.json"
APPLIED_PATH = f"{CONFIG_DIR}/openclaw-compose.applied.json"
"""The seed config the last ``up`` applied (:mod:`.converge`): in the config volume, next to the
config it describes, so that a restored or deleted volume never disagrees with it."""
EXEC_ENTRYPOINT = ("openclaw-compose-entrypoint", "--exec")
"""The image's entrypoint (images/gateway/) running the openclaw CLI with the gateway's token
and secrets exported."""
PATCH_PATH = f"{CONFIG_DIR}/openclaw-compose.patch.json"
"""Where a ``config patch`` document is put in a container (then removed): on the config volume,
since a file copied into the container's ``/tmp`` (a tmpfs) would land under the mount."""
RESTART_HINT = "Restart the gateway to apply"
"""What ``openclaw config patch`` prints when a changed key needs a gateway restart."""
WORKSPACE_DIR = f"{HOME}/workspace"
SEED_TARGET = "/run/openclaw-compose/seed.json"
BROWSER_DEFAULTS = {
    "enabled": True,
    "headless": True,
    "noSandbox": True,  # Chromium finds no usable sandbox as uid 1000 in a container
    "executablePath": "/usr/bin/chromium",
}
"""OpenClaw's managed browser in the browser image (images/README.md has the facts)."""
RELAY_PORTS_VARIABLE = "OPENCLAW_COMPOSE_RELAY_PORTS"
"""Bridge network: ports the image's relay carries from the container's address to loopback."""
HOST_SERVICES_VARIABLE = "OPENCLAW_COMPOSE_HOST_SERVICES"
"""The granted host services' ports: the image's relay listens on each on the container's
loopback and forwards to the socket ``<port>.sock`` in :data:`HOST_SERVICES_DIR`."""
HOST_SERVICES_DIR = "/run/openclaw-compose/host-services"
"""Where the gateway and its host link share the sockets of the granted host services (a
volume; the image creates the directory owned by uid 1000, so the volume comes up that way)."""
HOST_SERVICES_LABEL = "openclaw-compose.host-services"
"""Set by images/gateway/Dockerfile when its entrypoint reads :data:`HOST_SERVICES_VARIABLE`."""
FRONT_RELAY_VARIABLE = "OPENCLAW_COMPOSE_FRONT_RELAY"
"""Bridge network, behind the HTTPS front: ``B+1:B``; the image's relay listens on B+1 on the
container's address and forwards to the gateway on 127.0.0.1:B, so that the gateway sees the
front on loopback (its trusted proxy), as with ``network: host``."""
FRONT_RELAY_LABEL = "openclaw-compose.front-relay"
"""Set by images/gateway/Dockerfile when its entrypoint reads :data:`FRONT_RELAY_VARIABLE`."""
MOUNTS = {"state": STATE_DIR, "config": CONFIG_DIR, "workspace": WORKSPACE_DIR}
PROFILE_LABEL = "io.openclaw-compose.profile"
BASE_PORT_LABEL = "io.openclaw-compose.base-port"
TOKEN_NAME = "OPENCLAW_GATEWAY_TOKEN"
SECRETS_VARIABLE = "OPENCLAW_COMPOSE_SECRETS"
"""The names the image's entrypoint exports from ``/run/secrets/<NAME>`` (comma-separated)."""
SECRETS_LABEL = "openclaw-compose.secrets"
"""Set by images/gateway/Dockerfile when its entrypoint reads :data:`SECRETS_VARIABLE`."""
TMP_DIR = "/tmp"
BACKUP_PREFIX = f"{TMP_DIR}/openclaw-compose-backup-"
"""Where ``openclaw backup create`` writes in a container (then copied out, removed): this
prefix, a random part, ``.tar.gz``; a run removes the leftovers of a killed one first. On the
:data:`TMPFS` of ``/tmp``, in memory, never in the writable layer (OpenClaw refuses an output
inside the trees it backs up, so no volume of the gateway's can hold it)."""
TMPFS = {TMP_DIR: 512 << 20, f"{HOME}/.cache": 128 << 20}
"""What OpenClaw writes outside its volumes (``docker diff`` after a chat, a browser page and a
Control UI session; README): its rolling file log (``/tmp/openclaw``), its lock files, the
relay's config, a backup on its way out, and caches (``~/.cache``); so that none of it is in
the container's writable layer (swarm's root is read-only). Sizes in bytes; tmpfs pages count
against the container's memory limit."""
LOG_FILE_BYTES = 8 << 20
"""``logging.maxFileBytes`` of a seed: OpenClaw keeps a day's file log with five numbered
archives (upstream default 100 MiB each), on the ``/tmp`` tmpfs: at most about 100 MiB."""
CAP_DROP = ("ALL",)
"""Every capability dropped: the gateway (uid 1000) needs none (the Docker tests run every
feature so: chat, browser page, Control UI, backup, relay)."""
NO_NEW_PRIVILEGES = "no-new-privileges:true"
CONTAINER_UID = 1000
"""The image's user: owns the state, config and workspace volumes."""
LOGGING = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
"""Docker's log of a gateway: at most three files of 10 MB (``docker logs`` reads them all)."""


def backup_file() -> str:
    """A fresh name for one backup's archive in a container."""
    return f"{BACKUP_PREFIX}{secrets.token_hex(8)}.tar.gz"


BACKUP_RUNNING = f"{BACKUP_PREFIX.rsplit('/', 1)[1]}[0-9a-f]"
"""What the command line of a backup's process in a container holds (its ``--output``, or the
copy's ``cat``), as a pattern that its own ``grep`` does not match."""


def clean_then(command: list[str]) -> list[str]:
    """``command`` run after the backups of killed runs in the container are ended and their
    leftovers removed. A killed client does not end what it ran with ``docker exec``: its
    ``openclaw backup create`` goes on and would write its archive after this clean-up (seen in
    tests/docker/test_day2_kills.py). Every process whose command line names a backup's archive
    is killed with its descendants (OpenClaw's launcher runs the backup in a child process whose
    command line is only ``openclaw``), all at once once found, and the staging directories
    OpenClaw's killed backups leave (``openclaw-backup-*`` in the temporary directory) are
    removed; this shell's own process (``$$``, which then becomes ``command``) is spared."""
    script = (
        'parent() { s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; '
        'set -- $s; echo "$2"; }; '
        'found=" "; for p in /proc/[0-9]*; do pid=${p#/proc/}; '
        f'[ "$pid" = $$ ] || ! grep -qs \'{BACKUP_RUNNING}\' "$p/cmdline" || '
        'found="$found$pid "; done; '
        'while [ "$found" != " " ]; do more=; for p in /proc/[0-9]*; do pid=${p#/proc/}; '
        'case "$found$more" in *" $pid "*) continue;; esac; '
        'case "$found" in *" $(parent "$pid") "*) more="$more$pid ";; esac; done; '
        '[ -n "$more" ] || break; found="$found$more"; done; '
        '[ "$found" = " " ] || { kill -9 $found; rm -rf "${TMPDIR:-/tmp}"/openclaw-backup-*; } '
        "2>/dev/null; "
        f'rm -f {BACKUP_PREFIX}*.tar.gz; exec "$@"'
    )
    return ["sh", "-c", script, "sh", *command]


def backup_command(output: str) -> list[str]:
    """OpenClaw's own consistent, verified backup of the trees the gateway sees."""
    return ["openclaw", "backup", "create", "--output", output, "--verify", "--json"]


CRASH_LOOP = 3
"""Restarts of a gateway (swarm: failed tasks) that count as a crash loop: on a loaded host a
gateway can fail one start (its state lease not ready in 5 s) and come up on the next."""
EXIT_MIGRATION = 78
"""The gateway's exit code when it cannot migrate its state safely (EX_CONFIG)."""


def exit_reason(code: int | None) -> str:
    """Why a gateway's container ended with ``code``, for a user."""
    if code == EXIT_MIGRATION:
        return (
            f"the gateway exited with code {EXIT_MIGRATION}: OpenClaw cannot migrate this "
            "state safely (upstream's fix: 'openclaw doctor --fix' on it)"
        )
    return f"the gateway exited with code {code}"


_HEALTHCHECK = (
    "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 "
    "&& read -r status <&3 && case $status in *' 200 '*) exit 0 ;; esac; exit 1"
)
"""GET /healthz with bash's own /dev/tcp: a few MiB and milliseconds per probe, where a
``node -e fetch(...)`` probe started a 45 MiB Node.js process every 10 s (measured)."""


@dataclass(frozen=True)
class SecretRef:
    """One value a gateway gets as a file and an environment variable: its token or a secret."""

    profile: str
    name: str
    """The environment variable in the container, and the file ``/run/secrets/<name>``."""
    variable: str
    """Where the value is kept: the ``.env`` variable."""

    @property
    def file(self) -> str:
        """Where the Compose target keeps the value as a file: ``secrets/<variable>``."""
        return f"{SECRETS_DIR}/{self.variable}"

    @property
    def key(self) -> str:
        """The secret's key in compose.yaml and stack.yaml (unique in the project)."""
        return f"{self.profile}-token" if self.name == TOKEN_NAME else f"{self.profile}-{self.name}"


def profile_secrets(name: str, profile: ProfileSpec) -> tuple[SecretRef, ...]:
    """The token first, then the profile's secrets in the order the spec lists them."""
    token = SecretRef(name, TOKEN_NAME, token_variable(name))
    return (token, *(SecretRef(name, s, secret_variable(name, s)) for s in profile.secrets))


def token_ref(spec: Spec, profile: str) -> SecretRef:
    return profile_secrets(profile, spec.profiles[profile])[0]


def dashboard_url(base: str, token: str) -> str:
    """The Control UI with the token in the URL fragment, which the browser never sends to the
    server and the UI reads to sign in: the URL is a credential."""
    return f"{base}/#token={token}"


def secret_digests(spec: Spec) -> dict[str, tuple[SecretRef, ...]]:
    """Per profile's digest variable (see :mod:`.secretstore`), the token and secrets it
    digests."""
    return {
        digest_variable(name): profile_secrets(name, profile)
        for name, profile in spec.profiles.items()
    }


@dataclass(frozen=True)
class RenderedProject:
    """The generated files (relative POSIX path -> text) and what they expect in .env."""

    files: Mapping[str, str]
    token_variables: tuple[str, ...]
    bind_dirs: tuple[Path, ...]
    others: tuple[str, ...] = ()
    """Documents of the other targets that may sit in the same directory: left as they are
    (set from the target registry when the project is generated)."""
    digests: Mapping[str, tuple[SecretRef, ...]] = field(default_factory=dict)
    """Per digest variable, the values it digests (the compose target's recreate label)."""
    derived: Callable[[Reader], Mapping[str, str]] | None = None
    """Files made from what the output directory already holds (the front's local CA and
    certificate, kept across runs like the tokens); the writer calls it under the directory's
    lock with a reader of the current files."""
    private: frozenset[str] = frozenset()
    """Files written readable by their owner only (private keys)."""
    kept: tuple[str, ...] = ()
    """Files never removed once written, even when no longer generated (the local CA's key:
    a front added again later keeps the CA its users trust)."""
    watched: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per ``.env`` variable, the files whose digest it holds (the front's recreate label)."""
    secret_files: bool = False
    """Whether the document mounts the tokens and secrets from :data:`SECRETS_DIR`: the writer
    then keeps there one file per value ``.env`` holds (see
    :func:`openclaw_compose.core.secretstore.secret_files`)."""


def project_files(
    spec: Spec,
    document: str,
    text: str,
    digests: Mapping[str, tuple[SecretRef, ...]] | None = None,
) -> RenderedProject:
    """``document`` with the seeds, the tokens it needs and the bind directories to create."""
    files = {document: text}
    for name in spec.profiles:
        files[seed_file(name)] = seed_text(spec, name)
    bind_dirs = tuple(
        path for profile in spec.profiles.values() for path in profile.host_paths().values()
    )
    tokens = tuple(token_variable(name) for name in spec.profiles)
    return RenderedProject(files, tokens, bind_dirs, digests=digests or {}, kept=(CA_KEY,))


def seed_file(profile: str) -> str:
    return f"{SEEDS_DIR}/{profile}.json"


def seed_text(spec: Spec, name: str) -> str:
    return json.dumps(profile_config(spec, name), indent=2) + "\n"


def profile_config(spec: Spec, name: str) -> dict[str, Any]:
    """What the profiles file says of profile ``name``'s config: its seed, and the keys every
    ``up`` converges (the front's included: adding or removing the front changes them)."""
    profile = spec.profiles[name]
    return seed_config(profile, seed_additions(spec, name, profile.port))


def seed_config(profile: ProfileSpec, front: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The first-start ``openclaw.json``: our defaults with the user's fragment merged over,
    then what the HTTPS front needs (``front``: :func:`.front.seed_additions`; the user's
    allowed origins and trusted proxies are kept, ours added)."""
    defaults: dict[str, Any] = {
        "gateway": {"port": profile.port, "mode": "local", "auth": {"mode": DEFAULT_AUTH_MODE}},
        "agents": {"defaults": {"workspace": WORKSPACE_DIR}},
        "logging": {"maxFileBytes": LOG_FILE_BYTES},
    }
    if profile.browser:
        defaults["browser"] = BROWSER_DEFAULTS
    fragment = profile.openclaw.as_config()
    return deep_merge(deep_merge(defaults, fragment), merge_lists(front or {}, fragment))


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def header(loaded: LoadedSpec, out_dir: Path, command: str, notes: tuple[str, ...]) -> str:
    source = (
        "the embedded default spec" if loaded.embedded else relative(Path(loaded.source), out_dir)
    )
    lines = [
        f"Generated by openclaw-compose from {source}.",
        f"Do not edit by hand: change the spec and run 'openclaw-compose {command}' again.",
        *notes,
    ]
    return "".join(f"# {line}\n" for line in lines)


def gateway_mounts(spec: Spec, fp: Footprint, out_dir: Path, volumes: dict[str, Any]) -> list[str]:
    """State, config and workspace: named volumes (added to ``volumes``) or bind mounts."""
    profile = spec.profiles[fp.profile]
    mounts = []
    for role, target in MOUNTS.items():
        host_path = profile.host_paths().get(role)
        if host_path is None:
            volumes[f"{fp.profile}-{role}"] = {}
            mounts.append(f"{fp.profile}-{role}:{target}")
        else:
            mounts.append(f"{literal(relative(host_path, out_dir))}:{target}")
    return mounts


def gateway_environment(spec: Spec, fp: Footprint) -> dict[str, str]:
    """The profile's ``env:``, then everything pinned per container (the spec refuses an
    ``env:`` that names a pinned variable), its values :func:`literal`; the values of the
    secrets are not here."""
    profile = spec.profiles[fp.profile]
    return {
        **{name: literal(value) for name, value in profile.env.items()},
        "OPENCLAW_PROFILE": fp.profile,
        "OPENCLAW_GATEWAY_PORT": str(fp.base),
        "OPENCLAW_STATE_DIR": STATE_DIR,
        "OPENCLAW_CONFIG_PATH": CONFIG_PATH,
        "OPENCLAW_WORKSPACE_DIR": WORKSPACE_DIR,
        SECRETS_VARIABLE: ",".join(ref.name for ref in profile_secrets(fp.profile, profile)),
        # The browser control service (base+2) listens from the start, not on first use.
        "OPENCLAW_EAGER_BROWSER_CONTROL_SERVER": "1",
    }


def relay_ports(fp: Footprint) -> str:
    """The value of :data:`RELAY_PORTS_VARIABLE` when the loopback ports are published."""
    return ",".join(format_range(*ports) for ports in fp.relayed())


def front_relay(fp: Footprint) -> str:
    """The value of :data:`FRONT_RELAY_VARIABLE`."""
    return f"{fp.front_relay}:{fp.base}"


def tmpfs_mounts() -> list[dict[str, Any]]:
    """The :data:`TMPFS` mounts in a stack's long volume syntax: root-owned, mode 1777 (each
    swarm task is a new container, so they are always fresh)."""
    return [
        {"type": "tmpfs", "target": target, "tmpfs": {"size": size}}
        for target, size in TMPFS.items()
    ]


def tmpfs_options() -> list[str]:
    """The :data:`TMPFS` mounts as Compose's ``tmpfs:`` list, owned by the gateway's uid: a
    restarted container's tmpfs comes back mode 755 root-owned (engine 20.10, with the long
    syntax's mode too), which the gateway could no longer write; the owner survives."""
    return [
        f"{target}:size={size},uid={CONTAINER_UID},gid={CONTAINER_UID},mode=0755"
        for target, size in TMPFS.items()
    ]


def hardening() -> dict[str, Any]:
    """What every gateway service says the same way on both targets: no capability, rotated
    logs, a read-only root file system (what OpenClaw writes outside its volumes goes to
    :data:`TMPFS`). (The image's tini is PID 1: no ``init``.) Both targets mount the secrets as
    files: swarm its own secrets, Compose files from :data:`SECRETS_DIR` (Compose refuses a
    secret from the environment in a read-only service: it would copy it into the root)."""
    return {"cap_drop": list(CAP_DROP), "logging": LOGGING, "read_only": True}


def container_limits(spec: Spec, fp: Footprint) -> Limits:
    """The profile's ``resources:`` over the defaults (a browser profile's are higher)."""
    profile = spec.profiles[fp.profile]
    return limits(profile.resources, browser=profile.browser)


def secret_mounts(spec: Spec, fp: Footprint, **access: Any) -> list[dict[str, Any]]:
    """Each secret as the file ``/run/secrets/<NAME>``; ``access``: its uid, gid and mode."""
    refs = profile_secrets(fp.profile, spec.profiles[fp.profile])
    return [{"source": ref.key, "target": ref.name, **access} for ref in refs]


def seed_mount(fp: Footprint) -> list[dict[str, Any]]:
    return [{"source": f"{fp.profile}-seed", "target": SEED_TARGET}]


def healthcheck(fp: Footprint) -> dict[str, Any]:
    return {
        "test": ["CMD", "bash", "-c", literal(_HEALTHCHECK.format(port=fp.base))],
        "interval": "10s",
        "timeout": "5s",
        "retries": 3,
        "start_period": "60s",
    }


def labels(fp: Footprint) -> dict[str, str]:
    return {PROFILE_LABEL: fp.profile, BASE_PORT_LABEL: str(fp.base)}


def literal(text: str) -> str:
    """``text`` as Compose (and ``docker stack``) will read it: every ``$`` doubled, so that a
    user's string is never interpolated (``./c$OPENCLAW_TOKEN_RESCUE`` would otherwise put
    rescue's token into main's mount path)."""
    return text.replace("$", "$$")


def relative(path: Path, out_dir: Path) -> str:
    """``path`` relative to the project directory when that is shorter to read."""
    relative = os.path.relpath(path, out_dir.resolve())
    if relative.startswith(".."):
        return str(path)
    return "./" + Path(relative).as_posix() if relative != "." else "."


HOSTNAME_MAX = 63
"""One DNS label: what a Linux hostname and every resolver accept."""


def service_hostname(project: str, profile: str) -> str:
    """The same for every task of a profile's service (the owner lease needs that), distinct
    between profiles and stacks; ``_`` is not valid in a hostname, and a name longer than one
    DNS label is shortened with a digest of the whole."""
    name = f"{project}-{profile}".replace("_", "-")
    if len(name) <= HOSTNAME_MAX:
        return name
    return f"{name[: HOSTNAME_MAX - 13]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
