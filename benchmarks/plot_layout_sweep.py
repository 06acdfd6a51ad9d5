#!/usr/bin/env python3
"""Turns bench_layouts' JSON (BM_LayoutSweep) into the ParallelResidual /
SequentialResidual speed-up: a Markdown table per (kernel, threads) on stdout
and, with --svg, a heat map of the same numbers. No third-party packages.

  bench_layouts --benchmark_out=sweep.json
  benchmarks/plot_layout_sweep.py sweep.json --svg layout_sweep.svg
"""
import argparse
import json
import re
from collections import defaultdict

NAME = re.compile(r"BM_LayoutSweep/N:(\d+)/F:(\d+)/k:(\d+)/threads:(\d+)")


def read(path):
    grids = defaultdict(dict)  # (k, threads) -> {(n, f): speed-up}
    with open(path) as f:
        for b in json.load(f)["benchmarks"]:
            m = NAME.match(b["name"])
            if not m or b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            n, f_, k, threads = map(int, m.groups())
            grids[(k, threads)][(n, f_)] = b["speedup"]
    return grids


def table(grid):
    ns = sorted({n for n, _ in grid})
    fs = sorted({f for _, f in grid})
    lines = ["| N \\ F | " + " | ".join(str(f) for f in fs) + " |", "|---" * (len(fs) + 1) + "|"]
    for n in ns:
        cells = [f"{grid[(n, f)]:.2f}" if (n, f) in grid else "" for f in fs]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def colour(r):
    # 1.0 white; faster parallel layout green, slower red, saturating at 2x.
    t = max(-1.0, min(1.0, (r - 1.0) if r >= 1 else (r - 1.0) * 2))
    if t >= 0:
        return f"rgb({int(255 * (1 - t))},{int(255 - 90 * t)},{int(255 * (1 - t))})"
    return f"rgb(255,{int(255 * (1 + t))},{int(255 * (1 + t))})"


def svg(grids):
    cell, pad, gap = 44, 40, 30
    parts, x0 = [], pad
    height = 0
    for (k, threads), grid in sorted(grids.items()):
        ns = sorted({n for n, _ in grid})
        fs = sorted({f for _, f in grid})
        parts.append(f'<text x="{x0}" y="20" font-size="13">k={k}, {threads} thread(s): speed-up</text>')
        for j, f in enumerate(fs):
            parts.append(f'<text x="{x0 + pad + j * cell + cell / 2}" y="{pad + 12}" font-size="11" '
                         f'text-anchor="middle">F={f}</text>')
        for i, n in enumerate(ns):
            y = pad + 20 + i * cell
            parts.append(f'<text x="{x0 + pad - 4}" y="{y + cell / 2 + 4}" font-size="11" '
                         f'text-anchor="end">N={n}</text>')
            for j, f in enumerate(fs):
                if (n, f) not in grid:
                    continue
                r = grid[(n, f)]
                x = x0 + pad + j * cell
                parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{colour(r)}" '
                             f'stroke="#888"/>')
                parts.append(f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" font-size="11" '
                             f'text-anchor="middle">{r:.2f}</text>')
        x0 += pad + len(fs) * cell + gap
        height = max(height, pad + 20 + len(ns) * cell + 10)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{x0}" height="{height}" '
            f'font-family="sans-serif">\n' + "\n".join(parts) + "\n</svg>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("--svg", help="write a heat map here")
    a = ap.parse_args()
    grids = read(a.json)
    for (k, threads), grid in sorted(grids.items()):
        print(f"\nk={k}, {threads} thread(s): ParallelResidual speed-up over SequentialResidual\n")
        print(table(grid))
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg(grids))


if __name__ == "__main__":
    main()
