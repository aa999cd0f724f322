#!/usr/bin/env python3
"""Normalise a receiving daemon's own view of its BGP RIB into the JSON the bgpdecode table tests read.

Usage: rib-snapshot.py frr  --taken-at EPOCH --label LABEL V4.json V6.json   (vtysh 'show bgp ipv4|ipv6 unicast detail json')
       rib-snapshot.py bird --taken-at EPOCH --label LABEL ROUTES.txt         (birdc 'show route all')

Output (deterministic, sorted): {"daemon", "label", "taken_at", "routes": [...], "raw": [...]}, one route
per path: family, prefix, protocol and since (BIRD: which protocol and when, epoch seconds), peer, next_hop, as_path (numbers), origin,
med, local_pref, communities, large_communities, stale. A key the daemon does not report is omitted. The
daemon's raw output is kept under "raw" so the file documents itself. `taken_at` is the host clock just
before the daemon was asked (same clock as the pcap timestamps): the tests decode the capture up to it.
"""
import argparse
import json
import re
import sys
import time


def frr_routes(text, family):
    doc = json.loads(text)
    out = []
    for prefix, entries in sorted(doc.get("routes", {}).items()):
        for path in entries:
            if "peer" not in path and "nexthops" not in path:
                continue  # the per-prefix header of 'detail json' (version, advertisedTo)
            route = {"family": family, "prefix": prefix}
            peer = path.get("peer", {})
            if "peerId" in peer:
                route["peer"] = peer["peerId"]
            hops = [h for h in path.get("nexthops", []) if h.get("scope", "global") == "global"]
            if hops:
                route["next_hop"] = hops[0]["ip"]
            aspath = path.get("aspath", {})
            route["as_path"] = [asn for seg in aspath.get("segments", []) for asn in seg.get("list", [])]
            if "origin" in path:
                route["origin"] = path["origin"].lower()
            if "metric" in path:
                route["med"] = path["metric"]
            if "locPrf" in path:
                route["local_pref"] = path["locPrf"]
            route["communities"] = path.get("community", {}).get("list", [])
            route["large_communities"] = path.get("largeCommunity", {}).get("list", [])
            route["stale"] = bool(path.get("stale", False))
            out.append(route)
    return out


BIRD_HEAD = re.compile(
    r"^(\S+)?\s+(unicast|unreachable|blackhole|prohibited)\s+\[(\S+)\s(\d\d:\d\d:\d\d(?:\.\d+)?)?[^\]]*?(?:from (\S+))?\]")


def bird_since(clock, taken_at):
    """BIRD prints when it learned a route as a local time of day: make it an epoch time on the day of the
    snapshot (the day before when that would be later than the snapshot)."""
    day = time.localtime(taken_at)
    hours, minutes, seconds = clock.split(":")
    base = time.mktime((day.tm_year, day.tm_mon, day.tm_mday, int(hours), int(minutes), 0, 0, 0, -1))
    since = base + float(seconds)
    if since > taken_at + 1:
        since -= 86400
    return round(since, 3)


def bird_routes(text, taken_at):
    """`birdc show route all`: a route line (prefix, or blank for another path of the same prefix), then
    indented attribute lines. BIRD 2.0 shows no ADD-PATH path id; paths of one prefix come in its order."""
    out = []
    family = None
    prefix = None
    route = None
    for line in text.splitlines():
        if line.startswith("Table master4"):
            family = "ipv4-unicast"
            continue
        if line.startswith("Table master6"):
            family = "ipv6-unicast"
            continue
        head = BIRD_HEAD.match(line)
        if head and not line.startswith("\t"):
            if head.group(1):
                prefix = head.group(1)
            route = {"family": family, "prefix": prefix, "protocol": head.group(3), "communities": [],
                     "large_communities": [], "stale": False, "as_path": []}
            if head.group(4):
                route["since"] = bird_since(head.group(4), taken_at)
            if head.group(5):
                route["peer"] = head.group(5)
            out.append(route)
            continue
        if route is None:
            continue
        attr = line.strip()
        if ":" not in attr:
            continue
        key, _, value = attr.partition(":")
        value = value.strip()
        if key == "BGP.origin":
            route["origin"] = value.lower()
        elif key == "BGP.as_path":
            route["as_path"] = [int(x) for x in value.split()] if value else []
        elif key == "BGP.next_hop":
            route["next_hop"] = value.split()[0]
        elif key == "BGP.med":
            route["med"] = int(value)
        elif key == "BGP.local_pref":
            route["local_pref"] = int(value)
        elif key == "BGP.community":
            route["communities"] = ["%s:%s" % pair for pair in re.findall(r"\((\d+),\s*(\d+)\)", value)]
        elif key == "BGP.large_community":
            route["large_communities"] = ["%s:%s:%s" % t for t in re.findall(r"\((\d+),\s*(\d+),\s*(\d+)\)", value)]
        elif key == "Internal route handling values" or key.startswith("BGP.stale"):
            route["stale"] = True
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("daemon", choices=["frr", "bird"])
    parser.add_argument("--taken-at", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    raw = [open(f).read() for f in args.files]
    if args.daemon == "frr":
        routes = frr_routes(raw[0], "ipv4-unicast") + frr_routes(raw[1], "ipv6-unicast")
    else:
        routes = bird_routes(raw[0], float(args.taken_at))
    doc = {"daemon": args.daemon, "label": args.label, "taken_at": args.taken_at, "routes": routes, "raw": raw}
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
