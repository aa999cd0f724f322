#!/usr/bin/env python3
"""Independent oracle for KubeInputsTests: reads the same kubectl JSON and MetalLB YAML with Python's json and
PyYAML (python3-yaml) and prints one canonical line per expectation, as the Swift test prints them.

    oracle.py services FILE | nodes FILE | metallb FILE
"""
import ipaddress
import json
import sys

import yaml


def ip(text):
    return str(ipaddress.ip_address(text.strip()))


def services(path):
    for item in json.load(open(path))["items"]:
        spec, meta = item.get("spec", {}), item["metadata"]
        if spec.get("type") != "LoadBalancer":
            continue
        assigned = []
        for ingress in item.get("status", {}).get("loadBalancer", {}).get("ingress", []):
            if "ip" in ingress and ip(ingress["ip"]) not in assigned:
                assigned.append(ip(ingress["ip"]))
        declared = [ip(spec["loadBalancerIP"])] if spec.get("loadBalancerIP") else []
        annotations = meta.get("annotations", {})
        for key in ("metallb.universe.tf/loadBalancerIPs", "metallb.io/loadBalancerIPs"):
            for part in annotations.get(key, "").split(","):
                if part.strip() and ip(part) not in declared:
                    declared.append(ip(part))
        ports = ",".join("%s/%d" % (p.get("protocol", "TCP"), p["port"]) for p in spec.get("ports", []))
        metallb = ",".join(sorted(k for k in annotations if k.startswith(("metallb.universe.tf/", "metallb.io/"))))
        yield "svc %s/%s assigned=%s declared=%s ports=%s policy=%s annotations=%s" % (
            meta.get("namespace", "default"), meta["name"], ",".join(assigned), ",".join(declared), ports,
            spec.get("externalTrafficPolicy", "Cluster"), metallb)


def nodes(path):
    for item in json.load(open(path))["items"]:
        addresses = [ip(a["address"]) for a in item["status"]["addresses"] if a["type"] == "InternalIP"]
        yield "node %s %s" % (item["metadata"]["name"], ",".join(addresses))


def seconds(text):
    total, digits = 0, ""
    for c in text:
        if c.isdigit():
            digits += c
        else:
            total += int(digits) * {"h": 3600, "m": 60, "s": 1}[c]
            digits = ""
    return total


def metallb(path):
    documents, skipped = [], 0
    for document in yaml.safe_load_all(open(path)):
        if document is None:
            continue
        documents += document["items"] if document.get("kind") == "List" else [document]
    for d in documents:
        kind, spec = d.get("kind"), d.get("spec", {})
        name = "%s/%s" % (d["metadata"].get("namespace", "metallb-system"), d["metadata"]["name"])
        if d.get("apiVersion") not in ("metallb.io/v1beta1", "metallb.io/v1beta2"):
            skipped += 1
        elif kind == "IPAddressPool":
            ranges = []
            for text in spec["addresses"]:
                if "-" in text:
                    first, last = (ip(x) for x in text.split("-"))
                else:
                    network = ipaddress.ip_network(text, strict=False)
                    first, last = str(network[0]), str(network[-1])
                ranges.append("%s-%s" % (first, last))
            yield "pool %s %s autoAssign=%s avoidBuggyIPs=%s" % (
                name, ",".join(ranges), spec.get("autoAssign", True), spec.get("avoidBuggyIPs", False))
        elif kind == "L2Advertisement":
            yield "l2 %s pools=%s interfaces=%s selectors=%d" % (
                name, ",".join(spec.get("ipAddressPools", [])), ",".join(spec.get("interfaces", [])),
                len(spec.get("nodeSelectors", [])))
        elif kind == "BGPPeer":
            auth = ("secret:" + spec["passwordSecret"]["name"]) if "passwordSecret" in spec else (
                "password" if spec.get("password") else "none")
            yield "peer %s %s peerASN=%d myASN=%d port=%d hold=%s auth=%s multihop=%s" % (
                name, ip(spec["peerAddress"]), spec["peerASN"], spec["myASN"], spec.get("peerPort", 179),
                seconds(spec["holdTime"]) if "holdTime" in spec else "-", auth, spec.get("ebgpMultiHop", False))
        elif kind == "BGPAdvertisement":
            yield "bgpadv %s pools=%s length=%d/%d localPref=%s communities=%s peers=%s" % (
                name, ",".join(spec.get("ipAddressPools", [])), spec.get("aggregationLength", 32),
                spec.get("aggregationLengthV6", 128), spec.get("localPref", "-"),
                ",".join(spec.get("communities", [])), ",".join(spec.get("peers", [])))
        elif kind == "Community":
            yield "community %s %s" % (name, ",".join("%s=%s" % (c["name"], c["value"]) for c in spec["communities"]))
        else:
            skipped += 1
    yield "skipped %d" % skipped


mode, path = sys.argv[1], sys.argv[2]
for line in {"services": services, "nodes": nodes, "metallb": metallb}[mode](path):
    print(line)
