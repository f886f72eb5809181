#!/usr/bin/env bash
# A private network namespace for running Home Assistant (and a browser) offline.
#
#   dev/netns.sh create NAME    create NAME with lo and a veth pair whose BOTH ends stay inside,
#                               private addresses (10.213.0.1/30, 10.213.0.2/30) and a default
#                               route over the pair, so zeroconf/mDNS has a multicast interface
#                               but no packet can leave the namespace (DNS fails: offline)
#   dev/netns.sh exec NAME CMD  run CMD inside NAME (environment kept, BLE_PROV_NETNS=NAME)
#   dev/netns.sh delete NAME    destroy NAME (its veth pair goes with it)
#   dev/netns.sh check          exit 0 if this shell may create namespaces
#
# Why: `hass` opens an mDNS socket (UDP 5353) on every interface even with a minimal
# configuration; on CI and build machines that traffic must stay private. Needs root
# (CAP_NET_ADMIN); on your own machine you do not need any of this (scripts/develop --no-netns).
set -euo pipefail

ADDR_A=10.213.0.1
ADDR_B=10.213.0.2

create() {
  local ns=$1
  ip netns add "$ns"
  {
    ip -n "$ns" link set lo up
    ip -n "$ns" link add veth0 type veth peer name veth1
    ip -n "$ns" addr add "$ADDR_A/30" dev veth0
    ip -n "$ns" addr add "$ADDR_B/30" dev veth1
    ip -n "$ns" link set veth0 up
    ip -n "$ns" link set veth1 up
    ip -n "$ns" route add default via "$ADDR_B" dev veth0
  } || { ip netns delete "$ns" 2>/dev/null; return 1; }
  # Both ends of the pair must be inside: nothing may reach the host's interfaces.
  local outside
  outside=$(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' \
            | grep -vxE 'lo|veth0|veth1' || true)
  if [ -n "$outside" ]; then
    ip netns delete "$ns"
    echo "netns $ns: unexpected interfaces: $outside" >&2
    return 1
  fi
}

delete() {
  # Stop what still runs inside (processes this run started there), then remove the namespace.
  local ns=$1 i pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    kill -TERM $pids 2>/dev/null || true
    for i in $(seq 1 300); do
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      [ -z "$pids" ] && break
      sleep 0.1
    done
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  fi
  ip netns delete "$ns" 2>/dev/null || true
}

check() {
  [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns list >/dev/null 2>&1
}

case "${1:-}" in
  create) create "$2" ;;
  delete) delete "$2" ;;
  exec) ns=$2; shift 2; BLE_PROV_NETNS=$ns exec ip netns exec "$ns" "$@" ;;
  check) check ;;
  *) echo "usage: $0 create NAME | exec NAME CMD... | delete NAME | check" >&2; exit 2 ;;
esac
