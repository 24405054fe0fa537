"""The profiles file: what a user writes, as validated pydantic models.

Everything here is a contract with users' files: field names do not change lightly. Unknown keys
are errors, except inside ``openclaw:``, which is OpenClaw's own config (camelCase, as in
``openclaw.json``) and is passed through to the seed config. Only the parts of that fragment that
the port plan and the checks need are typed (``gateway.port``, ``agents.defaults.workspace``,
``browser.cdpUrl``, ``browser.profiles.<name>.cdpPort|cdpUrl``).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from openclaw_compose.core.resources import Resources

OPENCLAW_VERSION = "2026.9.6"
"""The OpenClaw release this project is tested with: the default ``openclaw_version``."""
IMAGE_REPOSITORY = "openclaw-compose/gateway"
"""Where ``openclaw-compose build`` (images/build.sh) tags the images it builds."""


def gateway_image(version: str, *, browser: bool = False) -> str:
    """The tag ``images/build.sh`` gives the image of OpenClaw ``version``."""
    return f"{IMAGE_REPOSITORY}:{version}" + ("-browser" if browser else "")


DEFAULT_IMAGE = gateway_image(OPENCLAW_VERSION)
DEFAULT_BROWSER_IMAGE = gateway_image(OPENCLAW_VERSION, browser=True)
DEFAULT_PROJECT = "openclaw"
DEFAULT_PUBLISH_ADDRESS = IPv4Address("127.0.0.1")
DEFAULT_AUTH_MODE = "token"
"""gateway.auth.mode of every seed config unless the profile's fragment says otherwise."""

_PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_NODE_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?")
_REGISTRY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?")
_NODE_LABEL = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,127})=([A-Za-z0-9._-]{1,128})")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_DNS_NAME = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
DEFAULT_FRONT_PORT = 443
PINNED_VARIABLES = frozenset(
    {
        "HOME",
        "OPENCLAW_PROFILE",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_STATE_DIR",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_WORKSPACE_DIR",
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_GATEWAY_TOKEN_FILE",
        "OPENCLAW_EAGER_BROWSER_CONTROL_SERVER",
        "OPENCLAW_COMPOSE_RELAY_PORTS",
        "OPENCLAW_COMPOSE_SECRETS",
        "OPENCLAW_COMPOSE_SECRETS_DIR",
        "OPENCLAW_COMPOSE_HOST_SERVICES",
    }
)
"""Variables openclaw-compose sets in every gateway container (isolation, token, relay,
secrets): a profile's ``env:`` or ``secrets:`` may not set them."""


def _profile_name(name: str) -> str:
    if name == "default":
        raise ValueError(
            "'default' is reserved by OpenClaw (it means no profile); choose another name"
        )
    if not _PROFILE_NAME.fullmatch(name):
        raise ValueError(
            f"profile name {name!r} is not allowed: use 1 to 64 lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    return name


def project_for(directory: Path) -> str:
    """``openclaw-<directory name>``, normalised as Compose normalises a project name from its
    directory (lowercase; only letters, digits, '-' and '_' kept): what ``init`` writes."""
    name = re.sub(r"[^a-z0-9_-]", "", directory.name.lower())
    return f"{DEFAULT_PROJECT}-{name}"[:63] if name else DEFAULT_PROJECT


def _node_name(node: str) -> str:
    if not (_NODE_HOSTNAME.fullmatch(node) or _NODE_LABEL.fullmatch(node)):
        raise ValueError(
            f"node {node!r} is neither a swarm node hostname (letters, digits, '.' and '-') "
            "nor a node label KEY=VALUE (letters, digits, '.', '_' and '-' on each side)"
        )
    return node


def check_version(version: str) -> str:
    if not _VERSION.fullmatch(version):
        raise ValueError(
            f"openclaw_version {version!r} is not an npm version of openclaw such as "
            f"{OPENCLAW_VERSION!r}"
        )
    return version


def version_key(version: str) -> tuple[int, ...]:
    """Orders OpenClaw versions (``2026.9.10`` after ``2026.9.6``); pre-release tags ignored."""
    return tuple(int(part) for part in version.partition("-")[0].split("."))


def node_label(node: str) -> tuple[str, str] | None:
    """``(key, value)`` when ``node`` names a swarm node label (``KEY=VALUE``), else None."""
    match = _NODE_LABEL.fullmatch(node)
    return (match.group(1), match.group(2)) if match else None


def _env_name(name: str) -> str:
    if not _ENV_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not an environment variable name: use uppercase letters, digits and "
            "'_', not starting with a digit"
        )
    if name in PINNED_VARIABLES:
        raise ValueError(
            f"{name} is set by openclaw-compose in every gateway container and cannot be "
            f"overridden; the pinned variables are {', '.join(sorted(PINNED_VARIABLES))}"
        )
    return name


