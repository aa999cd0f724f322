#!/usr/bin/env python3
"""The measurement half of scripts/bench: every vipscope tool against the tool people use today.

usage: bench_harness.py --bin DIR [--rounds N] [--only GROUP,...] [--work DIR] [--results DIR]

Groups (each generates its input deterministically into --work, once, and reuses it while the generator
and its arguments are unchanged):
  arp     garpwatch -r vs arpwatch -r (in an empty network namespace, so its DNS lookups fail at once) and
          the libpcap floor, on one million ARP frames with ownership moves (gen-garp.py); and garpwatch's
          peak RSS per tracked address on a million frames that each bring a new address (gen-garp.py
          cover order) above a 10-address run; the floor ratio again over a million addresses (defaults:
          65,536 tracked, the rest counted); and the live pair (scripts/bench-garpwatch-live: kernel drops
          against tcpdump's, live CPU against the same frames from the file)
  core    PacketCore's full decode vs the floor (corebench), and vipdump -r vs tcpdump -nn -r, on one
          million mixed frames (gen-mixed.py)
  bgp     bgpdecode -r --table vs tshark -T fields, and bgpdecode --mrt vs bgpdump -m, on one million small
          UPDATEs in MSS-sized segments and on a one-million-prefix IPv4+IPv6 full table with withdrawals
          (gen-bgp-bench.py), each as pcap and as MRT
  addr    addrinspect addr --json vs ip -j addr show over 10,000 addresses in a namespace
  svc     svcprobe probing 1,000 loopback listeners in one run vs mariadb-admin ping run once per listener

Every pair runs alternately (the order rotates each round), each run a fresh process measured with
wait4(): wall time, CPU time (user + system) and peak RSS. Medians are reported. Before a ratio counts,
the answers of both sides are compared (prefix sets, owner per IP, address sets, frame counts); a
mismatch makes the row a FAILURE. Verdicts use CPU time: the machine is shared, and wall time includes
waiting for a core while CPU time does not (both ratios are reported).

Writes WORK/results.json, then bench_report.py renders RESULTS.md and results.svg into --results.
Only loopback and a network namespace named bh<PID> are used; both are torn down on every exit path.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GROUPS = ["arp", "core", "bgp", "addr", "svc"]


def log(message):
    print(message, file=sys.stderr, flush=True)


# MARK: Measuring one run

@dataclass
class Run:
    wall: float
    cpu: float
    rss_kb: int


class CommandFailed(Exception):
    pass


def run_once(argv, stdout=os.devnull, stderr=None, check_status=(0,)):
    """Run `argv` once with stdout to the file `stdout`; returns (Run, exit status).

    The command runs under /usr/bin/time, which only reports its peak RSS (%M): a child spawned straight
    from this Python process would inherit this process's peak RSS as its own (posix_spawn shares the
    parent's memory until exec, and Linux keeps the larger high-water mark across exec), so every
    measurement would read at least as large as the harness. Wall time is measured here; CPU time is the
    wrapper's rusage from wait4 (its own and its child's, at microsecond resolution: /usr/bin/time prints
    only hundredths), so each side carries the wrapper's own start-up, well under a millisecond."""
    out = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err_path = stderr or os.devnull
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    rss_file = tempfile.NamedTemporaryFile(prefix="bh-rss-", delete=False)
    rss_file.close()
    wrapped = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + list(argv)
    try:
        start = time.perf_counter()
        pid = os.posix_spawn(wrapped[0], wrapped, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err, 2)])
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        with open(rss_file.name) as f:
            lines = f.read().split()
    finally:
        os.close(out)
        os.close(err)
        os.unlink(rss_file.name)
    code = os.waitstatus_to_exitcode(status)
    if check_status is not None and code not in check_status:
        detail = ""
        if stderr and os.path.exists(stderr):
            with open(stderr, errors="replace") as f:
                detail = ": " + " ".join(f.read().split())[:300]
        raise CommandFailed(f"{short(argv)} exited with {code}{detail}")
    rss = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return Run(wall, usage.ru_utime + usage.ru_stime, rss), code


def short(argv):
    words = [os.path.basename(argv[0])] + [os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in argv[1:]]
    text = " ".join(words)
    return text if len(text) <= 160 else text[:150] + " ..."


@dataclass
class Side:
    label: str
    command: str
    runs: list = field(default_factory=list)

    def summary(self):
        if not self.runs:
            return None
        return {"wall": statistics.median(r.wall for r in self.runs),
                "cpu": statistics.median(r.cpu for r in self.runs),
                "rss_kb": max(r.rss_kb for r in self.runs),
                "walls": [round(r.wall, 4) for r in self.runs],
                "cpus": [round(r.cpu, 4) for r in self.runs]}


def alternate(rounds, steps):
    """Run the (side, callable) `steps` `rounds` times, rotating their order each round."""
    for round_index in range(rounds):
        shift = round_index % len(steps)
        order = steps[shift:] + steps[:shift]
        for side, step in order:
            run = step()
            side.runs.append(run)
        log("  round %d: " % (round_index + 1) + "; ".join(
            f"{side.label} {side.runs[-1].wall:.3f}s wall {side.runs[-1].cpu:.3f}s cpu "
            f"{side.runs[-1].rss_kb / 1024:.1f}MB"
            for side, _ in steps))


# MARK: Rows

