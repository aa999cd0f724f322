#!/usr/bin/env python3
"""Turn tshark's decode of a capture into the expected values the Swift golden tests assert.

Usage: tshark-expect.py CAPTURE.pcap > captures/expected/NAME.json

Runs `tshark -r CAPTURE -T json --no-duplicate-keys -e FIELD ...` (tshark is the independent oracle) and
keeps, per frame, the decoded values listed in FIELDS below, grouped by layer. Fields tshark does not
report for a frame are omitted, as are empty layers. Numbers are JSON numbers, booleans are JSON booleans,
addresses are strings as tshark prints them. Output is deterministic: sorted keys, one frame per line.

Caveats that come from tshark itself (documented in captures/README.md):
- BGP values of a message spanning several TCP segments appear on the frame that completes it (tshark's
  reassembly), and all messages of one frame are flattened into one list per field.
- tshark guesses 2- vs 4-byte AS numbers per packet; AS_PATH values are taken as tshark shows them.
- mysql.caps.server is only the low 16 bits of the capability flags.
"""
import json
import re
import struct
import subprocess
import sys

# (layer, key, tshark field, kind); kind: int | hex (int written in hex by tshark) | bool | str | list[...]
FIELDS = [
    ("frame", "number", "frame.number", "int"),
    ("frame", "len", "frame.len", "int"),
    ("frame", "cap_len", "frame.cap_len", "int"),
    ("frame", "protocols", "frame.protocols", "str"),
    ("eth", "src", "eth.src", "str"),
    ("eth", "dst", "eth.dst", "str"),
    ("eth", "type", "eth.type", "hex"),
    ("sll", "pkttype", "sll.pkttype", "int"),
    ("sll", "ifindex", "sll.ifindex", "int"),
    ("sll", "hatype", "sll.hatype", "int"),
    ("sll", "src", "sll.src.eth", "str"),
    ("sll", "protocol", "sll.etype", "hex"),
    ("_vlan", "vlan_id", "vlan.id", "list:int"),
    ("_vlan", "vlan_pcp", "vlan.priority", "list:int"),
    ("_vlan", "vlan_dei", "vlan.dei", "list:bool"),
    ("_vlan", "vlan_etype", "vlan.etype", "list:hex"),
    ("_vlan", "ad_id", "ieee8021ad.id", "list:int"),
    ("_vlan", "ad_pcp", "ieee8021ad.priority", "list:int"),
    ("_vlan", "ad_dei", "ieee8021ad.dei", "list:int"),
    ("arp", "opcode", "arp.opcode", "int"),
    ("arp", "sender_mac", "arp.src.hw_mac", "str"),
    ("arp", "sender_ip", "arp.src.proto_ipv4", "str"),
    ("arp", "target_mac", "arp.dst.hw_mac", "str"),
    ("arp", "target_ip", "arp.dst.proto_ipv4", "str"),
    ("arp", "gratuitous", "arp.isgratuitous", "bool"),
    ("arp", "probe", "arp.isprobe", "bool"),
    ("arp", "announcement", "arp.isannouncement", "bool"),
    ("ip", "src", "ip.src", "str"),
    ("ip", "dst", "ip.dst", "str"),
    ("ip", "proto", "ip.proto", "int"),
    ("ip", "ttl", "ip.ttl", "int"),
    ("ipv6", "src", "ipv6.src", "str"),
    ("ipv6", "dst", "ipv6.dst", "str"),
    ("ipv6", "next_header", "ipv6.nxt", "int"),
    ("ipv6", "hop_limit", "ipv6.hlim", "int"),
    ("icmp", "type", "icmp.type", "int"),
    ("icmp", "code", "icmp.code", "int"),
    ("icmpv6", "type", "icmpv6.type", "int"),
    ("icmpv6", "code", "icmpv6.code", "int"),
    ("icmpv6", "na_router", "icmpv6.nd.na.flag.r", "bool"),
    ("icmpv6", "na_solicited", "icmpv6.nd.na.flag.s", "bool"),
    ("icmpv6", "na_override", "icmpv6.nd.na.flag.o", "bool"),
    ("icmpv6", "na_target", "icmpv6.nd.na.target_address", "str"),
    ("icmpv6", "ns_target", "icmpv6.nd.ns.target_address", "str"),
    ("icmpv6", "option_types", "icmpv6.opt.type", "list:int"),
    ("icmpv6", "source_lladdr", "icmpv6.opt.src_linkaddr", "str"),
    ("icmpv6", "target_lladdr", "icmpv6.opt.target_linkaddr", "str"),
    ("tcp", "src_port", "tcp.srcport", "int"),
    ("tcp", "dst_port", "tcp.dstport", "int"),
    ("tcp", "flags", "tcp.flags", "hex"),
    ("tcp", "seq", "tcp.seq_raw", "int"),
    ("tcp", "ack", "tcp.ack_raw", "int"),
    ("tcp", "payload_len", "tcp.len", "int"),
    ("tcp", "reassembled_in", "tcp.reassembled_in", "int"),
    ("udp", "src_port", "udp.srcport", "int"),
    ("udp", "dst_port", "udp.dstport", "int"),
    ("bgp", "types", "bgp.type", "list:int"),
    ("bgp", "open_my_as", "bgp.open.myas", "list:int"),
    ("bgp", "open_hold_time", "bgp.open.holdtime", "list:int"),
    ("bgp", "open_identifier", "bgp.open.identifier", "list:str"),
    ("bgp", "open_as4", "bgp.cap.4as", "list:int"),
    ("bgp", "open_capability_types", "bgp.cap.type", "list:int"),
    ("bgp", "nlri", "bgp.nlri_prefix", "list:str"),
    ("bgp", "withdrawn", "bgp.withdrawn_prefix", "list:str"),
    ("bgp", "mp_reach_ipv6", "bgp.mp_reach_nlri_ipv6_prefix", "list:str"),
    ("bgp", "mp_unreach_ipv6", "bgp.mp_unreach_nlri_ipv6_prefix", "list:str"),
    ("bgp", "next_hop", "bgp.update.path_attribute.next_hop", "list:str"),
    ("bgp", "mp_next_hop_ipv6", "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6", "list:str"),
    ("bgp", "mp_next_hop_link_local",
     "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local", "list:str"),
    ("bgp", "as_path_as4", "bgp.update.path_attribute.as_path_segment.as4", "list:int"),
    ("bgp", "as_path_as2", "bgp.update.path_attribute.as_path_segment.as2", "list:int"),
    ("_bgp", "community_as", "bgp.update.path_attribute.community_as", "list:int"),
    ("_bgp", "community_value", "bgp.update.path_attribute.community_value", "list:int"),
    ("_bgp", "lc_ga", "bgp.large_communities.ga", "list:int"),
    ("_bgp", "lc_ldp1", "bgp.large_communities.ldp1", "list:int"),
    ("_bgp", "lc_ldp2", "bgp.large_communities.ldp2", "list:int"),
    ("bgp", "notify_major", "bgp.notify.major_error", "list:int"),
    ("bgp", "notify_minor_cease", "bgp.notify.minor_error_cease", "list:int"),
    ("bgp", "notify_minor", "bgp.notify.minor_error", "list:int"),
    ("bgp", "notify_communication", "bgp.notify.communication", "list:str"),
    ("mysql", "protocol", "mysql.protocol", "int"),
    ("mysql", "version", "mysql.version", "str"),
    ("mysql", "thread_id", "mysql.thread_id", "int"),
    ("mysql", "caps_server", "mysql.caps.server", "hex"),
    ("mysql", "extcaps_server", "mysql.extcaps.server", "hex"),
    ("mysql", "mariadb_extcaps_server", "mariadb.extcaps.server", "hex"),
    ("mysql", "server_language", "mysql.server_language", "int"),
    ("mysql", "user", "mysql.user", "str"),
    ("mysql", "command", "mysql.command", "int"),
    ("mysql", "response_code", "mysql.response_code", "list:hex"),
    ("mysql", "error_code", "mysql.error_code", "int"),
    ("mysql", "error_message", "mysql.error.message", "str"),
    ("mysql", "sqlstate", "mysql.sqlstate", "str"),
]


