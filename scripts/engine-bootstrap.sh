#!/usr/bin/env bash
# Make a Docker engine and the Compose v2 CLI plugin available on a Debian 12
# machine without systemd, idempotently: every step checks first and only
# acts when something is missing, so it is safe on a brand-new machine and on
# one that already has everything.
#
#   scripts/engine-bootstrap.sh
#
# Environment overrides:
#   DEBIAN_MIRROR         Debian mirror URL (default: the one apt already uses)
#   COMPOSE_SUITE         Debian suite to take Compose v2 from (default: trixie)
#   DOCKERD_LOG           dockerd log file (default: /var/log/dockerd.log)
#   DOCKERD_WAIT_SECONDS  how long to wait for the daemon (default: 60)
#   DAEMON_CONFIG         dockerd's config file (default: /etc/docker/daemon.json)
set -euo pipefail

COMPOSE_SUITE="${COMPOSE_SUITE:-trixie}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKERD_WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"
COMPOSE_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
DAEMON_CONFIG="${DAEMON_CONFIG:-/etc/docker/daemon.json}"
ENGINE_INSTALLED=""

export DEBIAN_FRONTEND=noninteractive

# Temporary directory to remove however the script ends.
CLEANUP_DIR=""
cleanup() { if [ -n "$CLEANUP_DIR" ]; then rm -rf "$CLEANUP_DIR"; fi; }
trap cleanup EXIT

say() { printf 'engine-bootstrap: %s\n' "$*"; }
die() { printf 'engine-bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

# Root only when there is something to install or start: a user whose engine already runs
# (e.g. in the docker group) passes straight through.
need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root to $1"; }

# The Debian mirror this machine's apt already uses. Asking apt itself
# (indextargets) parses both sources.list and deb822 *.sources files exactly
# as apt does; we take the repository that serves the release's main suite
# (not -updates/-security). Falls back to deb.debian.org.
debian_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "${DEBIAN_MIRROR%/}"
        return
    fi
    local codename uri
    # shellcheck source=/dev/null
    codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-bookworm}")"
    # shellcheck disable=SC2016  # $(...) is apt's format syntax, not shell
    uri="$(apt-get indextargets --no-release-info \
            --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null |
        awk -v s="$codename" '$2 == s { print $1; exit }')" || true
    printf '%s\n' "${uri:-http://deb.debian.org/debian}" | sed 's:/*$::'
}

# --- 1. engine -------------------------------------------------------------
install_engine() {
    if command -v dockerd >/dev/null 2>&1; then
        say "engine: dockerd already installed ($(dockerd --version))"
        return
    fi
    need_root "install docker.io"
    say "engine: dockerd missing, installing Debian's docker.io with apt"
    apt-get update -q
    # docker.io would also pull in a docker CLI (20.10); /usr/local/bin/docker
    # (28.x) stays first on PATH and talks to the 20.10 daemon by negotiating
    # the API version down to 1.41, so no DOCKER_API_VERSION is needed.
    apt-get install -y -q --no-install-recommends docker.io
    command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd not found"
    say "engine: installed ($(dockerd --version))"
    ENGINE_INSTALLED=1
}

# --- 1b. daemon config ------------------------------------------------------
# Published ports with Docker's userland proxy cost one docker-proxy process
# per port (103 per gateway); with "userland-proxy": false iptables forwards
# them (127.0.0.1 included, through route_localnet). An engine we install
# gets that setting; a daemon.json someone else wrote is never changed.
configure_daemon() {
    if [ -e "$DAEMON_CONFIG" ]; then
        if grep -Eq '"userland-proxy"[[:space:]]*:[[:space:]]*false' "$DAEMON_CONFIG"; then
            say "daemon config: $DAEMON_CONFIG has \"userland-proxy\": false"
        else
            say "daemon config: NOTE: $DAEMON_CONFIG is yours and left as it is; without" \
                "\"userland-proxy\": false every published port costs a docker-proxy process" \
                "(103 per gateway): add it and restart dockerd"
        fi
        return
    fi
    if [ -z "$ENGINE_INSTALLED" ]; then
        say "daemon config: no $DAEMON_CONFIG, and the engine is not ours to configure; NOTE:" \
            "\"userland-proxy\": false there saves a docker-proxy process per published port"
        return
    fi
    mkdir -p "$(dirname "$DAEMON_CONFIG")"
    printf '{"userland-proxy": false}\n' >"$DAEMON_CONFIG"
    say "daemon config: wrote $DAEMON_CONFIG with \"userland-proxy\": false"
}