def row(group, name, input_name, ours, theirs, kind, target, check, floor=None, note="", per_address=None):
    """One line of the results table. kind: "speedup" (theirs / ours, higher is better), "overhead"
    (ours / theirs where theirs is the floor, lower is better), "memory" (peak RSS ours / theirs, lower is
    better), "per-address" (ours' peak RSS above theirs', a small run of the same tool, in bytes per tracked
    address: `per_address` addresses; lower is better). target None: a reference row, shown without a
    verdict."""
    a, b = ours.summary(), theirs.summary()
    result = {"group": group, "name": name, "input": input_name, "kind": kind, "target": target, "note": note,
              "ours": {"label": ours.label, "command": ours.command, **(a or {})},
              "theirs": {"label": theirs.label, "command": theirs.command, **(b or {})},
              "floor": {"command": floor.command, **floor.summary()} if floor and floor.runs else None,
              "check": check}
    if a and b:
        if kind == "speedup":
            result["ratio_cpu"] = b["cpu"] / max(a["cpu"], 1e-9)
            result["ratio_wall"] = b["wall"] / max(a["wall"], 1e-9)
        elif kind == "overhead":
            result["ratio_cpu"] = a["cpu"] / max(b["cpu"], 1e-9)
            result["ratio_wall"] = a["wall"] / max(b["wall"], 1e-9)
        elif kind == "drops":
            result["ratio_cpu"] = result["ratio_wall"] = getattr(ours, "drops", 0) - getattr(theirs, "drops", 0)
        elif kind == "per-address":
            result["ratio_cpu"] = result["ratio_wall"] = (a["rss_kb"] - b["rss_kb"]) * 1024 / max(per_address, 1)
        else:
            result["ratio_cpu"] = result["ratio_wall"] = a["rss_kb"] / max(b["rss_kb"], 1)
    if not check["ok"]:
        result["verdict"] = "FAILURE"
    elif target is None:
        result["verdict"] = "reference"
    else:
        ratio = result["ratio_cpu"]
        met = ratio >= target if kind == "speedup" else ratio <= target
        result["verdict"] = "met" if met else "MISSED"
    return result


def failure_row(group, name, input_name, kind, target, reason, ours_label="", theirs_label=""):
    return {"group": group, "name": name, "input": input_name, "kind": kind, "target": target, "note": "",
            "ours": {"label": ours_label, "command": ""}, "theirs": {"label": theirs_label, "command": ""},
            "floor": None, "check": {"ok": False, "detail": reason}, "verdict": "FAILURE"}


# MARK: Inputs

def generate(path, generator_args, outputs=None):
    """Run a generator (a script under scripts/lab plus arguments) unless `path` (and `outputs`) exist with
    a stamp naming the same generator bytes and arguments."""
    outputs = outputs or [path]
    script = os.path.join(HERE, generator_args[0])
    with open(script, "rb") as f:
        stamp = hashlib.sha256(f.read() + repr(generator_args).encode()).hexdigest()
    stamp_path = path + ".stamp"
    if all(os.path.exists(p) and os.path.getsize(p) > 0 for p in outputs) and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            if f.read().strip() == stamp:
                return
    log(f"generating {', '.join(os.path.relpath(p, ROOT) for p in outputs)} ({generator_args[0]})")
    subprocess.run([sys.executable, script] + [str(a) for a in generator_args[1:]], check=True,
                   stdout=subprocess.DEVNULL)
    with open(stamp_path, "w") as f:
        f.write(stamp + "\n")


