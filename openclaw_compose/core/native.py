"""Native OpenClaw gateways on this host: found by reading files, never by running anything.

A gateway installed with ``openclaw onboard`` / ``openclaw gateway install`` keeps its state in
``~/.openclaw`` (or ``~/.openclaw-<profile>`` for a named profile), its config in
``openclaw.json`` there, and may have a systemd user unit ``openclaw-gateway[-<profile>]``
whose ``Environment=`` lines move the state or config elsewhere and whose ``ExecStart`` pins
``--port``. A native gateway binds its CDP ports only when its browser starts, so a port probe
misses them: the checks must know its footprint from its files.

How OpenClaw itself resolves these (``src/config/paths.ts``, ``src/cli/profile.ts``,
``src/agents/workspace-default.ts`` of openclaw 2026.9.6):

- base port: ``--port`` > ``OPENCLAW_GATEWAY_PORT`` > config ``gateway.port`` (> 0) >
  profile ``dev``: 19001 (``--dev`` sets ``OPENCLAW_GATEWAY_PORT``, so it wins over the config)
  > a named profile: 20000 + FNV-1a-32(name) % 40000 > 18789;
- workspace: config ``agents.defaults.workspace`` > ``OPENCLAW_WORKSPACE_DIR`` >
  ``<state dir>/workspace``;
- running: ``<state>/tmp/openclaw-<uid>/gateway.state.lock`` holds the owner's pid and port
  while the gateway runs, and is removed when it stops.

Configs are JSON5, as OpenClaw writes and reads them (with the npm ``json5`` package): they are
read with the Python ``json5`` package, an implementation of the same grammar, so comments,
unquoted keys and trailing commas read the same.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import json5

from openclaw_compose.core.hostpaths import read_bounded
from openclaw_compose.core.ports import Footprint
from openclaw_compose.errors import shown

DEFAULT_PORT = 18789
DEV_PORT = 19001
PROFILE_HASH_RANGE = (20000, 60000)
CONFIG_FILE = "openclaw.json"
LEGACY_CONFIG_FILE = "clawdbot.json"
STATE_DIR_NAME = ".openclaw"
LEGACY_STATE_DIR_NAME = ".clawdbot"
UNIT_DIR = Path(".config/systemd/user")
UNIT_GLOB = "openclaw-gateway*.service"
STATE_LOCK = "gateway.state.lock"
CONFIG_LIMIT = 64 << 20
JSON5_LIMIT = 1 << 20
"""Configs are read as JSON first (what OpenClaw writes; fast at any size), as JSON5 only
when that fails, up to this size (the pure-Python JSON5 parser takes seconds per MiB)."""
UNIT_LIMIT = 1 << 20
PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.IGNORECASE)


def _nothing_runs(pid: int) -> bool:
    del pid
    return False


@dataclass(frozen=True, slots=True)
class HostView:
    """What discovery knows of the running host besides the files under a home: the TCP ports
    listening now and which process ids are alive. The runtime reads them
    (:func:`openclaw_compose.host.system.host_view`); core reads no host state itself."""

    listening: frozenset[int] = frozenset()
    alive: Callable[[int], bool] = _nothing_runs


def profile_port(profile: str) -> int:
    """The base port OpenClaw gives a named profile without one: FNV-1a of its name."""
    value = 2166136261
    for byte in profile.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    low, high = PROFILE_HASH_RANGE
    return low + value % (high - low)


@dataclass(frozen=True, slots=True)
class Unit:
    """What a systemd user unit tells about its gateway."""

    path: Path
    environment: Mapping[str, str]
    port: int | None
    """``--port`` of its ExecStart."""


@dataclass(frozen=True, slots=True)
class NativeGateway:
    """One native install: where it lives, its ports, and whether it runs now."""

    state_dir: Path
    config_path: Path
    profile: str | None
    """OpenClaw profile; None for the default one."""
    base: int | None
    """None when the port cannot be known (the config is unreadable and nothing else says)."""
    port_source: str
    workspace: Path
    home: Path
    """The home its ``~`` stands for."""
    cdp_ports: Mapping[str, int] = field(default_factory=dict)
    cdp_urls: tuple[tuple[str, str], ...] = ()
    """(config key, URL) of every ``browser.cdpUrl`` and ``browser.profiles.<n>.cdpUrl``."""
    units: tuple[Path, ...] = ()
    pid: int | None = None
    listening: bool = False
    problem: str | None = None
    """Why its config could not be read (its ports may then be unknown)."""

    @property
    def label(self) -> str:
        return f"native:{self.profile or 'default'}"

    @property
    def running(self) -> bool:
        return self.pid is not None or self.listening

    def footprint(self) -> Footprint | None:
        if self.base is None:
            return None
        return Footprint(profile=self.label, base=self.base, cdp_ports=self.cdp_ports)

    def ports(self) -> set[int]:
        """Every port of its footprint, bound now or not."""
        fp = self.footprint()
        if fp is None:
            return set()
        return set(range(fp.span[0], fp.span[1] + 1)) | set(fp.cdp_ports.values())

    def describe(self) -> str:
        """``native gateway <config> (running ...)``: how problems name it."""
        return f"native gateway {self.config_path} ({self.state_text()})"

    def state_text(self) -> str:
        if self.pid is not None:
            return f"running, pid {self.pid}"
        return "running" if self.listening else "not running"

    def to_json(self) -> dict[str, Any]:
        fp = self.footprint()
        return {
            "name": self.label,
            "native": True,
            "profile": self.profile,
            "config": str(self.config_path),
            "state_dir": str(self.state_dir),
            "workspace": str(self.workspace),
            "base": self.base,
            "port_source": self.port_source,
            "browser_control": fp.browser_control if fp else None,
            "extension_relay": list(fp.extension_relay) if fp else None,
            "cdp": list(fp.cdp) if fp else None,
            "cdp_ports": dict(self.cdp_ports),
            "cdp_urls": dict(self.cdp_urls),
            "units": [str(unit) for unit in self.units],
            "running": self.running,
            "pid": self.pid,
            "problem": self.problem,
        }


def discover(home: Path, host: HostView) -> tuple[NativeGateway, ...]:
    """Every native install under ``home``: its default state dir, each ``.openclaw-<profile>``,
    and every ``openclaw-gateway*.service`` user unit (one gateway per state dir)."""
    home = home.expanduser().absolute()
    units = [read_unit(path) for path in sorted((home / UNIT_DIR).glob(UNIT_GLOB))]
    found: dict[Path, tuple[str | None, list[Unit]]] = {}
    for state_dir, profile in _state_dirs(home):
        found[state_dir] = (profile, [])
    for unit in units:
        state_dir, profile = _unit_state_dir(unit, home)
        known = found.setdefault(state_dir, (profile, []))
        known[1].append(unit)
    return tuple(
        _gateway(state_dir, profile, tuple(units), home, host)
        for state_dir, (profile, units) in sorted(found.items())
    )


def native_at(state_dir: Path, home: Path, host: HostView) -> NativeGateway:
    """The native gateway whose state is ``state_dir``: as discovered under ``home`` (with its
    units), or read from that directory alone."""
    state_dir = state_dir.expanduser().absolute()
    for native in discover(home, host):
        if native.state_dir == state_dir:
            return native
    home = home.expanduser().absolute()
    return _gateway(state_dir, _dir_profile(state_dir), (), home, host)


def _state_dirs(home: Path) -> Iterator[tuple[Path, str | None]]:
    default = home / STATE_DIR_NAME
    legacy = home / LEGACY_STATE_DIR_NAME
    if default.is_dir():
        yield default, None
    elif legacy.is_dir():
        yield legacy, None
    for path in sorted(home.glob(f"{STATE_DIR_NAME}-*")):
        profile = _dir_profile(path)
        if path.is_dir() and profile is not None:
            yield path, profile


def _dir_profile(state_dir: Path) -> str | None:
    """The profile of ``.openclaw-<profile>``; None for any other name."""
    prefix = f"{STATE_DIR_NAME}-"
    return (
        _profile(state_dir.name.removeprefix(prefix)) if state_dir.name.startswith(prefix) else None
    )


def read_unit(path: Path) -> Unit:
    """``Environment=`` assignments and ``--port`` of ``ExecStart=`` of a unit (both keys exist
    only in its ``[Service]`` section); an unreadable unit tells nothing."""
    environment: dict[str, str] = {}
    port = None
    try:
        text = read_bounded(path, UNIT_LIMIT).decode(errors="replace")
    except OSError:
        return Unit(path, {}, None)
    for raw in text.replace("\\\n", " ").splitlines():
        key, _, value = raw.strip().partition("=")
        value = value.replace("%%", "%")
        if key == "Environment":
            for word in _words(value):
                name, sep, setting = word.partition("=")
                if sep:
                    environment[name] = setting
        elif key == "ExecStart":
            port = _port_argument(_words(value)) or port
    return Unit(path, environment, port)


def _words(value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


def _port_argument(argv: list[str]) -> int | None:
    for index, arg in enumerate(argv):
        text = argv[index + 1] if arg == "--port" and index + 1 < len(argv) else None
        if arg.startswith("--port="):
            text = arg.partition("=")[2]
        if text is not None and text.isdigit():
            return int(text)
    return None


def _expand(value: str, home: Path) -> Path:
    value = value.strip()
    if value == "~" or value.startswith("~/"):
        value = str(home) + value[1:]
    return Path(value).absolute()


def _unit_home(unit: Unit, home: Path) -> Path:
    override = unit.environment.get("OPENCLAW_HOME", "").strip()
    return _expand(override, home) if override else home


def _unit_state_dir(unit: Unit, home: Path) -> tuple[Path, str | None]:
    env = unit.environment
    profile = _profile(env.get("OPENCLAW_PROFILE", "").strip() or _unit_profile(unit.path))
    own_home = _unit_home(unit, home)
    if env.get("OPENCLAW_STATE_DIR", "").strip():
        return _expand(env["OPENCLAW_STATE_DIR"], own_home), profile
    suffix = f"-{profile}" if profile else ""
    return own_home / f"{STATE_DIR_NAME}{suffix}", profile


def _profile(name: str | None) -> str | None:
    """A valid named profile, or None for the default one (as OpenClaw normalises it)."""
    if name is None or not PROFILE_NAME.fullmatch(name) or name.lower() == "default":
        return None
    return name


def _unit_profile(path: Path) -> str | None:
    stem = path.name.removesuffix(".service")
    return stem.removeprefix("openclaw-gateway-") if stem != "openclaw-gateway" else None


def _gateway(
    state_dir: Path,
    profile: str | None,
    units: tuple[Unit, ...],
    home: Path,
    host: HostView,
) -> NativeGateway:
    env: dict[str, str] = {}
    for unit in units:
        env |= unit.environment
    own_home = _unit_home(units[0], home) if units else home
    config_path = _config_path(state_dir, env, own_home)
    config, problem = read_config(config_path)
    base, source = _base_port(config, env, units, profile, config_path)
    pid, lock_port = _lock_owner(state_dir, host.alive)
    return NativeGateway(
        state_dir=state_dir,
        config_path=config_path,
        profile=profile,
        base=base,
        port_source=source,
        workspace=_workspace(config, env, state_dir, own_home),
        home=own_home,
        cdp_ports=_cdp_ports(config),
        cdp_urls=tuple(_cdp_urls(config)),
        units=tuple(unit.path for unit in units),
        pid=pid,
        listening=(lock_port or base) in host.listening if (lock_port or base) else False,
        problem=problem,
    )


def _config_path(state_dir: Path, env: Mapping[str, str], home: Path) -> Path:
    if env.get("OPENCLAW_CONFIG_PATH", "").strip():
        return _expand(env["OPENCLAW_CONFIG_PATH"], home)
    legacy = state_dir / LEGACY_CONFIG_FILE
    current = state_dir / CONFIG_FILE
    return legacy if legacy.is_file() and not current.exists() else current


def read_config(path: Path) -> tuple[dict[str, Any], str | None]:
    """The config as data, or ``{}`` and why it cannot be read. A missing config is fine: the
    gateway then runs on its defaults."""
    try:
        text = read_bounded(path, CONFIG_LIMIT).decode("utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"{shown(path)}: cannot be read: {getattr(exc, 'strerror', None) or exc}"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        if len(text) > JSON5_LIMIT:
            return {}, f"{shown(path)}: not plain JSON, and over 1 MiB to read as JSON5"
        try:
            data = json5.loads(text)
        except (ValueError, RecursionError) as exc:
            return {}, f"{shown(path)}: not valid JSON5: {exc}"
    if not isinstance(data, dict):
        return {}, f"{path}: not a JSON5 object (an openclaw.json holds one object)"
    return data, None


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 65535


def _base_port(
    config: dict[str, Any],
    env: Mapping[str, str],
    units: tuple[Unit, ...],
    profile: str | None,
    config_path: Path,
) -> tuple[int | None, str]:
    for unit in units:
        if unit.port is not None:
            return unit.port, f"--port in {unit.path}"
    env_port = env.get("OPENCLAW_GATEWAY_PORT", "").strip().rpartition(":")[2]
    if env_port.isdigit():
        return int(env_port), "OPENCLAW_GATEWAY_PORT of its unit"
    configured = _get(config, "gateway", "port")
    if profile is not None and profile.lower() == "dev":
        return DEV_PORT, "profile dev (openclaw --dev sets OPENCLAW_GATEWAY_PORT=19001)"
    if _is_port(configured):
        return configured, f"gateway.port in {config_path}"
    if profile is not None:
        return profile_port(profile), f"profile {profile!r} without gateway.port (name hash)"
    return DEFAULT_PORT, "default (no gateway.port)"


def _workspace(config: dict[str, Any], env: Mapping[str, str], state: Path, home: Path) -> Path:
    configured = _get(config, "agents", "defaults", "workspace")
    if isinstance(configured, str) and configured.strip():
        return _expand(configured, home)
    if env.get("OPENCLAW_WORKSPACE_DIR", "").strip():
        return _expand(env["OPENCLAW_WORKSPACE_DIR"], home)
    return state / "workspace"


def _cdp_ports(config: dict[str, Any]) -> dict[str, int]:
    profiles = _get(config, "browser", "profiles")
    if not isinstance(profiles, dict):
        return {}
    return {
        name: port
        for name, entry in sorted(profiles.items())
        if _is_port(port := _get(entry, "cdpPort"))
    }


def _cdp_urls(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    url = _get(config, "browser", "cdpUrl")
    if isinstance(url, str):
        yield "browser.cdpUrl", url
    profiles = _get(config, "browser", "profiles")
    for name, entry in sorted(profiles.items()) if isinstance(profiles, dict) else ():
        url = _get(entry, "cdpUrl")
        if isinstance(url, str):
            yield f"browser.profiles.{name}.cdpUrl", url


def _lock_owner(state_dir: Path, alive: Callable[[int], bool]) -> tuple[int | None, int | None]:
    """(pid, port) of the live owner of the state dir's gateway lock, if any."""
    for lock in sorted((state_dir / "tmp").glob(f"openclaw-*/{STATE_LOCK}")):
        try:
            payload = json.loads(read_bounded(lock, UNIT_LIMIT))
        except (OSError, ValueError):
            continue
        pid = payload.get("pid") if isinstance(payload, dict) else None
        if isinstance(pid, int) and alive(pid):
            port = payload.get("port")
            return pid, port if _is_port(port) else None
    return None, None
