#!/usr/bin/python3
"""Figures 3-5 and Table 2 of "Make Deep Networks Shallow Again" from shallow-sweep CSVs.

usage: scripts/plot_sweep.py [--out DIR] SWEEP.csv...

Writes DIR/fig3.png (loss against layers, 1 filter), DIR/fig4.png (against
filters, 16 layers), DIR/fig5.png (against layers/filters, layers x filters
= 32), DIR/speed.png (images/s of both layouts, configuration by
configuration) and DIR/tables.md (the Table 2 analogue: mean losses per
layout per Q bin; and seconds per epoch and images/s per layout), which it
also prints. Each point of a figure is the mean over the rows that share its
dataset, layout and axis value (kernels, optimizers, learning rates, seeds).
Rows with NaN losses (diverged runs) are counted but not averaged.
Needs Debian's python3-matplotlib.
"""

import argparse
import csv
import math
import os
import sys
from collections import defaultdict

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plot_sweep.py: needs matplotlib: apt-get install python3-matplotlib (and run /usr/bin/python3)")

DATASETS = [("mnist", "MNIST"), ("cifar10", "CIFAR-10")]
LAYOUTS = [("sequential", "sequential (deep)", "tab:blue"), ("parallel", "parallel (shallow)", "tab:orange")]
Q_BINS = [(0, 1, "Q<1"), (1, 3, "1<=Q<3"), (3, 10, "3<=Q<10"), (10, math.inf, "Q>=10")]
# name, title, rows it takes, x value of a row, x label, x axis in log2
FIGURES = [
    ("fig3", "Figure 3: loss against residual conv layers (1 filter)",
     lambda r: r["filters"] == 1, lambda r: r["layers"], "residual conv layers"),
    ("fig4", "Figure 4: loss against filters (16 layers)",
     lambda r: r["layers"] == 16, lambda r: r["filters"], "filters per layer"),
    ("fig5", "Figure 5: loss against layers/filters (layers x filters = 32)",
     lambda r: r["layers"] * r["filters"] == 32, lambda r: r["layers"] / r["filters"], "layers / filters"),
]
INTS = ["layers", "filters", "kernel", "train_limit", "val_limit", "params", "epochs", "seed"]
FLOATS = ["lr", "Q", "train_loss", "val_loss", "train_acc", "val_acc", "seconds", "images_per_s"]


def read_rows(paths):
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            for line, r in enumerate(csv.DictReader(f), start=2):
                try:
                    for k in INTS:
                        r[k] = int(r[k])
                    for k in FLOATS:
                        r[k] = float(r[k])
                except (KeyError, TypeError, ValueError) as e:
                    sys.exit(f"plot_sweep.py: {path}:{line}: not a shallow-sweep row ({e})")
                rows.append(r)
    return rows


