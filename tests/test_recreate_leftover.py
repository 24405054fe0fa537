"""Which containers of a project ``up`` removes as what a kill inside Compose's recreate left
(``ContainersApi.remove_leftovers``): both Compose namings, and never a project's own container,
also when the project's name itself looks like one."""

from __future__ import annotations

import pytest

from openclaw_compose.engine.containers import recreate_leftover


@pytest.mark.parametrize(
    ("name", "project", "leftover"),
    [
        ("p-main-1", "p", False),
        ("e3a1d4a98abc_p-main-1", "p", True),  # the new one, named after the old one's ID
        ("9fdf92bffac6_p-rescue-1", "p", True),
        ("e3a1d4a98abc_q-main-1", "p", False),  # another project's
        ("e3a1d4a98ab_p-main-1", "p", False),  # 11 digits
        ("E3A1D4A98ABC_p-main-1", "p", False),
        ("0123456789ab_foo-main-1", "0123456789ab_foo", False),  # the project's own
        ("e3a1d4a98abc_0123456789ab_foo-main-1", "0123456789ab_foo", True),
        ("e3a1d4a98abc_p-main-1", "p.", False),
    ],
)
def test_recreate_leftover(name: str, project: str, leftover: bool) -> None:
    assert recreate_leftover(name, project) is leftover
