#!/usr/bin/env python3
"""tshark's decode of every BGP message in a capture, one JSON object per message, for the bgpdecode tests.

Usage: tshark-bgp-messages.py CAPTURE.pcap > captures/bgpdecode/expected/NAME.json

Unlike tshark-expect.py (per-frame field lists, which cannot pair an ADD-PATH path id with its prefix once
a frame holds several UPDATEs), this walks tshark's protocol tree (`-T json -O bgp`) message by message:
  {"frame", "time" (epoch, string as tshark prints it), "src", "dst", "type",
   OPEN:         "my_as", "as4", "hold_time", "identifier", "capability_codes",
                 "graceful_restart": {"restart", "notification", "families": [{"family", "forwarding"}]}
   UPDATE:       "routes": [{"op": announce|withdraw, "family", "prefix" (with length), "path_id"?}],
                 "end_of_rib": family (RFC 4724: empty UPDATE, or an MP_UNREACH_NLRI alone and empty),
                 "origin", "as_path" + "as_path_size" (4 or 2: tshark's per-packet guess), "next_hop",
                 "mp_next_hop", "mp_next_hop_link_local", "med", "local_pref", "communities",
                 "large_communities"
   NOTIFICATION: "code", "subcode", "communication"?}
Keys tshark does not show are omitted. Deterministic output: one message per line, sorted keys.
"""
import json
import subprocess
import sys

FAMILIES = {("1", "1"): "ipv4-unicast", ("2", "1"): "ipv6-unicast", ("1", "2"): "ipv4-multicast",
            ("2", "2"): "ipv6-multicast"}
ORIGINS = {"0": "igp", "1": "egp", "2": "incomplete"}


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def prefixes(tree, prefix_key, op, family):
    """NLRI objects under a tshark subtree: {"<text>": {"bgp.nlri_path_id", "bgp.prefix_length", KEY}}."""
    out = []
    if not isinstance(tree, dict):
        return out
    for entry in tree.values():
        for item in as_list(entry):
            if isinstance(item, dict) and prefix_key in item:
                route = {"op": op, "family": family, "prefix": "%s/%s" % (item[prefix_key], item["bgp.prefix_length"])}
                if "bgp.nlri_path_id" in item:
                    route["path_id"] = int(item["bgp.nlri_path_id"])
                out.append(route)
    return out


def update(msg, record):
    routes = prefixes(msg.get("bgp.update.withdrawn_routes"), "bgp.withdrawn_prefix", "withdraw", "ipv4-unicast")
    attrs = as_list(msg.get("bgp.update.path_attributes", {}).get("bgp.update.path_attribute"))
    mp_unreach_only = None
    for attr in attrs:
        code = attr.get("bgp.update.path_attribute.type_code")
        if code == "1":
            record["origin"] = ORIGINS.get(attr.get("bgp.update.path_attribute.origin"), "?")
        elif code == "2":
            path, size = [], None
            for seg in as_list(attr.get("bgp.update.path_attribute.as_path_segment")):
                for key, width in (("bgp.update.path_attribute.as_path_segment.as4", 4),
                                   ("bgp.update.path_attribute.as_path_segment.as2", 2)):
                    if key in seg:
                        path += [int(x) for x in as_list(seg[key])]
                        size = width
            record["as_path"] = path
            if size:
                record["as_path_size"] = size
        elif code == "3":
            record["next_hop"] = attr.get("bgp.update.path_attribute.next_hop")
        elif code == "4":
            record["med"] = int(attr["bgp.update.path_attribute.multi_exit_disc"])
        elif code == "5":
            record["local_pref"] = int(attr["bgp.update.path_attribute.local_pref"])
        elif code == "8":
            comms = as_list(attr.get("bgp.update.path_attribute.communities", {}).get("bgp.update.path_attribute.community"))
            record["communities"] = ["%s:%s" % (c["bgp.update.path_attribute.community_as"],
                                                c["bgp.update.path_attribute.community_value"]) for c in comms]
        elif code == "32":
            record["large_communities"] = ["%s:%s:%s" % (c["bgp.large_communities.ga"], c["bgp.large_communities.ldp1"],
                                                         c["bgp.large_communities.ldp2"])
                                           for c in as_list(attr.get("bgp.large_communities_tree"))]
        elif code == "14":
            family = FAMILIES.get((attr.get("bgp.update.path_attribute.mp_reach_nlri.afi"),
                                   attr.get("bgp.update.path_attribute.mp_reach_nlri.safi")), "other")
            hop = attr.get("bgp.update.path_attribute.mp_reach_nlri.next_hop_tree", {})
            if "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6" in hop:
                record["mp_next_hop"] = hop["bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6"]
            if "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local" in hop:
                record["mp_next_hop_link_local"] = hop["bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local"]
            if "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4" in hop:
                record["mp_next_hop"] = hop["bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4"]
            key = "bgp.mp_reach_nlri_ipv6_prefix" if family.startswith("ipv6") else "bgp.mp_reach_nlri_ipv4_prefix"
            routes += prefixes(attr.get("bgp.update.path_attribute.mp_reach_nlri"), key, "announce", family)
        elif code == "15":
            family = FAMILIES.get((attr.get("bgp.update.path_attribute.mp_unreach_nlri.afi"),
                                   attr.get("bgp.update.path_attribute.mp_unreach_nlri.safi")), "other")
            key = "bgp.mp_unreach_nlri_ipv6_prefix" if family.startswith("ipv6") else "bgp.mp_unreach_nlri_ipv4_prefix"
            found = prefixes(attr.get("bgp.update.path_attribute.mp_unreach_nlri"), key, "withdraw", family)
            routes += found
            if not found and len(attrs) == 1:
                mp_unreach_only = family
    routes += prefixes(msg.get("bgp.update.nlri"), "bgp.nlri_prefix", "announce", "ipv4-unicast")
    if routes:
        record["routes"] = routes
    if not attrs and not routes:
        record["end_of_rib"] = "ipv4-unicast"
    elif mp_unreach_only:
        record["end_of_rib"] = mp_unreach_only