def mean(values):
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def plot_figure(rows, name, title, take, x_of, x_label, out_dir):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (dataset, dataset_title) in zip(axes, DATASETS):
        for layout, layout_title, colour in LAYOUTS:
            groups = defaultdict(list)
            for r in rows:
                if r["dataset"] == dataset and r["layout"] == layout and take(r):
                    groups[x_of(r)].append(r)
            xs = sorted(groups)
            for column, style, what in (("train_loss", "-", "train"), ("val_loss", "--", "validation")):
                ax.plot(xs, [mean([r[column] for r in groups[x]]) for x in xs], style, marker="o", color=colour,
                        label=f"{layout_title}, {what}")
        ax.set_xscale("log", base=2)
        ax.set_title(dataset_title)
        ax.set_xlabel(x_label)
        ax.set_ylabel("cross-entropy loss")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path = os.path.join(out_dir, name + ".png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_speed(rows, out_dir):
    """images/s of the parallel against the sequential layout, one point per configuration."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (dataset, dataset_title) in zip(axes, DATASETS):
        pairs = paired(rows, dataset)
        for kernel, marker in ((3, "o"), (5, "s")):
            ps = [(s, p) for (k, s, p) in pairs if k == kernel]
            ax.scatter([s["images_per_s"] for s, _ in ps], [p["images_per_s"] for _, p in ps], marker=marker,
                       s=18, label=f"kernel {kernel}")
        if pairs:
            lo = min(min(s["images_per_s"], p["images_per_s"]) for _, s, p in pairs)
            hi = max(max(s["images_per_s"], p["images_per_s"]) for _, s, p in pairs)
            ax.plot([lo, hi], [lo, hi], "k:", linewidth=1, label="equal speed")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(dataset_title)
        ax.set_xlabel("sequential (deep): training images/s")
        ax.set_ylabel("parallel (shallow): training images/s")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Training speed, configuration by configuration (above the line: parallel is faster)")
    fig.tight_layout()
    path = os.path.join(out_dir, "speed.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def config_key(r):
    return tuple(r[k] for k in ("dataset", "layers", "filters", "kernel", "optimizer", "lr", "epochs", "seed",
                                "train_limit", "val_limit"))


def paired(rows, dataset):
    """(kernel, sequential row, parallel row) for each configuration run in both layouts."""
    by_layout = {layout: {config_key(r): r for r in rows if r["dataset"] == dataset and r["layout"] == layout}
                 for layout, _, _ in LAYOUTS}
    return [(s["kernel"], s, by_layout["parallel"][k]) for k, s in sorted(by_layout["sequential"].items())
            if k in by_layout["parallel"]]


def fmt(v, digits=5):
    return "–" if math.isnan(v) else f"{v:.{digits}f}"


def table2(rows):
    head = "| dataset | layout | " + " | ".join(f"{label} train | {label} val | n" for _, _, label in Q_BINS) + " |"
    lines = [head, "|" + "---|" * (2 + 3 * len(Q_BINS))]
    for dataset, dataset_title in DATASETS:
        for layout, _, _ in LAYOUTS:
            cells = []
            for lo, hi, _ in Q_BINS:
                b = [r for r in rows if r["dataset"] == dataset and r["layout"] == layout and lo <= r["Q"] < hi]
                cells += [fmt(mean([r["train_loss"] for r in b])), fmt(mean([r["val_loss"] for r in b])),
                          str(len(b))]
            lines.append(f"| {dataset_title} | {layout} | " + " | ".join(cells) + " |")
    return lines


def speed_table(rows):
    lines = ["| dataset | layout | runs | seconds/epoch (sum over runs) | images/s (median) | "
             "parallel speed-up (median, range) |", "|---|---|---|---|---|---|"]
    for dataset, dataset_title in DATASETS:
        pairs = paired(rows, dataset)
        if not pairs:
            continue
        ratios = sorted(p["images_per_s"] / s["images_per_s"] for _, s, p in pairs)
        for i, (layout, _, _) in enumerate(LAYOUTS):
            rs = [pair[1 + i] for pair in pairs]
            per_epoch = sum(r["seconds"] / r["epochs"] for r in rs)
            speeds = sorted(r["images_per_s"] for r in rs)
            speed_up = f"{median(ratios):.2f}x ({ratios[0]:.2f}x–{ratios[-1]:.2f}x)" if layout == "parallel" else ""
            lines.append(f"| {dataset_title} | {layout} | {len(rs)} | {per_epoch:.1f} | {median(speeds):.0f} | "
                         f"{speed_up} |")
    return lines


def median(sorted_values):
    n = len(sorted_values)
    return (sorted_values[(n - 1) // 2] + sorted_values[n // 2]) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="+", help="shallow-sweep CSV files (runs of one scale)")
    ap.add_argument("--out", default="docs/sweep", help="directory for the PNGs and tables.md (default: docs/sweep)")
    args = ap.parse_args()
    rows = read_rows(args.csv)
    if not rows:
        sys.exit("plot_sweep.py: the CSV files hold no rows")
    os.makedirs(args.out, exist_ok=True)
    written = [plot_figure(rows, *f, args.out) for f in FIGURES] + [plot_speed(rows, args.out)]
    scales = sorted({(r["train_limit"], r["val_limit"], r["epochs"]) for r in rows})
    text = ["<!-- written by scripts/plot_sweep.py from " + ", ".join(args.csv) + " -->", "",
            f"{len(rows)} runs; (train_limit, val_limit, epochs): {scales}", "",
            "Mean loss per layout per Q = training examples x outputs / parameters (n: runs in the bin):", ""]
    text += table2(rows) + ["", "Training time per layout, over the configurations run in both layouts:", ""]
    text += speed_table(rows)
    path = os.path.join(args.out, "tables.md")
    with open(path, "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join(text))
    print("\nwrote " + ", ".join(written + [path]), file=sys.stderr)


if __name__ == "__main__":
    main()