def _matching(pattern: re.Pattern[str], refusal: str) -> AfterValidator:
    """A validator of names that must match ``pattern``; ``refusal`` says why one does not
    (``{name!r}`` in it is the name refused)."""

    def check(name: str) -> str:
        if not pattern.fullmatch(name):
            raise ValueError(refusal.format(name=name))
        return name

    return AfterValidator(check)


ProfileName = Annotated[str, AfterValidator(_profile_name)]
ServiceName = Annotated[
    str,
    _matching(
        _SERVICE_NAME,
        "host service name {name!r} is not valid: use up to 32 lowercase letters, digits, "
        "'-' and '_', starting with a letter or digit (e.g. models)",
    ),
]
DnsName = Annotated[
    str,
    _matching(
        _DNS_NAME,
        "hostname {name!r} is not a DNS name the front can serve: use lowercase labels of "
        "letters, digits and '-' separated by dots, e.g. main.example.org (no scheme, port "
        "or IP address)",
    ),
]
Version = Annotated[str, AfterValidator(check_version)]
Role = Literal["gateway", "rescue"]
"""``rescue`` gateways are upgraded first: one of them must answer while the others change."""
EnvName = Annotated[str, AfterValidator(_env_name)]
NodeName = Annotated[str, AfterValidator(_node_name)]
Network = Literal["host", "bridge"]
Egress = Literal["all", "none"]
ProjectName = Annotated[
    str,
    _matching(
        _PROJECT_NAME,
        "project name {name!r} is not a valid compose project name: use lowercase letters, "
        "digits, '-' or '_', starting with a letter or digit",
    ),
]


def _registry(registry: str) -> str:
    if not _REGISTRY.fullmatch(registry):
        raise ValueError(
            f"registry {registry!r} is not a registry address: use HOST or HOST:PORT (no "
            "scheme, no path), e.g. registry.example:5000"
        )
    return registry


Registry = Annotated[str, AfterValidator(_registry)]


VALUE_VARIABLE = re.compile(r"OPENCLAW_(?:TOKEN|SECRET)_[A-Z0-9_]+")
"""The ``.env`` variables that hold a value: a :func:`token_variable` or a :func:`secret_variable`
(not a :func:`digest_variable`)."""


def token_variable(profile: str) -> str:
    """The ``.env`` variable that holds a profile's gateway token."""
    return "OPENCLAW_TOKEN_" + _variable_part(profile)


def secret_variable(profile: str, name: str) -> str:
    """The ``.env`` variable that holds the value of a profile's secret ``name``."""
    return f"OPENCLAW_SECRET_{_variable_part(profile)}__{name}"


def digest_variable(profile: str) -> str:
    """The ``.env`` variable with a keyed digest of a profile's token and secret values: the
    gateway's container is recreated when it changes (see :mod:`.secretstore`)."""
    return "OPENCLAW_SECRETS_DIGEST_" + _variable_part(profile)


def _variable_part(profile: str) -> str:
    return profile.upper().replace("-", "_")


def _quoted_number(value: Any) -> Any:
    """``"28100"`` read as 28100: YAML users quote numbers, and Compose accepts them."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        return int(value)
    return value


Number = Annotated[StrictInt, BeforeValidator(_quoted_number)]
"""A whole number, written bare or quoted (``port: 28100`` or ``port: "28100"``); never a bool
or a float."""
TcpPort = Annotated[Number, Field(ge=1, le=65535)]


class _Strict(BaseModel):
    """Our own keys: unknown ones are typos, and typos must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Passthrough(BaseModel):
    """OpenClaw's own config: typed where we read it, everything else kept as written."""

    model_config = ConfigDict(extra="allow", frozen=True)