def find_all(tree, key):
    """Every value of `key` anywhere under `tree`, in document order."""
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key:
                out += as_list(v)
            else:
                out += find_all(v, key)
    elif isinstance(tree, list):
        for v in tree:
            out += find_all(v, key)
    return out


def open_message(msg, record):
    record["my_as"] = int(msg["bgp.open.myas"])
    record["hold_time"] = int(msg["bgp.open.holdtime"])
    record["identifier"] = msg["bgp.open.identifier"]
    as4 = find_all(msg, "bgp.cap.4as")
    if as4:
        record["as4"] = int(as4[0])
    record["capability_codes"] = [int(c) for c in find_all(msg, "bgp.cap.type")]
    restart = find_all(msg, "bgp.cap.gr.timers.restart_flag")
    if restart:
        afis = find_all(msg, "bgp.cap.gr.afi")
        safis = find_all(msg, "bgp.cap.gr.safi")
        flags = find_all(msg, "bgp.cap.gr.flag.pfs")
        record["graceful_restart"] = {
            "restart": restart[0] in ("1", "True", "true"),
            "notification": find_all(msg, "bgp.cap.gr.timers.notification_flag")[:1] in (["1"], ["True"], ["true"]),
            "families": [{"family": FAMILIES.get((a, s), "other"), "forwarding": f in ("1", "True", "true")}
                         for a, s, f in zip(afis, safis, flags)],
        }


def main():
    path = sys.argv[1]
    cmd = ["tshark", "-r", path, "-T", "json", "--no-duplicate-keys", "-O", "bgp", "-Y", "bgp"]
    frames = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout or "[]")
    out = []
    for frame in frames:
        layers = frame["_source"]["layers"]
        ip = layers.get("ip") or layers.get("ipv6") or {}
        src = ip.get("ip.src") or ip.get("ipv6.src")
        dst = ip.get("ip.dst") or ip.get("ipv6.dst")
        number = int(layers["frame"]["frame.number"])
        time = layers["frame"]["frame.time_epoch"]
        for msg in as_list(layers.get("bgp")):
            if not isinstance(msg, dict) or "bgp.type" not in msg:
                continue
            record = {"frame": number, "time": time, "src": src, "dst": dst, "type": int(msg["bgp.type"])}
            if record["type"] == 1:
                open_message(msg, record)
            elif record["type"] == 2:
                update(msg, record)
            elif record["type"] == 3:
                record["code"] = int(msg["bgp.notify.major_error"])
                minor = [v for k, v in msg.items() if k.startswith("bgp.notify.minor_error")]
                if minor:
                    record["subcode"] = int(minor[0])
                if "bgp.notify.communication" in msg:
                    record["communication"] = msg["bgp.notify.communication"]
            out.append(record)
    sys.stdout.write("[\n" + ",\n".join(json.dumps(r, sort_keys=True, separators=(",", ":")) for r in out) + "\n]\n")


if __name__ == "__main__":
    main()
