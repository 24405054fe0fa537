"""``free_base``: the window it picks from can be narrowed, and a bad window is a clear error.

The windows lie below the kernel's ephemeral range (32768 and up), where any client connection on
the machine may hold a port for a moment."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw_compose.core.ports import FOOTPRINT_SPAN, RECOMMENDED_SPACING
from openclaw_compose.testing import PORTS_VARIABLE, free_base, release_base

from .helpers import write_tree


def test_free_base_stays_in_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORTS_VARIABLE, "31000-31500")
    base = free_base()
    try:
        assert base >= 31000
        assert base + FOOTPRINT_SPAN <= 31500
    finally:
        release_base(base)


def test_free_base_avoids_native_footprints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_tree(tmp_path, {".openclaw/openclaw.json": "{gateway: {port: 31000}}"})
    monkeypatch.setenv("OPENCLAW_HOME", str(tmp_path))
    monkeypatch.setenv(PORTS_VARIABLE, "31000-31240")  # two blocks; the native has the first
    for _ in range(10):  # the search starts at a random block: without the rule, half go wrong
        base = free_base()
        release_base(base)
        assert base == 31000 + RECOMMENDED_SPACING


def test_bad_window_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORTS_VARIABLE, "25000")
    with pytest.raises(RuntimeError, match="expected LOW-HIGH"):
        free_base()