def warm(*paths):
    """Read the files once so every side starts from the page cache."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 22):
                pass


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()[:16]


# MARK: Groups

class Bench:
    def __init__(self, args):
        self.bin = args.bin
        self.rounds = args.rounds
        self.scale = args.scale
        self.work = args.work
        self.out = os.path.join(self.work, "out")
        os.makedirs(self.out, exist_ok=True)
        self.inputs = {}
        self.rows = []
        self.load = []

    def size(self, count):
        """`count` times --scale (1 for the real run; smaller to try the harness out quickly)."""
        return max(10, int(count * self.scale))

    def tool(self, name):
        return os.path.join(self.bin, name)

    def o(self, name):
        return os.path.join(self.out, name)

    def note_input(self, key, path, description):
        self.inputs[key] = {"path": os.path.relpath(path, ROOT), "bytes": os.path.getsize(path),
                            "sha256_16": digest(path), "description": description}

    def floor_side(self, path):
        side = Side("libpcap floor", short([self.tool("corebench"), "floor", path]))
        return side, lambda: run_once([self.tool("corebench"), "floor", path], self.o("floor.txt"))[0]

    # --- arp ---------------------------------------------------------------------------------------
    def garp_input(self, key, frames, addresses, coverage):
        """gen-garp.py's capture of `frames` ARP frames over `addresses` addresses, noted and read once."""
        pcap = os.path.join(self.work, f"garp-{frames}-{addresses}.pcap")
        generate(pcap, ["gen-garp.py", pcap, frames, addresses])
        self.note_input(key, pcap, f"{frames:,} ARP frames over {addresses:,} IPv4 addresses{coverage} and 64 "
                                   "MACs; an ownership move (gratuitous request or reply) every 1,000 frames")
        warm(pcap)
        return pcap

    def group_arp(self):
        frames, addresses = self.size(1_000_000), self.size(10_000)
        pcap = self.garp_input("arp", frames, addresses, "")
        ns = f"bh{os.getpid()}arp"
        subprocess.run(["ip", "netns", "add", ns], check=True)
        try:
            arp_dat = self.o("arp.dat")
            floor, floor_step = self.floor_side(pcap)
            ours = Side("garpwatch -r", short([self.tool("garpwatch"), "-r", pcap]))
            theirs = Side("arpwatch -r", f"ip netns exec {ns} arpwatch -d -N -f arp.dat -r "
                                         + os.path.relpath(pcap, ROOT))

            def arpwatch():
                open(arp_dat, "w").close()
                return run_once(["ip", "netns", "exec", ns, "arpwatch", "-d", "-N", "-f", arp_dat, "-r", pcap],
                                self.o("arpwatch.out"), self.o("arpwatch.err"))[0]

            alternate(self.rounds, [
                (floor, floor_step),
                (ours, lambda: run_once([self.tool("garpwatch"), "-r", pcap], self.o("garpwatch.txt"),
                                        self.o("garpwatch.err"))[0]),
                (theirs, arpwatch)])
        finally:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        check = check_owners(self.o("garpwatch.txt"), arp_dat)
        note = "arpwatch -d -N in an empty namespace (DNS fails fast); output to a file"
        self.rows.append(row("arp", "garpwatch vs arpwatch", "arp", ours, theirs, "speedup", 25, check, floor, note))
        self.rows.append(row("arp", "garpwatch vs libpcap floor", "arp", ours, floor, "overhead", 3, check))
        self.garpwatch_many_addresses()
        self.garpwatch_memory()
        self.garpwatch_live()

    def garpwatch_many_addresses(self):
        """Issue 15: the floor ratio over a million addresses (random order, so about 63 % of them appear),
        with garpwatch's defaults: it tracks --max-bindings (65,536) of them and counts the frames about the
        rest in its summary, as a user's run would."""
        frames, addresses = self.size(1_000_000), self.size(1_000_000)
        pcap = self.garp_input("arp-many", frames, addresses, " (random, so about 63 % appear)")
        floor, floor_step = self.floor_side(pcap)
        ours = Side("garpwatch -r", short([self.tool("garpwatch"), "-r", pcap]))
        alternate(self.rounds, [
            (floor, floor_step),
            (ours, lambda: run_once([self.tool("garpwatch"), "-r", pcap], self.o("garpwatch-many.txt"),
                                    self.o("garpwatch-many.err"))[0])])
        with open(self.o("garpwatch-many.txt")) as f:
            summary = next((line for line in f if line.startswith("summary: ")), "")
        seen = re.match(r"summary: (\d+) frames", summary)
        tracked = re.search(r"; (\d+) addresses", summary)
        refused = re.search(r"table full: (\d+) frames", summary)
        counted = int(seen.group(1)) if seen else 0
        check = {"ok": counted == frames and tracked is not None,
                 "detail": f"frames in the summary {counted:,} of {frames:,}; addresses tracked "
                           f"{int(tracked.group(1)) if tracked else 0:,} (--max-bindings default), frames about "
                           f"further addresses counted as not tracked {int(refused.group(1)) if refused else 0:,}"}
        self.rows.append(row("arp", "garpwatch vs libpcap floor (1,000,000 addresses)", "arp-many", ours, floor,
                             "overhead", 3, check, note="default --max-bindings; output to a file"))

    def garpwatch_live(self):
        """Issue 15: `tcpreplay --topspeed` of a million ARP frames into a veth pair, captured by tcpdump -w
        /dev/null and by garpwatch -i (scripts/bench-garpwatch-live): kernel drops against tcpdump's, and the
        live CPU time against the same frames read from the file."""
        frames = self.size(1_000_000)
        env = dict(os.environ, GARPWATCH_BIN=os.path.dirname(self.tool("garpwatch")))
        done = subprocess.run([os.path.join(ROOT, "scripts", "bench-garpwatch-live"), str(frames), str(self.rounds)],
                              env=env, capture_output=True, text=True)
        with open(self.o("garpwatch-live.err"), "w") as f:
            f.write(done.stderr)
        found = re.search(r"live-pair .*tcpdump_cpu=([\d.]+) tcpdump_drops=([\d.]+) live_cpu=([\d.]+) "
                          r"live_drops=([\d.]+) file_cpu=([\d.]+)", done.stdout)
        if done.returncode != 0 or not found:
            reason = f"bench-garpwatch-live exited {done.returncode}: " + " ".join(done.stderr.split())[-300:]
            self.rows.append(failure_row("arp", "garpwatch -i kernel drops vs tcpdump", "arp-live", "drops", 0,
                                         reason))
            return
        tcpdump_cpu, tcpdump_drops, live_cpu, live_drops, file_cpu = (float(x) for x in found.groups())
        self.note_input("arp-live", os.path.join(ROOT, "bench", "work", f"garp-live-{frames}.pcap"),
                        f"{frames:,} ARP frames over 254 addresses of 198.51.100.0/24, replayed with tcpreplay "
                        "--topspeed into a veth pair in a namespace of its own")
        # CPU times only (a capture's wall time is the replay's): wall is shown as the CPU time.
        tcpdump = Side("tcpdump -w /dev/null", "tcpdump -n -i vb -w /dev/null", [Run(tcpdump_cpu, tcpdump_cpu, 0)])
        tcpdump.drops = tcpdump_drops
        live = Side("garpwatch -i", "garpwatch -i vb --summary-only", [Run(live_cpu, live_cpu, 0)])
        live.drops = live_drops
        file = Side("garpwatch -r", "garpwatch -r FILE --summary-only", [Run(file_cpu, file_cpu, 0)])
        check = {"ok": True, "detail": f"kernel drops (median of {self.rounds} rounds): garpwatch -i "
                                       f"{live_drops:g}, tcpdump {tcpdump_drops:g} of {frames:,} frames"}
        self.rows.append(row("arp", "garpwatch -i kernel drops vs tcpdump", "arp-live", live, tcpdump, "drops", 0,
                             check, note="frames dropped by the kernel beyond tcpdump's, medians"))
        self.rows.append(row("arp", "garpwatch -i CPU vs the same frames from the file", "arp-live", live, file,
                             "overhead", 2, check, note="CPU time only: a live capture lasts as long as the replay"))

    def garpwatch_memory(self):
        """Issue 15: peak RSS per tracked address, a million frames each bringing a new address (every address
        once, in random order), above the same command on 10 addresses (the binary, libraries and fixed
        tables)."""
        frames, addresses = self.size(1_000_000), self.size(1_000_000)
        pcap = os.path.join(self.work, f"garp-{frames}-{addresses}-cover.pcap")
        generate(pcap, ["gen-garp.py", pcap, frames, addresses, "198.18.0.1", "cover"])
        small = os.path.join(self.work, "garp-1000-10.pcap")
        generate(small, ["gen-garp.py", small, 1000, 10])
        self.note_input("arp-addresses", pcap, f"{frames:,} ARP frames over {addresses:,} IPv4 addresses, each "
                                               "address once in random order (cover), then random")
        warm(pcap)
        limit = ["--max-bindings", "1048576"]
        big = Side("garpwatch -r", short([self.tool("garpwatch"), "-r", pcap] + limit))
        base = Side("garpwatch -r, 10 addresses", short([self.tool("garpwatch"), "-r", small] + limit))
        alternate(self.rounds, [
            (big, lambda: run_once([self.tool("garpwatch"), "-r", pcap] + limit, self.o("garpwatch-cover.txt"))[0]),
            (base, lambda: run_once([self.tool("garpwatch"), "-r", small] + limit, self.o("garpwatch-10.txt"))[0])])
        with open(self.o("garpwatch-cover.txt")) as f:
            summary = next((line for line in f if line.startswith("summary: ")), "")
        found = re.search(r"; (\d+) address", summary)
        tracked = int(found.group(1)) if found else 0
        check = {"ok": tracked == addresses,
                 "detail": f"addresses in the summary: {tracked:,}, generated {addresses:,}"}
        self.rows.append(row("arp", "garpwatch peak RSS per tracked address", "arp-addresses", big, base,
                             "per-address", 256, check, per_address=tracked,
                             note="bytes above the 10-address run, divided by the addresses tracked"))

    # --- core --------------------------------------------------------------------------------------
    def group_core(self):
        frames = self.size(1_000_000)
        pcap = os.path.join(self.work, f"mixed-{frames}.pcap")
        generate(pcap, ["gen-mixed.py", pcap, frames])
        self.note_input("core", pcap, f"{frames:,} mixed frames: ~40% ARP with ownership moves, ~50% IPv4 TCP with "
                                      "options (BGP, MySQL, HTTPS ports), ~10% IPv6 (NDP and TCP)")
        warm(pcap)
        floor = Side("libpcap floor", short([self.tool("corebench"), "floor", pcap]))
        decode = Side("PacketCore decode", short([self.tool("corebench"), "decode", pcap]))
        lines = {"floor": [], "decode": []}

        def corebench(mode):
            def step():
                path = self.o(f"corebench-{mode}.txt")
                result = run_once([self.tool("corebench"), mode, pcap], path)[0]
                with open(path) as f:
                    lines[mode].append(f.read().strip())
                return result
            return step

        alternate(self.rounds, [(floor, corebench("floor")), (decode, corebench("decode"))])
        check = check_corebench(lines, frames)
        self.rows.append(row("core", "PacketCore decode vs libpcap floor", "core", decode, floor, "overhead", 2,
                             check, note="every layer of every frame; corebench in one process, no output"))

        vipdump = Side("vipdump -r", short([self.tool("vipdump"), "-r", pcap]))
        tcpdump = Side("tcpdump -nn -r", short(["tcpdump", "-nn", "-r", pcap]))
        alternate(self.rounds, [
            (vipdump, lambda: run_once([self.tool("vipdump"), "-r", pcap], self.o("vipdump.txt"))[0]),
            (tcpdump, lambda: run_once(["tcpdump", "-nn", "-r", pcap], self.o("tcpdump.txt"),
                                       self.o("tcpdump.err"))[0])])
        counts = {name: count_lines(self.o(f"{name}.txt")) for name in ("vipdump", "tcpdump")}
        ok = counts["vipdump"] == counts["tcpdump"] == frames
        check = {"ok": ok, "detail": f"one line per frame: vipdump {counts['vipdump']:,}, "
                                     f"tcpdump {counts['tcpdump']:,}, frames {frames:,}"}
        self.rows.append(row("core", "vipdump vs tcpdump (print every frame)", "core", vipdump, tcpdump, "speedup",
                             None, check, floor, "text to a file; different detail per line, so no target"))

    # --- bgp ---------------------------------------------------------------------------------------
    def group_bgp(self):
        n = self.size(1_000_000)
        sets = [("bgp-updates", "in-order", f"{n:,} UPDATEs of one IPv4 /32 each (MetalLB/GoBGP style) in "
                                            "1,448-byte TCP segments; the same messages as MRT BGP4MP_ET"),
                ("bgp-fulltable", "fulltable", f"full-table session: {n:,} prefixes in the final table "
                                               "(80% IPv4 /16-/24, 20% IPv6 /32-/48 in MP_REACH_NLRI) in "
                                               "UPDATEs of 1-8 prefixes with varied attributes, plus "
                                               f"{n // 20:,} announced then withdrawn, and a kept prefix "
                                               "re-announced with other attributes every 50 UPDATEs")]
        # Issue 16: sessions that end, the field's shape (a MetalLB speaker restart); pcap rows only.
        ending_sets = [("bgp-updates-cease", "in-order", f"the {n:,} one-/32 UPDATEs of bgp-updates, then a "
                                                         "NOTIFICATION Cease (6/2) and FIN"),
                       ("bgp-fulltable-packed-cease", "fulltable-packed",
                        f"the bgp-fulltable table ({n:,} prefixes) in UPDATEs of about 900 IPv4 / 450 IPv6 "
                        "prefixes, then a NOTIFICATION Cease (6/2) and FIN")]
        # The full-table targets are 5x (issue 16, replacing the 20x of the benchmark issue): a node's
        # MetalLB sessions are the field's work.
        speed_targets = {"bgp-updates": 20, "bgp-fulltable": 5, "bgp-updates-cease": 20,
                         "bgp-fulltable-packed-cease": 5}
        for name, mode, description in sets + ending_sets:
            ending = "cease" if name.endswith("-cease") else None
            pcap = os.path.join(self.work, f"{name}-{n}.pcap")
            mrt = os.path.join(self.work, f"{name}-{n}.mrt")
            arguments = ["gen-bgp-bench.py", pcap, mrt, n] + ([mode] if mode != "in-order" or ending else [])
            arguments += [ending] if ending else []
            generate(pcap, arguments, [pcap, mrt])
            self.note_input(name, pcap, description)
            warm(pcap, mrt)
            self.bgp_pcap(name, pcap, n, speed_targets[name])
            if ending:
                continue
            self.note_input(name + "-mrt", mrt, "the same BGP messages as " + os.path.basename(pcap)
                            + ", as MRT BGP4MP_ET MESSAGE_AS4 records")
            self.bgp_mrt(name, mrt, n)

    def bgp_pcap(self, name, pcap, n, speed_target=20):
        fields = ["-e", "bgp.nlri_prefix", "-e", "bgp.withdrawn_prefix", "-e", "bgp.mp_reach_nlri_ipv6_prefix",
                  "-e", "bgp.mp_unreach_nlri_ipv6_prefix"]
        ours_cmd = [self.tool("bgpdecode"), "-r", pcap, "--table"]
        theirs_cmd = ["tshark", "-r", pcap, "-T", "fields"] + fields
        floor, floor_step = self.floor_side(pcap)
        ours = Side("bgpdecode -r --table", short(ours_cmd))
        theirs = Side("tshark -T fields", short(theirs_cmd))
        alternate(self.rounds, [
            (floor, floor_step),
            (ours, lambda: run_once(ours_cmd, self.o(f"{name}-bgpdecode.txt"), self.o("bgpdecode.err"))[0]),
            (theirs, lambda: run_once(theirs_cmd, self.o(f"{name}-tshark.txt"), self.o("tshark.err"))[0])])
        check = check_table_vs_tshark(self.o(f"{name}-bgpdecode.txt"), self.o(f"{name}-tshark.txt"), n)
        note = "final table vs tshark's announced minus withdrawn prefix fields; output to a file"
        self.rows.append(row("bgp", f"bgpdecode -r --table vs tshark ({name})", name, ours, theirs, "speedup",
                             speed_target, check, floor, note))
        self.rows.append(row("bgp", f"bgpdecode peak RSS vs tshark ({name})", name, ours, theirs, "memory", 0.5,
                             check, note=f"a {n:,}-prefix final table"))

    def bgp_mrt(self, name, mrt, n):
        ours_cmd = [self.tool("bgpdecode"), "--mrt", mrt]
        theirs_cmd = ["bgpdump", "-m", mrt]
        ours = Side("bgpdecode --mrt", short(ours_cmd))
        theirs = Side("bgpdump -m", short(theirs_cmd))
        alternate(self.rounds, [
            (ours, lambda: run_once(ours_cmd, self.o(f"{name}-mrt-bgpdecode.txt"), self.o("bgpdecode.err"))[0]),
            (theirs, lambda: run_once(theirs_cmd, self.o(f"{name}-bgpdump.txt"), self.o("bgpdump.err"))[0])])
        check = check_mrt(self.o(f"{name}-mrt-bgpdecode.txt"), self.o(f"{name}-bgpdump.txt"),
                          self.o(f"{name}-bgpdecode.txt"), n)
        note = "one line per announcement and withdrawal on both sides; output to a file"
        self.rows.append(row("bgp", f"bgpdecode --mrt vs bgpdump -m ({name})", name + "-mrt", ours, theirs,
                             "speedup", 5, check, note=note))

    # --- addr --------------------------------------------------------------------------------------
    def group_addr(self):
        addresses = self.size(10_000)
        ns = f"bh{os.getpid()}"
        batch = self.o("addresses.batch")
        with open(batch, "w") as f:
            for i in range(addresses):
                f.write(f"addr add fd99:1::{i // 65536:x}:{(i // 256) % 256:x}:{i % 256:x}/128 "
                        f"dev kube-ipvs{i % 4} nodad noprefixroute\n")
        self.inputs["addr"] = {"path": f"network namespace {ns} (deleted afterwards)", "bytes": 0, "sha256_16": "",
                               "description": f"{addresses:,} IPv6 /128s from fd99:1::/64 on four ifb devices "
                                              "with ARP off (the kube-ipvs0 stand-in; no dummy links here)"}
        subprocess.run(["ip", "netns", "add", ns], check=True)
        try:
            for d in range(4):
                subprocess.run(["ip", "-n", ns, "link", "add", f"kube-ipvs{d}", "type", "ifb"], check=True)
                subprocess.run(["ip", "-n", ns, "link", "set", f"kube-ipvs{d}", "arp", "off", "up"], check=True)
            subprocess.run(["ip", "-n", ns, "-batch", batch], check=True)
            ours_cmd = [self.tool("addrinspect"), "addr", "--json", "--netns", ns]
            theirs_cmd = ["ip", "-j", "-n", ns, "addr", "show"]
            ours = Side("addrinspect addr --json", short(ours_cmd))
            theirs = Side("ip -j addr show", short(theirs_cmd))
            run_once(ours_cmd)
            run_once(theirs_cmd)  # warm the kernel's and the loader's caches
            # Milliseconds per run: three times the rounds (at least nine) for a steadier median.
            alternate(max(9, 3 * self.rounds), [
                (ours, lambda: run_once(ours_cmd, self.o("addrinspect.json"), self.o("addrinspect.err"))[0]),
                (theirs, lambda: run_once(theirs_cmd, self.o("ip.json"), self.o("ip.err"))[0])])
        finally:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        check = check_addresses(self.o("addrinspect.json"), self.o("ip.json"), addresses)
        self.rows.append(row("addr", "addrinspect addr vs ip -j addr", "addr", ours, theirs, "speedup", 1, check,
                             note="rtnetlink dump of the namespace's addresses as JSON to a file"))

    # --- svc ---------------------------------------------------------------------------------------
    def group_svc(self):
        n = self.size(1000)
        self.inputs["svc"] = {"path": "127.0.0.1, ephemeral ports", "bytes": 0, "sha256_16": "",
                              "description": f"{n:,} loopback listeners in one Python process (selectors), each "
                                             "sending a MariaDB 10.11 greeting and answering a login with ERR 1045"}
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 20000), hard), hard))
        ports_path = self.o("listener-ports.txt")
        if os.path.exists(ports_path):
            os.remove(ports_path)
        listener = subprocess.Popen([sys.executable, os.path.join(HERE, "bench_listeners.py"), str(n), ports_path])
        try:
            for _ in range(300):
                if os.path.exists(ports_path) and os.path.getsize(ports_path) > 0:
                    break
                if listener.poll() is not None:
                    raise CommandFailed("bench_listeners.py exited early")
                time.sleep(0.05)
            with open(ports_path) as f:
                ports = f.read().split()
            targets = [f"127.0.0.1:{p}" for p in ports]
            ours_cmd = [self.tool("svcprobe")] + targets + ["--json", "--concurrency", str(n), "--timeout", "10s"]
            ours = Side(f"svcprobe ({n:,} targets, one run)",
                        f"svcprobe 127.0.0.1:PORT x{n} --json --concurrency {n} --timeout 10s")
            theirs = Side(f"mariadb-admin ping (x{n:,})",
                          "for each: mariadb-admin --no-defaults -h 127.0.0.1 -P PORT -u bench "
                          "--connect-timeout=10 ping")
            statuses = []

            def admin_loop():
                total = Run(0.0, 0.0, 0)
                statuses.clear()
                start = time.perf_counter()
                for port in ports:
                    run, code = run_once(["mariadb-admin", "--no-defaults", "-h", "127.0.0.1", "-P", port,
                                          "-u", "bench", "--connect-timeout=10", "ping"],
                                         self.o("admin.txt"), self.o("admin.err"), check_status=None)
                    statuses.append(code)
                    total.cpu += run.cpu
                    total.rss_kb = max(total.rss_kb, run.rss_kb)
                total.wall = time.perf_counter() - start
                return total

            alternate(self.rounds, [
                (ours, lambda: run_once(ours_cmd, self.o("svcprobe.json"), self.o("svcprobe.err"),
                                        check_status=None)[0]),
                (theirs, admin_loop)])
        finally:
            listener.terminate()
            listener.wait(timeout=10)
        check = check_probes(self.o("svcprobe.json"), statuses, n)
        self.rows.append(row("svc", f"svcprobe vs mariadb-admin ping, {n:,} servers", "svc", ours, theirs,
                             "speedup", None, check,
                             note="one concurrent run vs a loop of one process per server (what a shell loop does)"))


