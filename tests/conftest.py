from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory (the CLI reads ./openclaw-compose.yaml by default)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