class BrowserProfileFragment(_Passthrough):
    cdpPort: Number | None = None
    cdpUrl: StrictStr | None = None


class BrowserFragment(_Passthrough):
    cdpUrl: StrictStr | None = None
    profiles: dict[str, BrowserProfileFragment] = Field(default_factory=dict)

    def cdp_urls(self) -> list[tuple[str, str]]:
        """(config key under ``browser``'s parent, URL) of every CDP URL that is set."""
        urls = [("browser.cdpUrl", self.cdpUrl)] + [
            (f"browser.profiles.{name}.cdpUrl", fragment.cdpUrl)
            for name, fragment in sorted(self.profiles.items())
        ]
        return [(key, url) for key, url in urls if url is not None]


class GatewayFragment(_Passthrough):
    port: Number | None = None


class AgentDefaultsFragment(_Passthrough):
    workspace: StrictStr | None = None


class AgentsFragment(_Passthrough):
    defaults: AgentDefaultsFragment = Field(default_factory=AgentDefaultsFragment)


class OpenClawFragment(_Passthrough):
    """A fragment of ``openclaw.json`` merged into the profile's seed config."""

    gateway: GatewayFragment = Field(default_factory=GatewayFragment)
    agents: AgentsFragment = Field(default_factory=AgentsFragment)
    browser: BrowserFragment = Field(default_factory=BrowserFragment)

    def as_config(self) -> dict[str, Any]:
        """The fragment exactly as the user wrote it (no defaults added)."""
        return self.model_dump(exclude_unset=True, mode="json")