# MARK: Answer checks

def count_lines(path):
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 22), b""))


def normal_mac(text):
    return ":".join("%02x" % int(part, 16) for part in text.split(":"))


def check_owners(garpwatch_text, arp_dat):
    """garpwatch's final owner per IP (its summary) against arpwatch's arp.dat, where the owner is the MAC
    with the latest timestamp for the IP. arp.dat keeps whole seconds, so two MACs can tie; garpwatch's
    owner must then be one of them (ties are counted in the detail)."""
    ours = {}
    with open(garpwatch_text) as f:
        for line in f:
            if line.startswith("  ") and " owner " in line:
                words = line.split()
                ours[words[0]] = normal_mac(words[2])
    theirs = {}
    with open(arp_dat) as f:
        for line in f:
            words = line.split("\t")
            if len(words) >= 3:
                theirs.setdefault(words[1], []).append((int(words[2]), normal_mac(words[0])))
    ties = wrong = 0
    examples = []
    for ip, entries in theirs.items():
        latest = max(t for t, _ in entries)
        owners = {mac for t, mac in entries if t == latest}
        ties += len(owners) > 1
        if ours.get(ip) not in owners:
            wrong += 1
            if len(examples) < 3:
                examples.append(f"{ip} garpwatch {ours.get(ip)} arpwatch {'/'.join(sorted(owners))}")
    only_ours, only_theirs = len(set(ours) - set(theirs)), len(set(theirs) - set(ours))
    ok = wrong == 0 and only_ours == 0 and only_theirs == 0 and len(ours) > 0
    detail = (f"owner per IP: {len(ours):,} IPs (garpwatch), {len(theirs):,} (arpwatch), "
              f"{len(ours) - wrong if ok else wrong:,} {'agree' if ok else 'differ'}")
    if ties:
        detail += f" ({ties} same-second ties in arp.dat accepted either way)"
    if only_ours or only_theirs:
        detail += f"; only garpwatch {only_ours}, only arpwatch {only_theirs}"
    if examples:
        detail += "; e.g. " + ", ".join(examples)
    return {"ok": ok, "detail": detail}


