#!/bin/sh
# Container entrypoint of openclaw-compose gateway images (runs under tini).
#
# openclaw-compose mounts the generated config as a read-only *seed* at
# /run/openclaw-compose/seed.json. The gateway rewrites its own config (it
# fills in defaults and, e.g., controlUi.allowedOrigins), so it must live in
# the writable config volume: copy the seed there on first start only. An
# existing config is never overwritten, so edits (by the user or by the
# gateway) survive restarts.
set -eu

SEED=/run/openclaw-compose/seed.json
CONFIG="${OPENCLAW_CONFIG_PATH:-/home/node/.openclaw-config/openclaw.json}"

if [ ! -e "$CONFIG" ] && [ -r "$SEED" ]; then
    mkdir -p "$(dirname "$CONFIG")"
    # Copy to a temp file and rename, so a crash never leaves a half-written
    # config that would then count as "existing". umask 077: configs may hold
    # secrets.
    tmp="$CONFIG.seed.$$"
    (umask 077 && cp "$SEED" "$tmp")
    mv "$tmp" "$CONFIG"
    echo "openclaw-compose: seeded $CONFIG from $SEED" >&2
fi

# Secrets from files. Values never go into the container's configured
# environment (docker inspect, docker service inspect): openclaw-compose
# mounts each as a file (a compose or swarm secret) and this exports it, for
# the gateway process only, under its variable name.
#   OPENCLAW_COMPOSE_SECRETS=NAME[,NAME...]  export NAME from
#       $OPENCLAW_COMPOSE_SECRETS_DIR/NAME (default /run/secrets/NAME); the
#       gateway token is one of them (OPENCLAW_GATEWAY_TOKEN).
#   OPENCLAW_GATEWAY_TOKEN_FILE=PATH  the same for the token alone (the
#       Docker *_FILE convention; stacks of earlier openclaw-compose versions).
# A variable that is already set is refused, not overwritten: one of the two
# values would be silently ignored. Trailing line breaks are dropped.
die() { echo "openclaw-compose: ERROR: $*" >&2; exit 1; }

export_secret() { # NAME FILE WHAT
    eval "already=\${$1+set}"
    [ -z "$already" ] || die "$1 is set in the environment and also comes from $3; set only one"
    [ -r "$2" ] || die "$3: $2 is not a readable file"
    value="$(cat "$2")"
    [ -n "$value" ] || die "$3: $2 is empty"
    export "$1=$value"
    unset value
}

export_secrets() {
    if [ -n "${OPENCLAW_GATEWAY_TOKEN_FILE:-}" ]; then
        export_secret OPENCLAW_GATEWAY_TOKEN "$OPENCLAW_GATEWAY_TOKEN_FILE" OPENCLAW_GATEWAY_TOKEN_FILE
        unset OPENCLAW_GATEWAY_TOKEN_FILE
    fi
    if [ -n "${OPENCLAW_COMPOSE_SECRETS:-}" ]; then
        old_ifs="$IFS"
        IFS=,
        for name in $OPENCLAW_COMPOSE_SECRETS; do
            IFS="$old_ifs"
            case "$name" in
                '' | [0-9]* | *[!A-Z0-9_]*) die "OPENCLAW_COMPOSE_SECRETS: '$name' is not a variable name" ;;
            esac
            export_secret "$name" "${OPENCLAW_COMPOSE_SECRETS_DIR:-/run/secrets}/$name" OPENCLAW_COMPOSE_SECRETS
        done
        IFS="$old_ifs"
        unset OPENCLAW_COMPOSE_SECRETS OPENCLAW_COMPOSE_SECRETS_DIR
    fi
}

export_secrets

# 'openclaw-compose cli PROFILE -- ARGS' runs 'openclaw-compose-entrypoint
# --exec ARGS' in the running container: the openclaw CLI with the same
# secrets as the gateway, and no seeding or relay.
if [ "${1:-}" = "--exec" ]; then
    shift
    exec openclaw "$@"
fi

