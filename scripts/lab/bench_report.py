#!/usr/bin/env python3
"""Render scripts/bench's results (bench/work/results.json) as bench/RESULTS.md and bench/results.svg.

usage: bench_report.py [RESULTS_JSON [OUT_DIR]]     defaults: bench/work/results.json, bench/

bench_harness.py calls render() at the end of a run; run this by hand to re-render without measuring.
The chart is plain SVG written here (no plotting library): one horizontal bar per ratio on a log scale,
its target as a dashed tick, green when met, red when missed, grey for reference rows without a target.
"""
import json
import math
import os
import sys
from html import escape

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

KIND_TEXT = {"speedup": "faster (higher is better)", "overhead": "cost over the floor (lower is better)",
             "memory": "peak RSS ratio (lower is better)",
             "per-address": "bytes of peak RSS per tracked address (lower is better)",
             "drops": "kernel drops beyond the peer's (lower is better)"}


def seconds(value):
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def megabytes(kb):
    return "-" if kb is None else f"{kb / 1024:.1f} MB"


def target_text(r):
    if r["target"] is None:
        return "-"
    if r["kind"] == "per-address":
        return f"≤ {r['target']:g} B"
    if r["kind"] == "drops":
        return f"≤ {r['target']:g} more"
    return ("≥ " if r["kind"] == "speedup" else "≤ ") + f"{r['target']:g}x"


def ratio_text(value):
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def value_text(r, value):
    """A ratio, or for a per-address row bytes per address."""
    if r["kind"] == "per-address" and value is not None:
        return f"{value:.0f} B"
    if r["kind"] == "drops" and value is not None:
        return f"{value:+.0f} frames"
    return ratio_text(value)


def side_text(side):
    if "cpu" not in side:
        return "-"
    return f"{seconds(side['wall'])} / {seconds(side['cpu'])} / {megabytes(side['rss_kb'])}"


def verdict_text(r):
    return {"met": "met", "MISSED": "**MISSED**", "FAILURE": "**FAILURE**", "reference": "reference"}[r["verdict"]]


