"""The one poll loop: every wait of the package (for a gateway's ``/startupz``, a task, a
container gone, a log line, the output directory's lock) looks, then sleeps, on this clock.

A leaf next to :mod:`openclaw_compose.errors`: it imports nothing of the package, so every layer
(``engine/`` and ``core/`` too) may use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator


def rounds(timeout: float, interval: float = 1.0) -> Iterator[float]:
    """The seconds waited so far, once a round: a round now, then one every ``interval``
    seconds, until a round ends after ``timeout`` seconds have passed (so the last look comes
    after the timeout, never before it).

    The loop's body is the look: it ends the wait early with ``break`` or ``return``; a loop that
    runs out of rounds timed out (its ``else:``)."""
    start = time.monotonic()
    while True:
        yield time.monotonic() - start
        if time.monotonic() - start > timeout:
            return
        time.sleep(interval)


def wait_until(done: Callable[[], object], timeout: float, *, interval: float = 1.0) -> bool:
    """Look at ``done`` every ``interval`` seconds until it is true; False if it still is not
    after ``timeout`` seconds."""
    return any(done() for _ in rounds(timeout, interval))