# Loopback relay. The browser control service (gateway port + 2) and the
# Chrome DevTools (CDP) ports listen on 127.0.0.1 inside the container, which
# Docker's port publishing never reaches (it forwards to the container's own
# address). With OPENCLAW_COMPOSE_RELAY_PORTS set (comma-separated ports and
# inclusive ranges, e.g. 18791,18800-18899), haproxy listens on those ports on
# every non-loopback IPv4 address of the container and forwards each
# connection to 127.0.0.1 on the port it arrived on. It binds the specific
# addresses, not 0.0.0.0, so that Chrome can still bind 127.0.0.1 on the same
# port. Do not list the gateway port itself: the gateway binds 0.0.0.0 there.
#
# Host services. With OPENCLAW_COMPOSE_HOST_SERVICES set (comma-separated
# ports), the same haproxy listens on 127.0.0.1:PORT and forwards each
# connection to the Unix socket $HOST_SERVICES_DIR/PORT.sock, which the
# profile's host link (a container on the host's network) connects to
# 127.0.0.1:PORT on the host: the services the profiles file grants.
#
# Front relay. With OPENCLAW_COMPOSE_FRONT_RELAY=LISTEN:PORT (B+1:B, for a
# profile behind the HTTPS front on a bridge network), the same haproxy
# listens on LISTEN on every non-loopback IPv4 address of the container and
# forwards each connection to the gateway on 127.0.0.1:PORT: the gateway sees
# the front on loopback, its trusted proxy. openclaw-compose publishes LISTEN
# on the host's loopback only.
RELAY_CONFIG="${TMPDIR:-/tmp}/openclaw-compose-relay.cfg"
HOST_SERVICES_DIR=/run/openclaw-compose/host-services

relay_warn() { echo "openclaw-compose: WARNING: $*; going on without the loopback relay" >&2; }

# Non-loopback IPv4 addresses of this container, one a line.
container_ipv4() {
    if command -v hostname >/dev/null 2>&1; then
        hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.'
    else
        # The kernel's local routing table: "|-- ADDR" then "/32 host LOCAL".
        awk '$1 == "|--" { addr = $2 } /\/32 host LOCAL/ { print addr }' /proc/net/fib_trie |
            grep -v '^127\.' | sort -u
    fi
}

valid_port() {
    case "$1" in
        '' | *[!0-9]* | 0*) return 1 ;;
    esac
    [ "$1" -le 65535 ]
}

# The relay's frontend and backend (stdout): the relayed ports on every
# container address. A server without a port connects to the port the client
# connected to.
relay_sections() {
    ports="$(printf '%s' "$OPENCLAW_COMPOSE_RELAY_PORTS" | tr -d ' \t')"
    addrs="$(container_ipv4)" || true
    if [ -z "$addrs" ]; then
        relay_warn "the container has no non-loopback IPv4 address"
        return 0
    fi
    binds=""
    old_ifs="$IFS"
    IFS=,
    for item in $ports; do
        case "$item" in
            *-*) lo="${item%%-*}" hi="${item#*-}" ;;
            *) lo="$item" hi="$item" ;;
        esac
        if ! valid_port "$lo" || ! valid_port "$hi" || [ "$lo" -gt "$hi" ]; then
            IFS="$old_ifs"
            relay_warn "bad port or range '$item' in OPENCLAW_COMPOSE_RELAY_PORTS=$OPENCLAW_COMPOSE_RELAY_PORTS"
            return 0
        fi
        for addr in $(printf '%s\n' "$addrs" | tr '\n' ','); do
            binds="$binds    bind $addr:$item
"
        done
    done
    IFS="$old_ifs"
    if [ -z "$binds" ]; then
        relay_warn "OPENCLAW_COMPOSE_RELAY_PORTS lists no port"
        return 0
    fi
    printf 'frontend loopback-relay\n%s    default_backend loopback\n\n' "$binds"
    printf 'backend loopback\n    server loopback 127.0.0.1\n\n'
    echo "openclaw-compose: relaying ports $ports of $(printf '%s' "$addrs" | tr '\n' ' ') to 127.0.0.1 (haproxy)" >&2
}

