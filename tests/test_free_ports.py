"""``free_base``: the window it picks from can be narrowed, and a bad window is a clear error."""

from __future__ import annotations

import pytest

from openclaw_compose.core.ports import FOOTPRINT_SPAN
from openclaw_compose.testing import PORTS_VARIABLE, free_base, release_base


def test_free_base_stays_in_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORTS_VARIABLE, "41000-41500")
    base = free_base()
    try:
        assert base >= 41000
        assert base + FOOTPRINT_SPAN <= 41500
    finally:
        release_base(base)


def test_bad_window_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORTS_VARIABLE, "25000")
    with pytest.raises(RuntimeError, match="expected LOW-HIGH"):
        free_base()