def check_corebench(lines, frames):
    def parse(line):
        values = dict(word.split("=", 1) for word in line.split()[1:])
        return int(values["frames"]), values["checksum"]
    floor = [parse(line) for line in lines["floor"]]
    decode = [parse(line) for line in lines["decode"]]
    counts = {f for f, _ in floor} | {f for f, _ in decode}
    sums = {c for _, c in decode}
    ok = counts == {frames} and len(sums) == 1
    return {"ok": ok, "detail": f"frames: floor {sorted({f for f, _ in floor})}, "
                                f"decode {sorted({f for f, _ in decode})}, "
                                f"generated {frames:,}; decode checksum {'identical' if len(sums) == 1 else 'differs'} "
                                "in every round"}


def network_of(text):
    return str(ipaddress.ip_network(text, strict=False).network_address)


def table_prefixes(bgpdecode_text):
    """The announced prefixes of bgpdecode --table's text (lines "  FAMILY PREFIX via ...")."""
    prefixes = set()
    with open(bgpdecode_text) as f:
        for line in f:
            if line.startswith("  ") and "-unicast " in line:
                prefixes.add(line.split()[1])
    return prefixes


def check_table_vs_tshark(bgpdecode_text, tshark_text, n):
    """bgpdecode's final table against tshark's prefix fields: announced (NLRI and MP_REACH) minus
    withdrawn (withdrawn routes and MP_UNREACH). tshark prints addresses without lengths, so networks
    are compared (the generator never reuses a network address with another length)."""
    ours = {network_of(p) for p in table_prefixes(bgpdecode_text)}
    columns = [set(), set(), set(), set()]
    with open(tshark_text) as f:
        for line in f:
            for index, value in enumerate(line.rstrip("\n").split("\t")[:4]):
                if value:
                    columns[index].update(value.split(","))
    announced = {network_of(a) for a in columns[0] | columns[2]}
    withdrawn = {network_of(a) for a in columns[1] | columns[3]}
    theirs = announced - withdrawn
    ok = ours == theirs and len(ours) == n
    detail = (f"final prefixes: bgpdecode {len(ours):,}, tshark {len(theirs):,} ({len(announced):,} announced "
              f"- {len(withdrawn):,} withdrawn), expected {n:,}; sets {'identical' if ours == theirs else 'differ'}")
    if ours != theirs:
        detail += f" (only bgpdecode {len(ours - theirs):,}, only tshark {len(theirs - ours):,})"
    return {"ok": ok, "detail": detail}