# The front relay's listen section (stdout).
front_relay_section() {
    relay="$(printf '%s' "$OPENCLAW_COMPOSE_FRONT_RELAY" | tr -d ' \t')"
    listen="${relay%%:*}" port="${relay#*:}"
    valid_port "$listen" && valid_port "$port" ||
        die "OPENCLAW_COMPOSE_FRONT_RELAY: '$relay' is not LISTEN:PORT"
    addrs="$(container_ipv4)" || true
    [ -n "$addrs" ] || die "the front relay needs a non-loopback IPv4 address, and the container has none"
    printf 'listen front-relay\n'
    for addr in $addrs; do
        printf '    bind %s:%s\n' "$addr" "$listen"
    done
    printf '    server gateway 127.0.0.1:%s\n\n' "$port"
    echo "openclaw-compose: relaying the front's port $listen to the gateway on 127.0.0.1:$port (haproxy)" >&2
}

# One listen section per granted host service (stdout).
host_services_sections() {
    old_ifs="$IFS"
    IFS=,
    for port in $(printf '%s' "$OPENCLAW_COMPOSE_HOST_SERVICES" | tr -d ' \t'); do
        IFS="$old_ifs"
        valid_port "$port" || die "OPENCLAW_COMPOSE_HOST_SERVICES: '$port' is not a port"
        printf 'listen host-%s\n    bind 127.0.0.1:%s\n    server host unix@%s/%s.sock\n\n' \
            "$port" "$port" "$HOST_SERVICES_DIR" "$port"
    done
    IFS="$old_ifs"
    echo "openclaw-compose: host services on 127.0.0.1:$OPENCLAW_COMPOSE_HOST_SERVICES (haproxy, through $HOST_SERVICES_DIR)" >&2
}

# Without the relay the gateway still works from the host (base port); without
# a granted host service or the front's way in it would not do what the
# profiles file says: fatal.
relay_failed() {
    [ -z "${OPENCLAW_COMPOSE_HOST_SERVICES:-}" ] || die "$*: the granted host services would be unreachable"
    [ -z "${OPENCLAW_COMPOSE_FRONT_RELAY:-}" ] || die "$*: the HTTPS front could not reach the gateway"
    relay_warn "$*"
}

start_relay() {
    if ! command -v haproxy >/dev/null 2>&1; then
        relay_failed "this image has no haproxy"
        return 0
    fi
    sections=""
    if [ -n "${OPENCLAW_COMPOSE_RELAY_PORTS:-}" ]; then
        sections="$(relay_sections)"
    fi
    if [ -n "${OPENCLAW_COMPOSE_HOST_SERVICES:-}" ]; then
        sections="$sections
$(host_services_sections)" || exit 1
    fi
    if [ -n "${OPENCLAW_COMPOSE_FRONT_RELAY:-}" ]; then
        sections="$sections
$(front_relay_section)" || exit 1
    fi
    # mode tcp: WebSockets (CDP) and streamed answers pass through untouched,
    # and long idle timeouts keep quiet CDP sessions open. No log lines:
    # haproxy logs nothing.
    cat >"$RELAY_CONFIG" <<EOF
# Written by openclaw-compose-entrypoint from
# OPENCLAW_COMPOSE_RELAY_PORTS=${OPENCLAW_COMPOSE_RELAY_PORTS:-}
# OPENCLAW_COMPOSE_HOST_SERVICES=${OPENCLAW_COMPOSE_HOST_SERVICES:-}
# OPENCLAW_COMPOSE_FRONT_RELAY=${OPENCLAW_COMPOSE_FRONT_RELAY:-}
global
    maxconn 1024
    nbthread 1

defaults
    mode tcp
    retries 0
    timeout connect 5s
    timeout client 24h
    timeout server 24h
    timeout client-fin 30s
    timeout server-fin 30s

$sections
EOF
    # -D: haproxy returns once its listeners are bound (so a bind error shows
    # here); the daemon is reparented to tini, which reaps it.
    haproxy -D -f "$RELAY_CONFIG" || relay_failed "haproxy failed to start (config: $RELAY_CONFIG)"
}

if [ -n "${OPENCLAW_COMPOSE_RELAY_PORTS:-}${OPENCLAW_COMPOSE_HOST_SERVICES:-}${OPENCLAW_COMPOSE_FRONT_RELAY:-}" ]; then
    start_relay
fi

exec openclaw "$@"