class ProfileSpec(_Strict):
    """One gateway instance."""

    port: Number = Field(description="Base port of the gateway (gateway.port).")
    openclaw: OpenClawFragment = Field(
        default_factory=OpenClawFragment,
        description="OpenClaw config fragment (camelCase keys, as in openclaw.json), merged "
        "into the seed config.",
    )
    state_dir: Path | None = Field(
        default=None, description="Host directory bind-mounted as the state dir."
    )
    config_dir: Path | None = Field(
        default=None, description="Host directory bind-mounted as the config dir."
    )
    workspace_dir: Path | None = Field(
        default=None, description="Host directory bind-mounted as the workspace."
    )
    browser: StrictBool = Field(
        default=False,
        description="Run a headless Chromium for OpenClaw's managed browser (uses browser_image).",
    )
    role: Role = Field(
        default="gateway",
        description="'rescue': a gateway kept up to repair the others; upgrades change the "
        "rescues first, and never a rescue and another gateway at the same time.",
    )
    openclaw_version: Version | None = Field(
        default=None,
        description="OpenClaw version of this profile's image (default: the top-level one).",
    )
    image: StrictStr | None = Field(
        default=None,
        description="An image of your own for this profile (its browser too); overrides "
        "openclaw_version.",
    )
    env: dict[EnvName, StrictStr] = Field(
        default_factory=dict,
        description="Plain environment variables of the gateway process, written to the "
        "generated files as they are: never put a credential here, use 'secrets'.",
    )
    secrets: list[EnvName] = Field(
        default_factory=list,
        description="Names of secret environment variables of the gateway process; their "
        "values are set with 'openclaw-compose secret set PROFILE NAME' and kept in the "
        "project's private .env, never in the spec or a generated file.",
    )
    resources: Resources = Field(
        default_factory=Resources,
        description="Limits of the gateway's container: memory (a Docker size such as 3g), "
        "cpus and pids; what is left out gets the default (README, 'Limits').",
    )
    node: NodeName | None = Field(
        default=None,
        description="Swarm node the gateway runs on (its volumes live there): a node hostname, "
        "or a node label KEY=VALUE that one node carries. Ports must be disjoint among "
        "profiles on the same node only; profiles without 'node' share one node.",
    )

    hostname: DnsName | None = Field(
        default=None,
        description="The name the HTTPS front serves this gateway under (needs 'front:'); the "
        "gateway's Control UI then allows the origin https://HOSTNAME[:front port].",
    )
    egress: Egress = Field(
        default="all",
        description="'all': the gateway may open connections anywhere but to the other "
        "profiles and the host's loopback. 'none' (compose target, network: bridge): no route "
        "out of its own network; its ports are carried to the host by a relay container.",
    )
    host_services: dict[ServiceName, TcpPort] = Field(
        default_factory=dict,
        description="Services on the host's loopback this gateway may reach, by name: "
        "'models: 11434' makes 127.0.0.1:11434 inside the gateway's container reach "
        "127.0.0.1:11434 on the host (compose target, network: bridge); nothing else of the "
        "host's loopback is reachable, and no other profile reaches these.",
    )

    @model_validator(mode="after")
    def _one_port(self) -> Self:
        fragment_port = self.openclaw.gateway.port
        if fragment_port is not None and fragment_port != self.port:
            raise ValueError(
                f"openclaw.gateway.port ({fragment_port}) differs from port ({self.port}); "
                "set the base port with 'port' only and remove openclaw.gateway.port"
            )
        return self

    @model_validator(mode="after")
    def _distinct_variables(self) -> Self:
        repeated = sorted({name for name in self.secrets if self.secrets.count(name) > 1})
        if repeated:
            raise ValueError(f"secrets lists {', '.join(repeated)} more than once")
        both = sorted(set(self.secrets) & set(self.env))
        if both:
            raise ValueError(
                f"{', '.join(both)} is in both env and secrets; a variable is either a plain "
                "value (env) or a secret"
            )
        return self

    @model_validator(mode="after")
    def _distinct_host_ports(self) -> Self:
        ports = list(self.host_services.values())
        shared = sorted({port for port in ports if ports.count(port) > 1})
        if shared:
            raise ValueError(
                f"host_services names port {', '.join(map(str, shared))} more than once; "
                "give each service its own port"
            )
        return self

    def auth(self) -> Any:
        """``gateway.auth`` as the seed config will have it (token mode by default)."""
        auth = self.openclaw.as_config().get("gateway", {}).get("auth", {})
        return {"mode": DEFAULT_AUTH_MODE} | auth if isinstance(auth, dict) else auth

    def image_ref(self, spec: Spec) -> str:
        """The image this profile runs: its own, else one built for its own version, else the
        file's ``image``/``browser_image``, else the one built for the file's version."""
        if self.image is not None:
            return self.image
        custom = spec.browser_image if self.browser else spec.image
        if self.openclaw_version is None and custom is not None:
            return custom
        return gateway_image(self.version(spec), browser=self.browser)

    def version(self, spec: Spec) -> str:
        """The OpenClaw version the spec asks for (an image of your own may hold another)."""
        return self.openclaw_version or spec.openclaw_version

    def built_image(self, spec: Spec) -> tuple[str, bool] | None:
        """``(version, browser)`` when :meth:`image_ref` is one ``images/build.sh`` makes."""
        if self.image_ref(spec) == gateway_image(self.version(spec), browser=self.browser):
            return self.version(spec), self.browser
        return None

    def host_paths(self) -> dict[str, Path]:
        """The bind-mounted host directories this profile asks for, by role."""
        paths = {
            "state": self.state_dir,
            "config": self.config_dir,
            "workspace": self.workspace_dir,
        }
        return {role: path for role, path in paths.items() if path is not None}


class SwarmOptions(_Strict):
    """Settings of the swarm target only (``generate --target swarm``, ``deploy``)."""

    publish_browser_ports: StrictBool = Field(
        default=False,
        description="Also publish browser control (base+2) and the CDP ports. Swarm publishes "
        "on every address of the node, and CDP has no authentication: off unless you opt in.",
    )


class FrontCertificate(_Strict):
    """A certificate of your own for the front: PEM files on the host that runs it."""

    cert: Path = Field(description="PEM certificate (chain) naming every profile's hostname.")
    key: Path = Field(description="PEM private key of that certificate.")


FrontTls = Literal["local", "none"] | FrontCertificate