# --- 2. Compose v2 ----------------------------------------------------------
# bookworm only has Compose v1 (Python). trixie packages Compose v2 as a single
# static binary, so we fetch trixie's .deb with a private, throw-away apt
# configuration (own source list, own lists dir, no pkgcache written) and
# extract just that binary. The system's sources and package state are untouched.
install_compose() {
    if docker compose version >/dev/null 2>&1; then
        say "compose: already available ($(docker compose version --short 2>/dev/null || docker compose version))"
        return
    fi
    need_root "install the Compose v2 plugin"
    local mirror tmp deb
    mirror="$(debian_mirror)"
    say "compose: missing, fetching docker-compose from Debian $COMPOSE_SUITE ($mirror)"
    tmp="$(mktemp -d)"
    CLEANUP_DIR="$tmp"
    mkdir -p "$tmp/sources.list.d" "$tmp/lists/partial" "$tmp/dl"
    printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$mirror" "$COMPOSE_SUITE" \
        >"$tmp/sources.list"
    # apt fetches as the unprivileged _apt user: let it write where it downloads.
    chmod 755 "$tmp"
    if id _apt >/dev/null 2>&1; then chown _apt "$tmp/lists/partial" "$tmp/dl"; fi
    local apt_opts=(
        -o "Dir::Etc::sourcelist=$tmp/sources.list"
        -o "Dir::Etc::sourceparts=$tmp/sources.list.d"
        -o "Dir::State::Lists=$tmp/lists"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Get::List-Cleanup=0"
    )
    apt-get "${apt_opts[@]}" update -q
    (cd "$tmp/dl" && apt-get "${apt_opts[@]}" download docker-compose)
    deb="$(find "$tmp/dl" -name 'docker-compose_*.deb' | head -n1)"
    [ -n "$deb" ] || die "apt-get download docker-compose produced no .deb"
    dpkg -x "$deb" "$tmp/root"
    [ -x "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" ] ||
        die "$(basename "$deb") has no usr/libexec/docker/cli-plugins/docker-compose"
    install -D -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_PLUGIN"
    docker compose version >/dev/null 2>&1 ||
        die "installed $COMPOSE_PLUGIN but 'docker compose version' still fails"
    say "compose: installed $(basename "$deb") -> $COMPOSE_PLUGIN ($(docker compose version --short))"
    rm -rf "$tmp"
    CLEANUP_DIR=""
}

# --- 3. daemon ---------------------------------------------------------------
# No systemd here: run dockerd ourselves, detached from this shell (setsid +
# nohup) so it outlives the script, then wait until the API answers.
start_daemon() {
    if docker info >/dev/null 2>&1; then
        say "daemon: already running (server $(docker version --format '{{.Server.Version}}, API {{.Server.APIVersion}}'))"
        return
    fi
    # A dockerd that is still starting up (e.g. from a concurrent run or the
    # package's init script) must not get a twin: just wait for it.
    need_root "start dockerd"
    if pgrep -x dockerd >/dev/null 2>&1; then
        say "daemon: dockerd process found but not answering yet, waiting"
    else
        say "daemon: starting dockerd in the background (log: $DOCKERD_LOG)"
        mkdir -p "$(dirname "$DOCKERD_LOG")"
        nohup setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    fi
    local waited=0
    until docker info >/dev/null 2>&1; do
        if [ "$waited" -ge "$DOCKERD_WAIT_SECONDS" ]; then
            tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
            die "dockerd did not answer within ${DOCKERD_WAIT_SECONDS}s (see $DOCKERD_LOG)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "daemon: up after ${waited}s (server $(docker version --format '{{.Server.Version}}, API {{.Server.APIVersion}}'))"
}

install_engine
configure_daemon
install_compose
start_daemon
say "done: $(docker version --format 'client {{.Client.Version}} / server {{.Server.Version}} (API {{.Server.APIVersion}})'), compose $(docker compose version --short)"