def check_mrt(bgpdecode_events, bgpdump_text, pcap_table_text, n):
    """Replay both event streams in order to final tables; they must match each other, and the table
    bgpdecode rebuilt from the pcap of the same messages."""
    ours, theirs = set(), set()
    events = {"ours": 0, "theirs": 0}
    with open(bgpdecode_events) as f:
        for line in f:
            words = line.split()
            if len(words) > 5 and words[4] in ("announce", "replace", "withdraw"):
                events["ours"] += 1
                prefix = str(ipaddress.ip_network(words[6], strict=False))
                (ours.add if words[4] != "withdraw" else ours.discard)(prefix)
    with open(bgpdump_text) as f:
        for line in f:
            fields = line.rstrip("\n").split("|")
            if len(fields) > 5 and fields[2] in ("A", "W"):
                events["theirs"] += 1
                prefix = str(ipaddress.ip_network(fields[5], strict=False))
                (theirs.add if fields[2] == "A" else theirs.discard)(prefix)
    pcap_table = {str(ipaddress.ip_network(p, strict=False)) for p in table_prefixes(pcap_table_text)}
    ok = ours == theirs == pcap_table and len(ours) == n and events["ours"] == events["theirs"]
    detail = (f"events: bgpdecode {events['ours']:,}, bgpdump {events['theirs']:,}; final prefixes: "
              f"bgpdecode {len(ours):,}, bgpdump {len(theirs):,}, expected {n:,}; "
              f"sets {'identical (and equal to the pcap table)' if ok else 'differ'}")
    if ours != theirs:
        detail += f" (only bgpdecode {len(ours - theirs):,}, only bgpdump {len(theirs - ours):,})"
    return {"ok": ok, "detail": detail}