class FrontSpec(_Strict):
    """An HTTPS reverse proxy (HAProxy) in front of the gateways: one name per profile."""

    address: IPvAnyAddress = Field(
        default=DEFAULT_PUBLISH_ADDRESS,
        description="Address the front listens on; 0.0.0.0 to be reached from other machines.",
    )
    port: StrictInt = Field(default=DEFAULT_FRONT_PORT, description="Port the front listens on.")
    tls: FrontTls = Field(
        default="local",
        description="'local': a CA of the project's own signs the front's certificate "
        "(front/ca.crt to trust); {cert, key}: your files; 'none': plain HTTP, loopback only.",
    )


class Spec(_Strict):
    """The whole profiles file."""

    project: ProjectName = Field(default=DEFAULT_PROJECT, description="Compose project name.")
    openclaw_version: Version = Field(
        default=OPENCLAW_VERSION,
        description="OpenClaw version of every profile; 'openclaw-compose build' builds its "
        f"images ({IMAGE_REPOSITORY}:VERSION, and VERSION-browser).",
    )
    image: StrictStr | None = Field(
        default=None,
        description=f"Gateway image for every profile [default: {IMAGE_REPOSITORY}:"
        "<openclaw_version>].",
    )
    browser_image: StrictStr | None = Field(
        default=None,
        description="Gateway image with Chromium, for profiles with 'browser: true' [default: "
        f"{IMAGE_REPOSITORY}:<openclaw_version>-browser].",
    )
    network: Network = Field(
        default="bridge",
        description="'bridge': one network of its own per gateway, ports published by Docker on "
        "publish_address; no profile reaches another's ports or the host's loopback. 'host': "
        "gateways share the host's network and bind its loopback directly: every profile "
        "reaches every other's browser (CDP has no authentication) and the host's loopback.",
    )
    publish_address: IPvAnyAddress = Field(
        default=DEFAULT_PUBLISH_ADDRESS,
        description="Host address the ports are published on; 127.0.0.1 unless you need "
        "other hosts to reach the gateways.",
    )
    swarm: SwarmOptions = Field(
        default_factory=SwarmOptions, description="Settings of the swarm target only."
    )
    registry: Registry | None = Field(
        default=None,
        description="Swarm only: HOST:PORT of a Docker registry every node pulls from. "
        "'push' and 'deploy' push every image there, and the stack names each by digest.",
    )
    front: FrontSpec | None = Field(
        default=None,
        description="An HTTPS front that serves each profile with a 'hostname' under that name.",
    )
    profiles: dict[ProfileName, ProfileSpec] = Field(min_length=1)

    def images(self) -> dict[str, tuple[str, bool] | None]:
        """Every image the profiles run, with its ``(version, browser)`` build recipe when
        ``openclaw-compose build`` makes it (None: an image of your own)."""
        return {
            profile.image_ref(self): profile.built_image(self)
            for _, profile in sorted(self.profiles.items())
        }

    def at_version(self, version: str) -> Spec:
        """This spec with every profile on the images built for OpenClaw ``version``."""
        data = self.to_document() | {"openclaw_version": version}
        for key in ("image", "browser_image"):
            data.pop(key, None)
        for profile in data["profiles"].values():
            profile.pop("openclaw_version", None)
            profile.pop("image", None)
        return Spec.model_validate(data)

    def scoped(self, name: str) -> str:
        """``<project>_<name>``: how Compose and docker stack name an object of this project (a
        swarm service is ``scoped(profile)``, a volume ``scoped(f"{profile}-{role}")``)."""
        return f"{self.project}_{name}"

    def volume(self, profile: str, role: str) -> str:
        """The volume of ``profile``'s ``role`` tree (state, config, workspace)."""
        return self.scoped(f"{profile}-{role}")

    def upgrade_order(self) -> list[str]:
        """Profile names, rescues first (each group in file order)."""
        return sorted(self.profiles, key=lambda name: self.profiles[name].role != "rescue")

    def to_document(self) -> dict[str, Any]:
        """The spec as profiles-file data (what :func:`loading.validate` reads back)."""
        profiles: dict[str, Any] = {}
        for name, profile in self.profiles.items():
            entry: dict[str, Any] = {"port": profile.port}
            if fragment := profile.openclaw.as_config():
                entry["openclaw"] = fragment
            if profile.browser:
                entry["browser"] = True
            if profile.role != "gateway":
                entry["role"] = profile.role
            if profile.egress != "all":
                entry["egress"] = profile.egress
            for key in ("openclaw_version", "image", "node", "hostname"):
                if getattr(profile, key) is not None:
                    entry[key] = getattr(profile, key)
            if profile.env:
                entry["env"] = dict(profile.env)
            if profile.secrets:
                entry["secrets"] = list(profile.secrets)
            if profile.host_services:
                entry["host_services"] = dict(profile.host_services)
            if resources := profile.resources.model_dump(exclude_none=True):
                entry["resources"] = resources
            entry |= {f"{role}_dir": str(path) for role, path in profile.host_paths().items()}
            profiles[name] = entry
        images = {"image": self.image, "browser_image": self.browser_image}
        return {
            "project": self.project,
            "openclaw_version": self.openclaw_version,
            **{key: value for key, value in images.items() if value is not None},
            "network": self.network,
            "publish_address": str(self.publish_address),
            "swarm": self.swarm.model_dump(),
            **({"registry": self.registry} if self.registry else {}),
            **({"front": self.front.model_dump(mode="json")} if self.front else {}),
            "profiles": profiles,
        }

    @model_validator(mode="after")
    def _egress_needs_bridge(self) -> Self:
        closed = sorted(name for name, p in self.profiles.items() if p.egress == "none")
        if self.network == "host" and closed:
            raise ValueError(
                f"egress: none (profiles {', '.join(closed)}) needs 'network: bridge': with "
                "'network: host' a gateway uses the host's own network"
            )
        return self

    @model_validator(mode="after")
    def _host_services_need_bridge(self) -> Self:
        granted = sorted(name for name, p in self.profiles.items() if p.host_services)
        if self.network == "host" and granted:
            raise ValueError(
                f"host_services (profiles {', '.join(granted)}) needs 'network: bridge': with "
                "'network: host' every profile already reaches every service on the host's "
                "loopback; remove host_services or the network setting"
            )
        return self

    @model_validator(mode="after")
    def _host_network_binds(self) -> Self:
        if self.network == "host" and not (
            self.publish_address.is_loopback or self.publish_address.is_unspecified
        ):
            raise ValueError(
                f"publish_address {self.publish_address} needs 'network: bridge': with "
                "'network: host' a gateway binds either loopback or every address"
            )
        return self

    @model_validator(mode="after")
    def _front_service_name(self) -> Self:
        if self.front is not None and "front" in self.profiles:
            raise ValueError(
                "a profile named 'front' and 'front:' cannot go together: the front's service "
                "is named 'front'; rename the profile"
            )
        return self

    @model_validator(mode="after")
    def _distinct_token_variables(self) -> Self:
        seen: dict[str, str] = {}
        for name in self.profiles:
            variable = token_variable(name)
            if variable in seen:
                raise ValueError(
                    f"profiles {seen[variable]!r} and {name!r} differ only by '-' versus '_' "
                    f"and would share the token variable {variable}; rename one of them"
                )
            seen[variable] = name
        return self

    @model_validator(mode="after")
    def _distinct_secret_variables(self) -> Self:
        seen: dict[str, tuple[str, str]] = {}
        for profile_name, profile in self.profiles.items():
            for secret in profile.secrets:
                variable = secret_variable(profile_name, secret)
                if variable in seen:
                    other = seen[variable]
                    raise ValueError(
                        f"secret {other[1]} of profile {other[0]!r} and secret {secret} of "
                        f"profile {profile_name!r} would share the .env variable {variable}; "
                        "rename one of them"
                    )
                seen[variable] = (profile_name, secret)
        return self


DEFAULT_SPEC_DATA: dict[str, Any] = {
    "project": DEFAULT_PROJECT,
    "profiles": {"main": {"port": 18789}, "rescue": {"port": 19789, "role": "rescue"}},
}
"""The embedded default: the page's main gateway plus a rescue bot, 1000 ports apart."""
