"""The front's files in a rendered project, on both targets: its HAProxy config, and with
``tls: local`` the local CA and the server certificate it signs."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.front import FRONT_CONFIG, FRONT_DIGEST_VARIABLE, hostnames
from openclaw_compose.core.frontcerts import (
    CA_CERT,
    PRIVATE,
    SERVER_CERT,
    SERVER_KEY,
    Reader,
    local_material,
)
from openclaw_compose.core.spec import Spec


def with_front(project: RenderedProject, spec: Spec, config: str) -> RenderedProject:
    """``project`` with the front's files: ``config`` (its HAProxy config) and, with
    ``tls: local``, the local CA and the certificate it signs (made by the writer from what
    the directory holds); their digest is ``.env``'s :data:`FRONT_DIGEST_VARIABLE`."""
    if spec.front is None:
        return project
    files = dict(project.files) | {FRONT_CONFIG: config}
    watched: tuple[str, ...] = (FRONT_CONFIG,)
    derived = None
    if spec.front.tls == "local":
        names = sorted(set(hostnames(spec).values()))
        watched += (CA_CERT, SERVER_CERT, SERVER_KEY)
        derived = partial(_local_tls, names, spec.project)
    return replace(
        project,
        files=files,
        derived=derived,
        private=PRIVATE,
        watched={FRONT_DIGEST_VARIABLE: watched},
    )


def _local_tls(names: list[str], project: str, current: Reader) -> dict[str, str]:
    return {name: data.decode() for name, data in local_material(names, current, project).items()}