def check_addresses(addrinspect_json, ip_json, expected):
    ours = set()
    with open(addrinspect_json) as f:
        for line in f:
            if line.strip():
                item = json.loads(line)
                if item.get("event") == "addr":  # not the start object (docs/json.md)
                    ours.add((item.get("dev"), item.get("local"), item.get("prefixlen")))
    theirs = set()
    with open(ip_json) as f:
        for link in json.load(f):
            for item in link.get("addr_info", []):
                theirs.add((link.get("ifname"), item.get("local"), item.get("prefixlen")))
    bench = sum(1 for _, local, _ in ours if local and local.startswith("fd99:1::"))
    ok = ours == theirs and bench == expected
    detail = (f"(device, address, prefix length): addrinspect {len(ours):,}, ip {len(theirs):,} "
              f"(bench addresses {bench:,} of {expected:,}); sets {'identical' if ours == theirs else 'differ'}")
    return {"ok": ok, "detail": detail}


def check_probes(svcprobe_json, statuses, n):
    rows = []
    with open(svcprobe_json) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if row.get("event") == "probe":  # not the start object (docs/json.md)
                    rows.append(row)
    up = sum(1 for r in rows if r.get("up") is True)
    alive = sum(1 for code in statuses if code == 0)
    ok = up == n and alive == n
    outcomes = {}
    for r in rows:
        outcomes[r.get("outcome")] = outcomes.get(r.get("outcome"), 0) + 1
    return {"ok": ok, "detail": f"servers found up: svcprobe {up:,} of {len(rows):,} (outcomes {outcomes}), "
                                f"mariadb-admin ping exit 0 for {alive:,} of {len(statuses):,}"}