def convert(kind, value):
    if kind == "str":
        return value
    if kind == "bool":
        return value.lower() in ("1", "true")
    if kind == "hex":
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    return int(value, 0) if value.lower().startswith("0x") else int(value)


def pcap_linktype(path):
    with open(path, "rb") as f:
        head = f.read(24)
    magic = head[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return struct.unpack("<I", head[20:24])[0]
    if magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        return struct.unpack(">I", head[20:24])[0]
    raise SystemExit(f"{path}: not a classic pcap file")


def vlan_tags(frame_layers, eth_type):
    """Tags outermost first: [{tpid, id, pcp, dei}] ordered as they appear in frame.protocols."""
    protocols = frame_layers.get("protocols", "").split(":")
    v = frame_layers.pop("_vlan", {})
    q = {k: list(v.get(k, [])) for k in ("vlan_id", "vlan_pcp", "vlan_dei", "vlan_etype")}
    ad = {k: list(v.get(k, [])) for k in ("ad_id", "ad_pcp", "ad_dei")}
    tags, tpid = [], eth_type
    for proto in protocols:
        if proto == "vlan" and q["vlan_id"]:
            tag = {"tpid": tpid, "id": q["vlan_id"].pop(0)}
            if q["vlan_pcp"]:
                tag["pcp"] = q["vlan_pcp"].pop(0)
            if q["vlan_dei"]:
                tag["dei"] = int(q["vlan_dei"].pop(0))
            tpid = q["vlan_etype"].pop(0) if q["vlan_etype"] else None
            tags.append(tag)
        elif proto == "ieee8021ad" and ad["ad_id"]:
            tag = {"tpid": tpid, "id": ad["ad_id"].pop(0)}
            if ad["ad_pcp"]:
                tag["pcp"] = ad["ad_pcp"].pop(0)
            if ad["ad_dei"]:
                tag["dei"] = ad["ad_dei"].pop(0)
            tpid = 0x8100  # tshark has no etype field for the S-tag; its payload here is a C-tag or data
            tags.append(tag)
    return [{k: t[k] for k in t if t[k] is not None} for t in tags]


def frame_record(layers_in, linktype):
    out = {}
    for layer, key, field, kind in FIELDS:
        values = layers_in.get(field)
        if values is None:
            continue
        if not isinstance(values, list):
            values = [values]
        try:
            if kind.startswith("list:"):
                value = [convert(kind[5:], v) for v in values]
            else:
                value = convert(kind, values[0])
        except ValueError:
            continue
        out.setdefault(layer, {})[key] = value
    frame = out.pop("frame", {})
    record = {
        "frame": frame.get("number"),
        "len": frame.get("len"),
        "cap_len": frame.get("cap_len"),
        "linktype": linktype,
        "protocols": frame.get("protocols"),
    }
    eth_type = out.get("eth", {}).get("type")
    if eth_type is None:
        eth_type = out.get("sll", {}).get("protocol")
    if "_vlan" in out:
        frame["_vlan"] = out.pop("_vlan")
        frame["protocols"] = record["protocols"] or ""
        tags = vlan_tags(frame, eth_type)
        if tags:
            record["vlan"] = tags
            record["vlan_ids"] = [t["id"] for t in tags]
    extra = out.pop("_bgp", {})
    if "community_as" in extra:
        out.setdefault("bgp", {})["communities"] = [
            f"{a}:{v}" for a, v in zip(extra["community_as"], extra.get("community_value", []))
        ]
    if "lc_ga" in extra:
        out.setdefault("bgp", {})["large_communities"] = [
            f"{g}:{a}:{b}" for g, a, b in zip(extra["lc_ga"], extra.get("lc_ldp1", []), extra.get("lc_ldp2", []))
        ]
    record.update({k: v for k, v in out.items() if v})
    return {k: v for k, v in record.items() if v is not None}


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: tshark-expect.py CAPTURE.pcap")
    path = sys.argv[1]
    linktype = pcap_linktype(path)
    # -2: two passes, so that tcp.reassembled_in is known on the segments that precede the reassembly
    cmd = ["tshark", "-2", "-r", path, "-T", "json", "--no-duplicate-keys"]
    for _, _, field, _ in FIELDS:
        cmd += ["-e", field]
    decoded = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout or "[]")
    frames = [frame_record(pkt["_source"]["layers"], linktype) for pkt in decoded]
    name = path.rsplit("/", 1)[-1]
    head = {"file": name, "linktype": linktype, "frame_count": len(frames),
            "oracle": "tshark " + tshark_version()}
    head["frames"] = None
    parts = []
    for key in sorted(head):
        if key == "frames":
            lines = [json.dumps(f, sort_keys=True, separators=(",", ":")) for f in frames]
            parts.append('"frames":[\n' + ",\n".join(lines) + "\n]")
        else:
            parts.append(json.dumps(key) + ":" + json.dumps(head[key], sort_keys=True, separators=(",", ":")))
    text = "{" + ",\n".join(parts) + "}\n"
    json.loads(text)  # self-check: the hand-joined document is valid JSON
    sys.stdout.write(text)


def tshark_version():
    out = subprocess.run(["tshark", "--version"], check=True, capture_output=True, text=True).stdout
    match = re.search(r"\d+\.\d+\.\d+", out)
    return match.group(0) if match else "unknown"


if __name__ == "__main__":
    main()
