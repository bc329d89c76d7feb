# veth_pair.sh — sourced by the netns tests and the veth benchmarks: two network
# namespaces joined by a veth pair; A's end carries the kernel's own
# 198.18.0.3/24 (skiff takes 198.18.0.2 beside it), B's end 198.18.0.1/24 and
# fills in its checksums and sends MTU-sized frames (tx/tso/gso off: what a NIC
# puts on the wire; veth would hand XDP unfinished checksums and super-frames).
#
#   veth_pair_up A B VA VB    0, or 1 when namespaces cannot be made here
#   veth_pair_down A B        removes both namespaces (and the pair with them)

veth_pair_up() {
	local a=$1 b=$2 va=$3 vb=$4
	ip netns add "$a" 2>/dev/null || return 1
	ip netns add "$b" || return 1
	ip link add "$va" netns "$a" type veth peer name "$vb" netns "$b" || return 1
	ip -n "$a" link set lo up
	ip -n "$b" link set lo up
	ip -n "$a" addr add 198.18.0.3/24 dev "$va"
	ip -n "$b" addr add 198.18.0.1/24 dev "$vb"
	ip -n "$a" link set "$va" up
	ip -n "$b" link set "$vb" up
	ip netns exec "$b" ethtool -K "$vb" tx off tso off gso off >/dev/null 2>&1
	return 0
}

veth_pair_down() {
	ip netns del "$1" 2>/dev/null
	ip netns del "$2" 2>/dev/null
}
