"""Converging running gateways' config to the profiles file, after every ``up``/``deploy``
(see :mod:`openclaw_compose.core.converge` for what is owned and what is kept).

Per profile: read its live config and the record of the last run from its running gateway,
diff, and when something differs apply it with ``openclaw config patch`` (the gateway, which
watches its config file, hot-reloads it, or restarts itself where a key needs it: OpenClaw's
default ``gateway.reload.mode: hybrid``), then record what was applied. A profile whose config
already matches is not touched; only the record is written when it is missing or stale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from openclaw_compose.core.contract import RESTART_HINT, profile_config
from openclaw_compose.core.converge import ConfigChange, diff, parse_config, patch_document
from openclaw_compose.core.spec import Spec
from openclaw_compose.errors import NotReadyError
from openclaw_compose.host.probes import wait_started
from openclaw_compose.polling import rounds
from openclaw_compose.targets.base import ProgressFn, Runtime

RELOAD_MARK = "[reload]"
"""The gateway's log lines about a config change it noticed."""
RELOAD_DONE = ("hot reload applied", "reload skipped", "restart")
RELOAD_WAIT = 30.0
"""Seconds to wait for the gateway to say it applied a patch."""


@dataclass(frozen=True)
class Planned:
    """One profile's config change, or None when its gateway cannot be read (not running, on
    another node): then its seed applies when it first starts."""

    profile: str
    change: ConfigChange | None


def planned(spec: Spec, runtime: Runtime) -> list[Planned]:
    """What :func:`converge` would change, per profile (reads only)."""
    result = []
    for profile in spec.profiles:
        live = runtime.read_config(spec, profile)
        change = None
        if live is not None and live.config is not None:
            desired = profile_config(spec, profile)
            change = diff(desired, parse_config(live.config), parse_config(live.applied))
        result.append(Planned(profile, change))
    return result


def converge(
    spec: Spec,
    runtime: Runtime,
    urls: Mapping[str, str],
    *,
    timeout: float,
    progress: ProgressFn,
) -> list[str]:
    """Apply the owned keys of every profile of ``urls`` (the gateways just started) to its
    running gateway; the profiles changed."""
    touched = []
    for profile in urls:
        live = runtime.read_config(spec, profile)
        if live is None:
            progress(f"{profile}: its gateway is out of reach here; its config is not converged")
            continue
        if live.config is None:  # the entrypoint seeds it before the gateway starts
            progress(f"{profile}: its container has no config file; its config is not converged")
            continue
        desired = profile_config(spec, profile)
        applied = parse_config(live.applied)
        change = diff(desired, parse_config(live.config), applied)
        if not change:
            if applied != desired or not live.recorded:
                runtime.apply_config(spec, profile, {}, desired)
            continue
        progress(f"{profile}: config: {change.describe()}")
        before = _reload_lines(runtime, spec, profile)
        output = runtime.apply_config(spec, profile, patch_document(desired, change), desired)
        touched.append(profile)
        restart = RESTART_HINT in output
        progress(
            f"{profile}: "
            + ("the gateway restarts to apply it" if restart else "applied without a restart")
        )
        _await_reload(runtime, spec, profile, before, progress)
    if touched:
        wait_gateways(spec, runtime, {p: urls[p] for p in touched}, timeout, progress)
    return touched


def _reload_lines(runtime: Runtime, spec: Spec, profile: str) -> set[str]:
    return {line for line in runtime.last_logs(spec, profile).splitlines() if RELOAD_MARK in line}


def _await_reload(
    runtime: Runtime, spec: Spec, profile: str, before: set[str], progress: ProgressFn
) -> None:
    """Until the gateway logs that it applied (or skipped) the change: its log lines carry
    their time, so new ones are told from old ones."""
    for _ in rounds(RELOAD_WAIT):
        for line in _reload_lines(runtime, spec, profile) - before:
            if any(done in line for done in RELOAD_DONE):
                if "skipped" in line:
                    progress(f"{profile}: WARNING: the gateway did not apply it: {line.strip()}")
                return
    progress(f"{profile}: the gateway did not log a reload within {RELOAD_WAIT:.0f} s")


def wait_gateways(
    spec: Spec,
    runtime: Runtime,
    urls: Mapping[str, str],
    timeout: float,
    progress: ProgressFn,
    *,
    since: float | None = None,
    total: float | None = None,
    on_poll: Callable[[Mapping[str, int | None]], None] | None = None,
) -> None:
    """Wait until every gateway of ``urls`` answers ``/startupz``; stop at once when one crash
    loops or exits (:meth:`~openclaw_compose.targets.base.Runtime.crashed`), with its exit
    code and last log lines."""
    crashed: dict[str, str] = {}

    def failing(profile: str) -> bool:
        reason = runtime.crashed(spec, profile)
        if reason is not None:
            crashed[profile] = reason
        return reason is not None

    failed = wait_started(
        urls,
        timeout,
        lambda profile, seconds: progress(f"{profile} ready in {seconds:.1f} s"),
        since=since,
        failing=failing,
        on_poll=on_poll,
    )
    if crashed:
        raise NotReadyError(
            "\n".join(
                f"{profile} will not start: {reason}.\n--- last log lines of {profile}:\n"
                + runtime.last_logs(spec, profile)
                for profile, reason in sorted(crashed.items())
            )
            + "\nThe other gateways keep running. See 'openclaw-compose status'."
        )
    if failed:
        raise NotReadyError(
            f"not ready after {total or timeout:.0f} s: {', '.join(failed)}. The gateways keep "
            "running.\n" + runtime.explain(spec, failed)
        )