# MARK: Machine and versions

def first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0].strip() if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "missing"


def package(name):
    return first_line(["dpkg-query", "-W", "-f", "${Version}", name])


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory_kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    commit = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(memory_kb / 1048576, 1),
            "kernel": platform.release(), "os": first_line(["sh", "-c", ". /etc/os-release; echo $PRETTY_NAME"]),
            "commit": commit + (" (with uncommitted changes)" if dirty else "")}


def versions():
    return {
        "swift": first_line(["swift", "--version"]),
        "tshark": f"{first_line(['tshark', '--version'])} (Debian {package('tshark')})",
        "tcpdump": f"{first_line(['tcpdump', '--version'])} (Debian {package('tcpdump')})",
        "libpcap": f"Debian libpcap0.8 {package('libpcap0.8')}",
        "arpwatch": f"arpwatch (Debian {package('arpwatch')})",
        "bgpdump": f"bgpdump (Debian {package('bgpdump')})",
        "iproute2": f"{first_line(['ip', '-V'])} (Debian {package('iproute2')})",
        "mariadb-admin": first_line(["mariadb-admin", "--version"]),
        "time": f"GNU time (Debian {package('time')})",
        "python": platform.python_version(),
    }


# MARK: Main

def interrupted(signum, frame):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="directory of the release builds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups: " + ", ".join(GROUPS))
    parser.add_argument("--work", default=os.path.join(ROOT, "bench", "work"))
    parser.add_argument("--results", default=os.path.join(ROOT, "bench"))
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every input size (only to try the harness; results are not comparable)")
    args = parser.parse_args()
    groups = [g for g in args.only.split(",") if g]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups or args.rounds < 1:
        parser.error(f"unknown group(s) {unknown}; choose from {GROUPS}" if unknown else "nothing to run")

    # SIGTERM unwinds like Ctrl-C, so every finally (namespaces, listeners) runs.
    signal.signal(signal.SIGTERM, interrupted)
    os.makedirs(args.work, exist_ok=True)
    bench = Bench(args)
    started = time.time()
    load_before = os.getloadavg()
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), "rounds": args.rounds,
            "groups": groups, "scale": args.scale, "machine": machine(), "versions": versions()}
    for group in groups:
        log(f"== {group} (load average {os.getloadavg()[0]:.2f})")
        before = len(bench.rows)
        load = os.getloadavg()[0]
        try:
            getattr(bench, "group_" + group)()
        except CommandFailed as error:
            bench.rows.append(failure_row(group, f"{group}: could not run", group, "speedup", None, str(error)))
        for r in bench.rows[before:]:
            r["load"] = round((load + os.getloadavg()[0]) / 2, 2)
    info["load_average"] = {"before": [round(x, 2) for x in load_before],
                            "after": [round(x, 2) for x in os.getloadavg()]}
    info["minutes"] = round((time.time() - started) / 60, 1)
    info["inputs"] = bench.inputs
    info["rows"] = bench.rows
    results_json = os.path.join(args.work, "results.json")
    with open(results_json, "w") as f:
        json.dump(info, f, indent=1)
    import bench_report
    print(bench_report.render(info, args.results))
    return 1 if any(r["verdict"] == "FAILURE" for r in bench.rows) else 0


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("bench: interrupted")
        sys.exit(2)
