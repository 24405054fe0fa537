"""Images through a registry: every node of a swarm pulls the very same bytes.

A swarm node runs only images it has. Without a registry each node needs them loaded by hand
(``docker save | docker load``), and two nodes can end up with two different builds under one
tag. With ``registry:`` in the profiles file, ``push`` (and ``deploy``) tags every image the
stack uses as ``REGISTRY/NAME:TAG``, pushes it from the engine the CLI talks to, and the stack
names it ``REGISTRY/NAME@sha256:...``: a digest, so that every node pulls the same image, and a
rebuilt image is a new reference (a redeploy rolls it out).
"""

from __future__ import annotations

import time

from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.targets.base import ProgressFn


def stack_images(spec: Spec) -> dict[str, list[str]]:
    """Every image the stack runs, with the profiles that run it."""
    users: dict[str, list[str]] = {}
    for name, profile in spec.profiles.items():
        users.setdefault(profile.image_ref(spec), []).append(name)
    return dict(sorted(users.items()))


def registry_repository(registry: str, image: str) -> tuple[str, str]:
    """``(REGISTRY/NAME, TAG)`` for a local image name ``[HOST[:PORT]/]NAME[:TAG]``; a
    registry already in the name is replaced (the image is pushed from wherever it is)."""
    name, tag = image, "latest"
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = image.rpartition(":")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    return f"{registry}/{name}", tag


def push_images(spec: Spec, engine: Engine, progress: ProgressFn) -> dict[str, str]:
    """Push every image of the stack to ``spec.registry``; the digest reference of each."""
    assert spec.registry is not None
    pinned = {}
    for image in stack_images(spec):
        repository, tag = registry_repository(spec.registry, image)
        progress(f"pushing {image} to {repository}:{tag}")
        start = time.monotonic()
        digest = engine.containers.push(image, repository, tag)
        pinned[image] = f"{repository}@{digest}"
        progress(f"pushed {pinned[image]} in {time.monotonic() - start:.1f} s")
    return pinned


def node_reference(spec: Spec, image: str) -> str:
    """How a node gets ``image``: with ``registry:``, by the registry's name for it (``deploy``
    and ``push`` put it there), unless it names a digest already; without, as it is (each node
    has it)."""
    if spec.registry is None or "@" in image:
        return image
    repository, tag = registry_repository(spec.registry, image)
    return f"{repository}:{tag}"