def markdown(info):
    rows = info["rows"]
    m, v = info["machine"], info["versions"]
    load = info["load_average"]
    out = ["# Benchmark results", "",
           f"Measured by `scripts/bench` on {info['date']} at commit {m['commit']}: {info['rounds']} alternating "
           f"rounds per pair ({', '.join(info['groups'])}), {info['minutes']} minutes in all. Every tool is a "
           "release build; every peer is Debian 12's package. Ratios use the median **CPU time** (user + system "
           "of the measured process, from wait4): this machine is shared with other engineers, so wall time "
           "includes waiting for a core. Wall-time ratios are shown beside them. A ratio only counts once both "
           "sides gave the same answer (see [Answer checks](#answer-checks)); otherwise the row is a FAILURE.",
           "",
           f"Load average (1, 5, 15 min) before the run: {', '.join(map(str, load['before']))}; after: "
           f"{', '.join(map(str, load['after']))} on {m['nproc']} cores. Each row below notes the 1-minute load "
           "average while it ran.", "",
           "![Ratios against their targets](results.svg)", "",
           "## Targets", "",
           "| pair | target | ratio (CPU) | ratio (wall) | verdict | same answer | load |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['name']} | {target_text(r)} | {value_text(r, r.get('ratio_cpu'))} | "
                   f"{value_text(r, r.get('ratio_wall'))} | {verdict_text(r)} | {'yes' if r['check']['ok'] else '**no**'} "
                   f"| {r.get('load', '-')} |")
    misses = [r for r in rows if r["verdict"] in ("MISSED", "FAILURE")]
    if misses:
        out += ["", "Missed or failed in this run:", ""]
        for r in misses:
            if r["verdict"] == "FAILURE":
                out.append(f"- {r['name']}: FAILURE: {r['check']['detail']}")
            elif r["kind"] in ("per-address", "drops"):
                out.append(f"- {r['name']}: {value_text(r, r['ratio_cpu'])} against a target of {target_text(r)}.")
            elif r["kind"] == "memory":
                out.append(f"- {r['name']}: peak RSS {megabytes(r['ours']['rss_kb'])} against "
                           f"{megabytes(r['theirs']['rss_kb'])}, {ratio_text(r['ratio_cpu'])}, against a target "
                           f"of {target_text(r)}.")
            else:
                out.append(f"- {r['name']}: {ratio_text(r['ratio_cpu'])} on CPU time "
                           f"({ratio_text(r['ratio_wall'])} on wall time) against a target of {target_text(r)}.")
    out += ["", "## Measurements", "",
            "Each side: median wall time / median CPU time (user + system) / largest peak RSS over the rounds. "
            "The floor is `corebench floor FILE`, a bare libpcap read loop over the same file (what reading "
            "the capture alone costs), measured in the same rounds.", "",
            "| pair | input | vipscope | peer | floor (wall / CPU) |", "|---|---|---|---|---|"]
    for r in rows:
        floor = r.get("floor")
        floor_text = f"{seconds(floor['wall'])} / {seconds(floor['cpu'])}" if floor else "-"
        out.append(f"| {r['name']} | {r['input']} | {r['ours']['label']}: {side_text(r['ours'])} | "
                   f"{r['theirs']['label']}: {side_text(r['theirs'])} | {floor_text} |")
    out += ["", "Commands (paths relative to the repository; `bench/work/` is git-ignored):", ""]
    seen = set()
    for r in rows:
        for side in (r["ours"], r["theirs"], r.get("floor") or {}):
            if side.get("command") and side["command"] not in seen:
                seen.add(side["command"])
                out.append(f"- `{side['command']}`")
    out += ["", "## Answer checks", ""]
    for r in rows:
        out.append(f"- {r['name']}: {'same answer' if r['check']['ok'] else '**answers differ**'}: "
                   f"{r['check']['detail']}." + (f" ({r['note']})" if r.get("note") else ""))
    out += ["", "## Inputs", "", "Generated deterministically by the scripts under `scripts/lab/` (the same bytes on "
            "every machine); the sha256 prefix lets a reader check.", "",
            "| input | file | size | sha256 (first 16) | contents |", "|---|---|---|---|---|"]
    for key, item in info["inputs"].items():
        size = f"{item['bytes'] / 1e6:.1f} MB" if item["bytes"] else "-"
        out.append(f"| {key} | `{item['path']}` | {size} | {item['sha256_16'] or '-'} | {item['description']} |")
    out += ["", "## Machine", "",
            f"- {m['nproc']} cores: {m['cpu']}; {m['memory_gib']} GiB memory",
            f"- kernel {m['kernel']}; {m['os']}",
            f"- load average before {', '.join(map(str, load['before']))}, after {', '.join(map(str, load['after']))}",
            "", "## Versions", ""]
    for name, text in v.items():
        out.append(f"- {name}: {text}")
    out += ["", "## Reproduce", "", "```sh",
            "scripts/bench            # as root: installs missing peers, builds, generates, measures, writes this page",
            "scripts/bench --quick    # two rounds instead of five",
            "scripts/bench --only bgp # one group: arp, core, bgp, addr, svc",
            "```", ""]
    return "\n".join(out)


