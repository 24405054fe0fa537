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

exec openclaw "$@"
