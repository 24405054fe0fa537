"""The one poll loop: its rounds on a fake clock (look, then the timeout, then sleep)."""

from __future__ import annotations

import pytest

from openclaw_compose.polling import rounds, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("openclaw_compose.polling.time.monotonic", fake.monotonic)
    monkeypatch.setattr("openclaw_compose.polling.time.sleep", fake.sleep)
    return fake


def test_rounds_look_once_more_after_the_timeout(clock: Clock) -> None:
    assert list(rounds(3)) == [0, 1, 2, 3, 4]
    assert clock.slept == [1, 1, 1, 1]


def test_rounds_keep_their_interval_and_end_on_break(clock: Clock) -> None:
    seen = []
    for waited in rounds(10, interval=0.5):
        seen.append(waited)
        if waited >= 1:
            break
    assert seen == [0, 0.5, 1]
    assert clock.slept == [0.5, 0.5]


def test_the_timeout_must_have_passed_before_the_wait_ends(clock: Clock) -> None:
    assert list(rounds(0)) == [0, 1]
    assert clock.slept == [1]


def test_wait_until(clock: Clock) -> None:
    answers = iter([False, False, True])
    assert wait_until(lambda: next(answers), 10)
    assert clock.slept == [1, 1]
    looks: list[float] = []
    assert not wait_until(lambda: looks.append(clock.now), 2, interval=1)
    assert looks == [102, 103, 104, 105]