def svg(info):
    # Bytes per address are no ratio: they stay in the table, off the ratio chart.
    rows = [r for r in info["rows"] if (r.get("ratio_cpu") or r["verdict"] == "FAILURE") and r["kind"] not in ("per-address", "drops")]
    values = [r["ratio_cpu"] for r in rows if r.get("ratio_cpu")] + [r["target"] for r in rows if r["target"]]
    low = 10 ** math.floor(math.log10(min(values + [1]) / 1.5))
    high = 10 ** math.ceil(math.log10(max(values + [1]) * 1.5))
    width, label_width, right_pad = 1060, 390, 210
    top, row_height = 64, 38
    plot_left, plot_right = label_width, width - right_pad
    height = top + row_height * len(rows) + 46

    def x(value):
        value = min(max(value, low), high)
        return plot_left + (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low)) * (
            plot_right - plot_left)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             '<text x="16" y="24" font-size="16" font-weight="bold">'
             'vipscope against the tools people use today</text>',
             f'<text x="16" y="44" fill="#555">Median CPU-time ratios (peak RSS for memory rows), log scale; dashed '
             f'tick = target. {escape(info["date"])}, {info["machine"]["nproc"]} cores, load '
             f'{info["load_average"]["before"][0]} to {info["load_average"]["after"][0]}.</text>']
    # Grid: every 1-2-5 step on the log scale.
    decades = round(math.log10(high / low))
    decade = low
    while decade <= high:
        for step in (1, 2, 5):
            value = decade * step
            if low <= value <= high:
                gx = x(value)
                strong = step == 1
                parts.append(f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - 40}" '
                             f'stroke="{"#bbb" if strong else "#e4e4e4"}" stroke-width="1"/>')
                if strong or decades <= 3:  # 2x and 5x labels only while they have room
                    parts.append(f'<text x="{gx:.1f}" y="{height - 24}" text-anchor="middle" fill="#555">'
                                 f'{value:g}x</text>')
        decade *= 10
    parts.append(f'<text x="{x(1):.1f}" y="{height - 8}" text-anchor="middle" fill="#555">parity</text>')
    for index, r in enumerate(rows):
        y = top + index * row_height
        parts.append(f'<text x="{label_width - 10}" y="{y + 14}" text-anchor="end" font-weight="bold">'
                     f'{escape(r["name"])}</text>')
        parts.append(f'<text x="{label_width - 10}" y="{y + 28}" text-anchor="end" fill="#666" font-size="11">'
                     f'{escape(KIND_TEXT[r["kind"]])}</text>')
        if r["verdict"] == "FAILURE" or not r.get("ratio_cpu"):
            parts.append(f'<text x="{plot_left + 6}" y="{y + 20}" fill="#b00020" font-weight="bold">'
                         f'FAILURE: answers differ ({escape(r["check"]["detail"][:90])})</text>')
            continue
        colour = {"met": "#2e8b57", "MISSED": "#d62728", "reference": "#9a9a9a"}[r["verdict"]]
        end = x(r["ratio_cpu"])
        parts.append(f'<rect x="{plot_left}" y="{y + 6}" width="{max(end - plot_left, 1):.1f}" height="20" '
                     f'fill="{colour}" rx="2"/>')
        if r["target"]:
            tx = x(r["target"])
            parts.append(f'<line x1="{tx:.1f}" y1="{y + 1}" x2="{tx:.1f}" y2="{y + 31}" stroke="black" '
                         f'stroke-width="2" stroke-dasharray="4,2"/>')
        label = ratio_text(r["ratio_cpu"])
        if r["target"]:
            label += f"  {r['verdict']} (target {target_text(r)})"
        else:
            label += "  (no target)"
        parts.append(f'<text x="{plot_right + 8}" y="{y + 21}" fill="{colour}" font-weight="bold">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def text_table(info):
    lines = [f"{'pair':58} {'ours cpu':>9} {'peer cpu':>9} {'ours rss':>9} {'peer rss':>9} "
             f"{'cpu x':>7} {'wall x':>7} {'target':>7}  verdict"]
    for r in info["rows"]:
        a, b = r["ours"], r["theirs"]
        lines.append(f"{r['name'][:58]:58} {seconds(a.get('cpu')):>9} {seconds(b.get('cpu')):>9} "
                     f"{megabytes(a.get('rss_kb')):>9} {megabytes(b.get('rss_kb')):>9} "
                     f"{value_text(r, r.get('ratio_cpu')):>7} {value_text(r, r.get('ratio_wall')):>7} "
                     f"{target_text(r):>7}  {r['verdict']}")
        lines.append(f"    check: {r['check']['detail']}")
    load = info["load_average"]
    lines.append(f"load average before {load['before']}, after {load['after']}; {info['minutes']} minutes")
    return "\n".join(lines)


def render(info, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "RESULTS.md"), "w") as f:
        f.write(markdown(info))
    with open(os.path.join(out_dir, "results.svg"), "w") as f:
        f.write(svg(info))
    return text_table(info)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "bench", "work", "results.json")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "bench")
    with open(path) as f:
        print(render(json.load(f), out))
