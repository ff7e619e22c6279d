#!/usr/bin/env bash
# Installs Debian's Chromium (browser tests), PostgreSQL server binaries (the second database), Redis
# (room placement between nodes) and the network tools the network-drop browser test uses (iproute2's ip
# and ss, nftables) and nginx (the front of the node-loss test, as a trust runs it) when they are missing. Idempotent: does nothing when all are present.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# Room placement between nodes (the two-node test starts its own on loopback).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v ip && command -v ss; } >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# RUNLEVEL=1: packages that ship a service (nginx, redis-server) do not start it; the tests start their own.
$SUDO env RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
