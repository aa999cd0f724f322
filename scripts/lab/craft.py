#!/usr/bin/env python3
"""Craft and send the frames that scripts/record-captures needs but no daemon sends for us.

Run inside a lab network namespace (ip netns exec NS python3 craft.py ...). Every sub-command
sends on one interface only and only with addresses from the lab ranges.

  (all modes: --wait-file PATH loads scapy first and sends only once PATH exists, for exact timing)

  metallb-arp  IFACE VIP [--count N] [--interval S]
        MetalLB layer-2 announcement: per burst an ARP request and an ARP reply, both broadcast,
        sender IP == target IP == VIP, target MAC ff:ff:ff:ff:ff:ff (MetalLB's arp.go gratuitous()).
  metallb-na   IFACE VIP6 [--count N] [--interval S]
        MetalLB NDP announcement: unsolicited Neighbor Advertisement from the interface's link-local
        address to ff02::1, R=0 S=0 O=1, target link-layer address option, hop limit 255.
  vlan         IFACE
        802.1Q, 802.1ad (0x88a8) QinQ and 0x9100 QinQ frames, each carrying a gratuitous ARP, an
        unsolicited NA and an IPv4 TCP SYN with a small payload.
"""
import argparse
import logging
import os
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import (  # noqa: E402
    ARP, Dot1AD, Dot1Q, Ether, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IP, IPv6, TCP, Raw,
    conf, get_if_hwaddr, in6_getifaddr, sendp,
)

conf.verb = 0
BROADCAST = "ff:ff:ff:ff:ff:ff"
ALL_NODES_MAC = "33:33:00:00:00:01"


def link_local(iface):
    for addr, scope, ifname in in6_getifaddr():
        if ifname == iface and addr.startswith("fe80:"):
            return addr
    sys.exit(f"craft.py: no IPv6 link-local address on {iface}; bring the link up and wait for DAD")


def metallb_arp_burst(mac, vip):
    return [
        Ether(src=mac, dst=BROADCAST) / ARP(op=op, hwsrc=mac, psrc=vip, hwdst=BROADCAST, pdst=vip)
        for op in (1, 2)
    ]


def metallb_na(mac, src, vip6):
    return (
        Ether(src=mac, dst=ALL_NODES_MAC)
        / IPv6(src=src, dst="ff02::1", hlim=255)
        / ICMPv6ND_NA(R=0, S=0, O=1, tgt=vip6)
        / ICMPv6NDOptDstLLAddr(lladdr=mac)
    )


def repeat(frames, iface, count, interval):
    for i in range(count):
        if i:
            time.sleep(interval)
        sendp(frames, iface=iface)


def vlan_frames(mac):
    peer = "02:76:73:07:00:02"
    payloads = {
        "arp": lambda: ARP(op=1, hwsrc=mac, psrc="198.51.100.30", hwdst="00:00:00:00:00:00",
                           pdst="198.51.100.30"),
        "na": lambda: IPv6(src="fe80::76:73ff:fe07:1", dst="ff02::1", hlim=255)
        / ICMPv6ND_NA(R=0, S=0, O=1, tgt="fd99:7::30") / ICMPv6NDOptDstLLAddr(lladdr=mac),
        # one source port per tag layout, so the three SYNs are three flows, not retransmissions;
        # port 9 (discard) so that no application dissector claims the 8-byte payload
        "tcp": lambda sport: IP(src="203.0.113.1", dst="198.51.100.30", ttl=64, id=0x7673)
        / TCP(sport=sport, dport=9, flags="S", seq=1000, window=64240) / Raw(b"vipscope"),
    }
    frames = []
    for kind, make_payload in payloads.items():
        ports = iter((40001, 40002, 40003))

        def make():
            return make_payload(next(ports)) if kind == "tcp" else make_payload()

        dst = BROADCAST if kind == "arp" else (ALL_NODES_MAC if kind == "na" else peer)
        # single 802.1Q tag, VLAN 100, PCP 3
        frames.append(Ether(src=mac, dst=dst) / Dot1Q(vlan=100, prio=3) / make())
        # 802.1ad QinQ: S-tag 0x88a8 VLAN 200 (PCP 5, DEI 1), C-tag 0x8100 VLAN 100
        frames.append(Ether(src=mac, dst=dst) / Dot1AD(vlan=200, prio=5, dei=1) / Dot1Q(vlan=100) / make())
        # pre-standard QinQ: outer TPID 0x9100 VLAN 300, inner 0x8100 VLAN 101
        frames.append(Ether(src=mac, dst=dst, type=0x9100) / Dot1Q(vlan=300, type=0x8100) / Dot1Q(vlan=101)
                      / make())
    return frames


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["metallb-arp", "metallb-na", "vlan"])
    parser.add_argument("iface")
    parser.add_argument("address", nargs="?")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--interval", type=float, default=1.1)
    parser.add_argument("--wait-file", help="load scapy, then wait until this file exists before sending")
    args = parser.parse_args()
    mac = get_if_hwaddr(args.iface)
    if args.wait_file:
        print("ready", flush=True)
        deadline = time.monotonic() + 60
        while not os.path.exists(args.wait_file):
            if time.monotonic() > deadline:
                sys.exit(f"craft.py: {args.wait_file} did not appear within 60 s")
            time.sleep(0.01)
    if args.mode == "metallb-arp":
        repeat(metallb_arp_burst(mac, args.address), args.iface, args.count, args.interval)
    elif args.mode == "metallb-na":
        repeat([metallb_na(mac, link_local(args.iface), args.address)], args.iface, args.count, args.interval)
    else:
        for frame in vlan_frames(mac):
            sendp(frame, iface=args.iface)
            time.sleep(0.05)


if __name__ == "__main__":
    main()
