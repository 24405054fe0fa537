"""The one runtime pipeline, for every target: preflight -> generate -> start -> wait -> status.

``up`` (compose) and ``deploy`` (swarm) are the same function here; so are ``down`` and
``undeploy``, and both ``status`` commands. The order of the steps, and the promise that nothing
is written or started when any check or preflight finds an error, live only here; a target
supplies its hooks (:class:`openclaw_compose.targets.base.Runtime`). The CLI and
:mod:`openclaw_compose.testing` share these functions, so a test brings gateways up exactly the
way a user does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from openclaw_compose.core.checks import Problem, Report
from openclaw_compose.core.fragment_checks import fragment_problems
from openclaw_compose.core.front import front_urls
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.secretstore import missing_secrets
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.errors import NotReadyError, plural
from openclaw_compose.host.images import require_images
from openclaw_compose.host.probes import answer_state, probe_through
from openclaw_compose.polling import rounds
from openclaw_compose.project import CheckedSpec, generate
from openclaw_compose.runtime.converge import converge, wait_gateways
from openclaw_compose.runtime.ownership import claim, release, require_owner
from openclaw_compose.runtime.schemas import fetch_schemas
from openclaw_compose.targets.base import (
    GatewayStatus,
    LiveFn,
    Preflight,
    ProgressFn,
    Runtime,
    Target,
)


def check_target(
    checked: CheckedSpec, engine: Engine, extra: tuple[Problem, ...] = ()
) -> Preflight:
    """The spec's checks, ``extra`` and the target's engine-side checks together; raises when
    any fails."""
    found = checked.target.runtime(engine).preflight(checked.loaded.spec, checked.plan)
    Report(checked.report.problems + extra + found.problems).fail_unless_ok()
    return found


def preflight(checked: CheckedSpec, engine: Engine, directory: Path) -> Preflight:
    """Everything that must hold before a file is written: images, checks, every declared
    secret with a value in the project's store (``directory``), every ``openclaw:`` fragment
    valid for OpenClaw's schema of its image, the target's checks."""
    require_images(checked.loaded.spec, engine)
    missing = tuple(missing_secrets(checked.loaded.spec, directory, "error"))
    fetch_schemas(checked.loaded.spec, engine)
    return check_target(checked, engine, missing + tuple(fragment_problems(checked.loaded)))


def prepare(
    checked: CheckedSpec,
    directory: Path,
    engine: Engine,
    *,
    force: bool,
    progress: ProgressFn | None = None,
) -> Preflight:
    """Everything before starting: the preflight, the images where they run (checked there),
    then the files written, naming the images as the target distributed them (the writer's
    notes, a tightened ``.env`` mode say, go to ``progress``)."""
    say = progress or (lambda _: None)
    found = preflight(checked, engine, directory)
    spec = checked.loaded.spec
    distributed = checked.target.runtime(engine).distribute(spec, checked.plan, say)
    Report(distributed.problems).fail_unless_ok()
    if distributed.images:
        pinned = pin_images(spec, distributed.images)
        checked = replace(checked, loaded=replace(checked.loaded, spec=pinned))
    for note in generate(checked, directory, force=force).notes:
        say(f"note: {note}")
    return found


def pin_images(spec: Spec, images: Mapping[str, str]) -> Spec:
    """The spec with each profile's image replaced by the reference the nodes pull."""
    profiles = {
        name: profile.model_copy(
            update={"image": images.get(profile.image_ref(spec), profile.image_ref(spec))}
        )
        for name, profile in spec.profiles.items()
    }
    return spec.model_copy(update={"profiles": profiles})


