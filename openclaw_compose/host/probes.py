"""The gateway's own HTTP probes, unauthenticated, on its base port.

``/healthz`` answers once the process is alive, ``/startupz`` once startup is done (upstream's
readiness signal), ``/readyz`` once channels are healthy too (upstream's
``docs/gateway/health.md``).
"""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping

from openclaw_compose.polling import rounds

PROBES = ("healthz", "startupz", "readyz")


def connect_host(publish_address: str) -> str:
    """Where to reach a port published on ``publish_address`` from this host."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(publish_address, publish_address)
    return f"[{host}]" if ":" in host else host


def probe(base_url: str, name: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of ``GET {base_url}/{name}``, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"{base_url}/{name}", timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def probe_through(
    url: str, address: str, name: str = "healthz", timeout: float = 2.0
) -> int | None:
    """:func:`probe` of ``url`` (the HTTPS front's ``https://HOSTNAME[:PORT]``) at ``address``
    instead of where HOSTNAME points: the ``Host`` header says which gateway; the certificate
    is not checked (only whether the front routes to a gateway that answers)."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    request = urllib.request.Request(
        f"{parts.scheme}://{connect_host(address)}:{port}/{name}", headers={"Host": parts.netloc}
    )
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def answer_state(code: int | None) -> str:
    """A gateway's state from its last ``/startupz`` answer (-1: still being started)."""
    if code == -1:
        return "starting"
    if code == 200:
        return "ready"
    return "no answer yet" if code is None else f"/startupz answers {code}"


def steadily(code: int | None, answered: int, steady: int) -> str:
    """The state while a wait wants ``steady`` 200s in a row: the last answer, and (when more
    than one is wanted) how many in a row so far."""
    state = answer_state(code)
    return state if steady <= 1 else f"{state} ({answered} of {steady} in a row)"


def wait_started(
    urls: Mapping[str, str],
    timeout: float,
    on_ready: Callable[[str, float], None],
    *,
    interval: float = 1.0,
    since: float | None = None,
    failing: Callable[[str], bool] = lambda _: False,
    on_poll: Callable[[Mapping[str, int | None]], None] | None = None,
) -> list[str]:
    """Poll ``/startupz`` of every profile until all answer 200; the ones that never did. The
    wait ends early when ``failing`` says a profile that did not answer never will.

    Ready times are reported from ``since`` (a ``time.monotonic()`` value; default now);
    ``on_poll`` gets every profile's last answer (None: nothing answered) after each round."""
    start = time.monotonic() if since is None else since
    pending = dict(urls)
    answers: dict[str, int | None] = dict.fromkeys(urls)
    for _ in rounds(timeout, interval):
        if not pending:
            break
        for profile, url in list(pending.items()):
            answers[profile] = probe(url, "startupz")
            if answers[profile] == 200:
                on_ready(profile, time.monotonic() - start)
                del pending[profile]
        if on_poll is not None:
            on_poll(answers)
        crashed = [profile for profile in pending if failing(profile)]
        if crashed or not pending:
            break
    return sorted(pending)
