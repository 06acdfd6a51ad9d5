#!/usr/bin/python3
"""Figures 3-5 and Table 2 of "Make Deep Networks Shallow Again" from shallow-sweep CSVs, with intervals.

usage: scripts/plot_sweep.py [--out DIR] [--per-kernel] SWEEP.csv...

Writes DIR/fig3.png (loss against layers, 1 filter), DIR/fig4.png (against
filters, 16 layers), DIR/fig5.png (against layers/filters, layers x filters
= 32), DIR/speed.png (images/s of both layouts, configuration by
configuration) and DIR/tables.md, which it also prints:

* Table 2 in Q-space: per dataset, Q bin and layout, the mean training loss
  (train_eval_loss: the loss on the whole training subset in eval mode after
  the last epoch, most likely what the paper reports; the running mean over
  the last epoch's batches is in train_loss) and validation loss, each with
  its 95% confidence interval over the runs in the cell;
* the paired comparison per cell: for every (configuration, seed) run in
  both layouts, the difference sequential - parallel; its mean with a 95%
  interval, the two-sided p of a paired t test, and the verdict: a layout is
  named only when the interval excludes 0 (p < 0.05), i.e. when the
  difference is larger than the seed-to-seed and configuration-to-
  configuration spread;
* training time per layout.

Each point of a figure is the mean over the runs that share its dataset,
layout and axis value (kernels, optimizers, learning rates, seeds), with a
95% interval of that mean as error bar. Rows with NaN losses (diverged runs)
are counted but not averaged. Needs Debian's python3-matplotlib.
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
# name, title, rows it takes, x value of a row, x label
FIGURES = [
    ("fig3", "Figure 3: loss against residual conv layers (1 filter)",
     lambda r: r["filters"] == 1, lambda r: r["layers"], "residual conv layers"),
    ("fig4", "Figure 4: loss against filters (16 layers)",
     lambda r: r["layers"] == 16, lambda r: r["filters"], "filters per layer"),
    ("fig5", "Figure 5: loss against layers/filters (layers x filters = 32)",
     lambda r: r["layers"] * r["filters"] == 32, lambda r: r["layers"] / r["filters"], "layers / filters"),
]
INTS = ["layers", "filters", "kernel", "train_limit", "val_limit", "params", "epochs", "seed", "threads"]
FLOATS = ["lr", "Q", "train_loss", "val_loss", "train_acc", "val_acc", "train_eval_loss", "train_eval_acc",
          "test_loss", "test_acc", "seconds", "images_per_s"]
# What identifies a run but its layout: the pairs of the paired comparison.
PAIR_KEY = ["dataset", "kernel", "layers", "filters", "optimizer", "lr", "epochs", "seed", "train_limit",
            "val_limit", "threads", "version"]


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


# Student's t: the regularised incomplete beta function by its continued
# fraction (Numerical Recipes, betacf), for p values and quantiles.
def _betacf(a, b, x):
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-14:
            break
    return h


def _betainc(a, b, x):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_two_sided_p(t, df):
    return _betainc(df / 2, 0.5, df / (df + t * t))


def t_quantile_975(df):
    lo, hi = 0.0, 1000.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_two_sided_p(mid, df) > 0.05:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def finite(values):
    return [v for v in values if not math.isnan(v)]


def mean_ci(values):
    """Mean and the half-width of its 95% interval (t over n-1 degrees of freedom; NaN below 2 values)."""
    v = finite(values)
    if not v:
        return math.nan, math.nan
    m = sum(v) / len(v)
    if len(v) < 2:
        return m, math.nan
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
    return m, t_quantile_975(len(v) - 1) * sd / math.sqrt(len(v))


def paired_test(pairs, column):
    """Differences sequential - parallel in `column`: n, mean, 95% half-width, two-sided p of the paired t test."""
    d = finite([s[column] - p[column] for s, p in pairs])
    n = len(d)
    if n < 2:
        return n, (d[0] if d else math.nan), math.nan, math.nan
    m = sum(d) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in d) / (n - 1))
    if sd == 0:
        return n, m, 0.0, (0.0 if m != 0 else 1.0)
    t = m / (sd / math.sqrt(n))
    return n, m, t_quantile_975(n - 1) * sd / math.sqrt(n), t_two_sided_p(abs(t), n - 1)


def pairs_of(rows):
    """(sequential row, parallel row) for each run made in both layouts."""
    by_layout = {layout: {tuple(r[k] for k in PAIR_KEY): r for r in rows if r["layout"] == layout}
                 for layout, _, _ in LAYOUTS}
    return [(s, by_layout["parallel"][k]) for k, s in sorted(by_layout["sequential"].items())
            if k in by_layout["parallel"]]


def datasets_in(rows):
    """The (dataset, title) pairs that have rows: one panel each."""
    present = {r["dataset"] for r in rows}
    return [d for d in DATASETS if d[0] in present]


def panels(count, height):
    """A figure of `count` panels, two to a row, and the list of its axes."""
    cols = min(count, 2)
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, height * rows), squeeze=False)
    return fig, list(axes.flat)


def plot_figure(rows, name, title, take, x_of, x_label, out_dir, per_kernel):
    rows = [r for r in rows if take(r)]
    if not rows:
        print(f"{name}: no runs in its axes, not drawn", file=sys.stderr)
        return None
    # A panel per dataset (and kernel) with runs in this figure's axes.
    panel_list = [(d, t, k) for d, t in datasets_in(rows)
                  for k in (sorted({r["kernel"] for r in rows if r["dataset"] == d}) if per_kernel else [None])]
    fig, axes = panels(len(panel_list), 4.2)
    for ax, (dataset, dataset_title, kernel) in zip(axes, panel_list):
        for layout, layout_title, colour in LAYOUTS:
            groups = defaultdict(list)
            for r in rows:
                if r["dataset"] == dataset and r["layout"] == layout and kernel in (None, r["kernel"]):
                    groups[x_of(r)].append(r)
            xs = sorted(groups)
            for column, style, what in (("train_eval_loss", "-", "train"), ("val_loss", "--", "validation")):
                stats = [mean_ci([r[column] for r in groups[x]]) for x in xs]
                ax.errorbar(xs, [m for m, _ in stats], yerr=[0 if math.isnan(h) else h for _, h in stats],
                            fmt=style, marker="o", color=colour, capsize=3, label=f"{layout_title}, {what}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(dataset_title + ("" if kernel is None else f", kernel {kernel}"))
        ax.set_xlabel(x_label)
        ax.set_ylabel("cross-entropy loss" + (" (mean, 95% interval)" if not per_kernel else ""))
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path = os.path.join(out_dir, name + ".png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_speed(rows, out_dir):
    """images/s of the parallel against the sequential layout, one point per run."""
    datasets = datasets_in(rows)
    fig, axes = panels(len(datasets), 4.5)
    for ax, (dataset, dataset_title) in zip(axes, datasets):
        pairs = pairs_of([r for r in rows if r["dataset"] == dataset])
        for kernel, marker in ((3, "o"), (5, "s")):
            ps = [(s, p) for s, p in pairs if s["kernel"] == kernel]
            ax.scatter([s["images_per_s"] for s, _ in ps], [p["images_per_s"] for _, p in ps], marker=marker,
                       s=18, label=f"kernel {kernel}")
        if pairs:
            lo = min(min(s["images_per_s"], p["images_per_s"]) for s, p in pairs)
            hi = max(max(s["images_per_s"], p["images_per_s"]) for s, p in pairs)
            ax.plot([lo, hi], [lo, hi], "k:", linewidth=1, label="equal speed")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(dataset_title)
        ax.set_xlabel("sequential (deep): training images/s")
        ax.set_ylabel("parallel (shallow): training images/s")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Training speed, run by run (above the line: parallel is faster)")
    fig.tight_layout()
    path = os.path.join(out_dir, "speed.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fmt(v, digits=4):
    if math.isnan(v):
        return "–"
    return f"{v:.{digits}g}"


def fmt_ci(m, h):
    return fmt(m) + ("" if math.isnan(h) else " ± " + fmt(h, 2))


def table2(rows):
    head = "| dataset | Q | layout | runs | training loss | validation loss |"
    lines = [head, "|---|---|---|---|---|---|"]
    for dataset, dataset_title in DATASETS:
        for lo, hi, label in Q_BINS:
            for layout, _, _ in LAYOUTS:
                b = [r for r in rows if r["dataset"] == dataset and r["layout"] == layout and lo <= r["Q"] < hi]
                if not b:
                    continue
                lines.append(f"| {dataset_title} | {label} | {layout} | {len(b)} | "
                             f"{fmt_ci(*mean_ci([r['train_eval_loss'] for r in b]))} | "
                             f"{fmt_ci(*mean_ci([r['val_loss'] for r in b]))} |")
    return lines


def verdict(m, h):
    if math.isnan(h) or abs(m) <= h:
        return "no difference beyond the spread"
    return "sequential lower" if m < 0 else "parallel lower"


def paired_table(rows):
    lines = ["| dataset | Q | pairs | training loss: seq - par (95%) | p | | validation loss: seq - par (95%) | p | |",
             "|---|---|---|---|---|---|---|---|---|"]
    for dataset, dataset_title in DATASETS:
        for lo, hi, label in Q_BINS:
            pairs = [(s, p) for s, p in pairs_of([r for r in rows if r["dataset"] == dataset]) if lo <= s["Q"] < hi]
            if not pairs:
                continue
            cells = []
            for column in ("train_eval_loss", "val_loss"):
                n, m, h, p = paired_test(pairs, column)
                cells += [fmt_ci(m, h), fmt(p, 2), verdict(m, h)]
            lines.append(f"| {dataset_title} | {label} | {len(pairs)} | " + " | ".join(cells) + " |")
    return lines


def median(sorted_values):
    n = len(sorted_values)
    return (sorted_values[(n - 1) // 2] + sorted_values[n // 2]) / 2


def speed_table(rows):
    lines = ["| dataset | layout | runs | seconds/epoch (sum over runs) | images/s (median) | "
             "parallel speed-up (median, range) |", "|---|---|---|---|---|---|"]
    for dataset, dataset_title in DATASETS:
        pairs = pairs_of([r for r in rows if r["dataset"] == dataset])
        if not pairs:
            continue
        ratios = sorted(p["images_per_s"] / s["images_per_s"] for s, p in pairs)
        for i, (layout, _, _) in enumerate(LAYOUTS):
            rs = [pair[i] for pair in pairs]
            per_epoch = sum(r["seconds"] / r["epochs"] for r in rs)
            speeds = sorted(r["images_per_s"] for r in rs)
            speed_up = f"{median(ratios):.2f}x ({ratios[0]:.2f}x–{ratios[-1]:.2f}x)" if layout == "parallel" else ""
            lines.append(f"| {dataset_title} | {layout} | {len(rs)} | {per_epoch:.1f} | {median(speeds):.0f} | "
                         f"{speed_up} |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="+", help="shallow-sweep CSV files (runs of one scale)")
    ap.add_argument("--out", default="docs/sweep", help="directory for the PNGs and tables.md (default: docs/sweep)")
    ap.add_argument("--per-kernel", action="store_true",
                    help="one panel per kernel size instead of the mean over kernels (for one-seed runs, "
                         "where an interval over two kernels says little)")
    args = ap.parse_args()
    rows = read_rows(args.csv)
    if not rows:
        sys.exit("plot_sweep.py: the CSV files hold no rows")
    os.makedirs(args.out, exist_ok=True)
    written = [plot_figure(rows, *f, args.out, args.per_kernel) for f in FIGURES] + [plot_speed(rows, args.out)]
    written = [path for path in written if path]
    scales = sorted({(r["train_limit"], r["val_limit"], r["epochs"]) for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    text = ["<!-- written by scripts/plot_sweep.py from " + ", ".join(args.csv) + " -->", "",
            f"{len(rows)} runs; (train_limit, val_limit, epochs): {scales}; seeds {seeds}", "",
            "Mean loss per layout per Q = training images x classes / parameters, with 95% intervals over the "
            "runs in each cell (training loss: the whole training subset in eval mode after the last epoch):", ""]
    text += table2(rows)
    text += ["", "Sequential against parallel, run by run (same configuration and seed), per cell: the mean "
             "difference with its 95% interval and the paired t test's two-sided p; a layout is named only when "
             "the interval excludes 0:", ""]
    text += paired_table(rows)
    text += ["", "Training time per layout, over the runs made in both layouts (wall-clock of the training "
             "passes; the sweeps were paused during benchmarks, so these are not benchmark figures):", ""]
    text += speed_table(rows)
    path = os.path.join(args.out, "tables.md")
    with open(path, "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join(text))
    print("\nwrote " + ", ".join(written + [path]), file=sys.stderr)


if __name__ == "__main__":
    main()