def up(
    checked: CheckedSpec,
    directory: Path,
    engine: Engine,
    *,
    timeout: float,
    progress: ProgressFn,
    force: bool = False,
    live: LiveFn | None = None,
    profiles: Sequence[str] = (),
    adopt: bool = False,
) -> list[GatewayStatus]:
    """``up`` / ``deploy``: prepare, start, wait until every gateway is ready, report. With
    ``profiles``, the checks still cover the whole file, and only those gateways are started
    (the others are not touched)."""
    owner = require_owner(engine, checked.loaded, adopt=adopt)
    found = prepare(checked, directory, engine, force=force, progress=progress)
    spec = checked.loaded.spec
    claim(engine, owner, progress)
    runtime = checked.target.runtime(engine)
    if profiles:
        named = ", ".join(profiles)
        progress(f"starting {named} of {checked.target.name} project {spec.project!r}")
        for profile in profiles:
            runtime.start_gateway(spec, directory, profile)
        found = replace(found, urls={name: found.urls[name] for name in profiles})
    else:
        progress(
            f"starting {plural(len(checked.plan.footprints), 'gateway')} of "
            f"{checked.target.name} project {spec.project!r}"
        )
        runtime.start(spec, directory, progress)
    wait_ready(checked, engine, found, timeout=timeout, progress=progress, live=live)
    converge(spec, runtime, found.urls, timeout=timeout, progress=progress)
    wait_front(spec, runtime, found.urls, timeout=timeout, progress=progress)
    return status(spec, checked.plan, engine, checked.target)


def wait_front(
    spec: Spec, runtime: Runtime, started: Iterable[str], *, timeout: float, progress: ProgressFn
) -> None:
    """Until the HTTPS front serves each started profile's ``/healthz`` under its name, where
    this machine reaches the front: a browser opened once ``up`` returns gets its gateway, not
    the front's 503 while it still looks the gateways up (swarm: through Docker's DNS)."""
    address = runtime.front_address(spec)
    urls = {p: url for p, url in front_urls(spec).items() if p in started}
    if address is None or not urls:
        return
    progress(f"waiting up to {timeout:.0f} s for the front to serve {', '.join(urls.values())}")
    start, waiting = time.monotonic(), dict(urls)
    for _ in rounds(timeout):
        waiting = {p: url for p, url in waiting.items() if probe_through(url, address) != 200}
        if not waiting:
            progress(f"the front serves them, {time.monotonic() - start:.1f} s later")
            return
    raise NotReadyError(
        f"the front does not serve {', '.join(waiting.values())} after {timeout:.0f} s (the "
        "gateways are ready and keep running); see 'openclaw-compose logs' and the front's "
        "container"
    )


def wait_ready(
    checked: CheckedSpec,
    engine: Engine,
    found: Preflight,
    *,
    timeout: float,
    progress: ProgressFn,
    live: LiveFn | None = None,
) -> None:
    """Wait until the start has settled and every ``/startupz`` answers 200, all within
    ``timeout`` (ready times count from the start of the wait); else say why, at once when a
    gateway crash loops or exits. ``live`` gets each profile's state and the time waited so
    far, every second."""
    spec = checked.loaded.spec
    runtime = checked.target.runtime(engine)
    progress(f"waiting up to {timeout:.0f} s for /startupz of {', '.join(found.urls)}")
    start = time.monotonic()

    def show(answers: Mapping[str, int | None]) -> None:
        if live is not None:
            waited = time.monotonic() - start
            live([live_line(name, answer_state(code), waited) for name, code in answers.items()])

    profiles = list(found.urls)
    for _ in rounds(timeout):
        if runtime.settled(spec, profiles) or any(runtime.crashed(spec, p) for p in profiles):
            break  # a crash loop never settles: the wait below says so at once
        show(dict.fromkeys(found.urls, -1))
    remaining = timeout - (time.monotonic() - start)
    wait_gateways(
        spec, runtime, found.urls, remaining, progress, since=start, total=timeout, on_poll=show
    )


def live_line(profile: str, state: str, waited: float) -> str:
    """A profile's line while a command waits for it: its state and the time waited so far."""
    return f"{profile}: {state} ({waited:.0f} s)"


def status(spec: Spec, plan: PortPlan, engine: Engine, target: Target) -> list[GatewayStatus]:
    return target.runtime(engine).gateways(spec, plan)


def down(
    loaded: LoadedSpec,
    directory: Path,
    engine: Engine,
    target: Target,
    *,
    volumes: bool,
    progress: ProgressFn,
) -> str:
    """``down`` / ``undeploy``: stop and remove the gateways; volumes only with ``volumes``
    (and then the project's owner record: nothing of it is left to protect)."""
    owner = require_owner(engine, loaded)
    done = target.runtime(engine).stop(loaded.spec, directory, volumes=volumes, progress=progress)
    if volumes:
        release(engine, owner)
    return done
