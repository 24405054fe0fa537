#!/bin/sh
# A swarm node for tests: a container that runs its own Docker engine (see
# ../README.md, "Swarm nodes"). Run it with the capabilities that
# tests/docker/nodes.py gives it (--privileged fails on these VMs), a volume
# on /var/lib/docker (overlay2 cannot stack on the container's overlay root),
# and these variables:
#   NODE_CGROUP_PARENT     a cgroup parent no other engine on the machine uses
#                          (default: openclaw-node-<hostname>)
#   NODE_INSECURE_REGISTRY host:port of a plain-HTTP registry to pull from
# The engine listens on its socket and, for the tests' remote CLI only, on
# tcp://0.0.0.0:2375 without TLS (--tls=false: said explicitly, else dockerd
# waits 15 s to warn about it): never publish that port. The image also has
# Debian's docker-registry; /etc/docker/registry/test.yml serves it on :5000.
set -eu
cgroup_parent="/${NODE_CGROUP_PARENT:-openclaw-node-$(hostname)}"
set -- --cgroup-parent="$cgroup_parent" \
    -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2375 --tls=false
if [ -n "${NODE_INSECURE_REGISTRY:-}" ]; then
    set -- "$@" --insecure-registry "$NODE_INSECURE_REGISTRY"
fi
exec dockerd "$@"
