#!/usr/bin/env python3
"""Runs nnfuse's CPU benchmark suite and writes a markdown table and plots.

    python3 bench/run_suite.py --out OUT_DIR [--quick] [--build-dir build]

Builds nothing: it runs the Google Benchmark binaries of bench/cpu/ that the build made
(configured with -DNNFUSE_BUILD_BENCHMARKS=ON; a comparison whose library was not found at
configure time is missing and reported as such):

    nnfuse_cpu_bench      nnfuse, once per ISA path (NNF_MAX_ISA), and the memory copy
    nnfuse_torch_bench    PyTorch (ATen, CPU)
    nnfuse_onednn_bench   oneDNN
    nnfuse_xnnpack_bench  XNNPACK (forward only)
    nnf_math_bench        (bench/math) nnfuse's math functions against Sleef's u10 vector
                          functions and Halide's built-ins, on L1-resident data; appended to
                          results.md as its own table (needs libsleef-dev at configure time)

Noise: every benchmark warms up (an untimed call, plus Google Benchmark's warm-up time), runs
--repetitions times per pass, and the implementations run one after another in each of
--passes passes, in an order rotated every pass, so that drift (other processes, frequency)
hits all of them alike. The table shows medians over all repetitions of all passes and the
min-max spread.

Writes OUT_DIR/results.md, OUT_DIR/results.csv, OUT_DIR/plots/*.png and the raw JSON and
console output of every run under OUT_DIR/raw/.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Full sizes (elements): 4K is L1-resident, 64K L2-resident, 16M and 64M beyond L2 (and 64M
# beyond any LLC we know of); they must be among bench_problem.cpp's problem_sizes().
FULL_SIZES = [4096, 65536, 16 << 20, 64 << 20]
QUICK_SIZES = [65536, 16 << 20]
ISA_PATHS = ["avx512", "avx2", "baseline"]

# (implementation, binary, benchmark name prefix); nnfuse runs once per ISA path.
COMPARISONS = [
    ("pytorch", "nnfuse_torch_bench", "pytorch"),
    ("onednn", "nnfuse_onednn_bench", "onednn"),
    ("xnnpack", "nnfuse_xnnpack_bench", "xnnpack"),
]
OTHER_NAMES = {"pytorch": "PyTorch", "onednn": "oneDNN", "xnnpack": "XNNPACK"}

TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
CLOCK = "auto"  # --clock

NAME_RE = re.compile(r"^(?P<impl>[^/]+)/(?P<op>[^/]+)/(?:(?P<direction>forward_backward|forward|backward)/)?"
                     r"n:(?P<n>\d+)/threads:(?P<threads>\d+)")


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="folder for results.md, results.csv, plots/, raw/")
    parser.add_argument("--quick", action="store_true",
                        help="a few minutes on 2 cores: sizes 64K and 16M, 1 thread, the best ISA path, 3 passes")
    parser.add_argument("--build-dir", type=Path, default=REPO / os.environ.get("BUILD_DIR", "build"),
                        help="the build folder (default: $BUILD_DIR or build)")
    parser.add_argument("--sizes", help="comma-separated element counts (default: 4096,65536,16777216,67108864)")
    parser.add_argument("--threads", help="comma-separated thread counts (default: 1 and every core)")
    parser.add_argument("--isa", help="comma-separated nnfuse ISA paths, or 'all' (default: every path the CPU has)")
    parser.add_argument("--ops", default=".*", help="regular expression on op labels (default: every op)")
    parser.add_argument("--passes", type=int, help="round-robin passes over the implementations (default 3)")
    parser.add_argument("--repetitions", type=int, help="repetitions per benchmark and pass (default 2, quick 1)")
    parser.add_argument("--min-time", type=float, help="seconds per repetition (default 0.1, quick 0.03)")
    parser.add_argument("--clock", choices=["auto", "cpu", "real"], default="auto",
                        help="auto (default): the thread's CPU time on 1 thread, wall time on more; or always one")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock

    cores = os.cpu_count() or 1
    args.sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (QUICK_SIZES if args.quick else FULL_SIZES)
    if args.threads:
        args.threads = [int(t) for t in args.threads.split(",")]
    else:
        args.threads = [1] if args.quick or cores == 1 else [1, cores]
    supported = supported_isa_paths()
    if args.isa == "all":
        args.isa = supported
    elif args.isa:
        args.isa = [p for p in args.isa.split(",") if p]
    else:
        args.isa = supported[:1] if args.quick else supported
    args.passes = args.passes or 3
    args.repetitions = args.repetitions or (1 if args.quick else 2)
    args.min_time = args.min_time or (0.03 if args.quick else 0.1)
    return args


def cpu_flags():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def supported_isa_paths():
    """nnfuse's x86 paths this CPU can run, best first (the runtime's own check decides in the end)."""
    flags = cpu_flags()
    paths = []
    if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        paths.append("avx512")
    if {"avx2", "fma", "f16c"} <= flags:
        paths.append("avx2")
    return paths + ["baseline"]


def machine_description():
    model = platform.processor() or "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return model


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" with local changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Run:
    """One implementation at one thread count: a binary, its environment and the filter selecting
    its benchmarks. Each thread count runs in its own process: interleaved with 2-thread
    benchmarks, nnfuse's 1-thread rows were off by up to 2x (sigmoid at 64K read 4.8 G elements/s
    of calling-thread CPU time, 2.6 alone, the math benchmark's L1 rate; docs/benchmarks.md)."""

    def __init__(self, key, binary, prefix, threads, env=None):
        self.key, self.binary, self.prefix, self.threads, self.env = key, binary, prefix, threads, env or {}
        self.name = f"{key}.t{threads}"

    def filter(self, args):
        sizes = "|".join(str(n) for n in args.sizes)
        threads = str(self.threads)
        if self.prefix == "copy":
            return f"^copy/tensors[0-9]+/n:({sizes})/threads:({threads})/"
        return f"^{self.prefix}/({args.ops})/(forward|backward|forward_backward)/n:({sizes})/threads:({threads})/"


def plan_runs(args):
    bench_dir = args.build_dir / "bench" / "cpu"
    nnfuse_binary = bench_dir / "nnfuse_cpu_bench"
    if not nnfuse_binary.exists():
        sys.exit(f"{nnfuse_binary} not found: build with -DNNFUSE_BUILD_BENCHMARKS=ON first (./run.sh bench does)")
    runs, missing = [], []
    for threads in args.threads:
        runs += [Run(f"nnfuse-{isa}", nnfuse_binary, "nnfuse", threads, {"NNF_MAX_ISA": isa}) for isa in args.isa]
        runs.append(Run("copy", nnfuse_binary, "copy", threads, {"NNF_MAX_ISA": args.isa[0]}))
        for key, binary, prefix in COMPARISONS:
            path = bench_dir / binary
            if path.exists():
                runs.append(Run(key, path, prefix, threads))
            elif threads == args.threads[0]:
                missing.append(f"{OTHER_NAMES[key]} ({binary} was not built: its library was not found at configure time)")
    return runs, missing


def run_once(run, args, raw_dir, pass_index):
    out = raw_dir / f"{run.name}.pass{pass_index}.json"
    command = [str(run.binary), f"--benchmark_filter={run.filter(args)}",
               f"--benchmark_repetitions={args.repetitions}", f"--benchmark_min_time={args.min_time}",
               f"--benchmark_min_warmup_time={min(args.min_time, 0.05)}", "--benchmark_report_aggregates_only=false",
               f"--benchmark_out={out}", "--benchmark_out_format=json"]
    env = dict(os.environ, **run.env)
    started = time.monotonic()
    console_path = raw_dir / f"{run.name}.pass{pass_index}.log"
    with open(console_path, "w") as console:
        result = subprocess.run(command, env=env, stdout=console, stderr=subprocess.STDOUT)
    log(f"pass {pass_index + 1}/{args.passes}: {run.name} took {time.monotonic() - started:.0f} s")
    text = out.read_text() if out.exists() else ""
    if result.returncode == 0 and not text.strip() and "Failed to match any benchmarks" in console_path.read_text():
        return None  # this library has none of the selected ops
    if result.returncode != 0 or not text.strip():
        log(f"  {run.name} failed (exit {result.returncode}); see {console_path}")
        return None
    return json.loads(text)


def collect(results):
    """Samples per (implementation, op, direction, n, threads), errors, labels and the context."""
    samples = defaultdict(list)
    errors = {}
    labels = {}
    context = None
    for run_key, data in results:
        context = context or data.get("context")
        for b in data.get("benchmarks", []):
            m = NAME_RE.match(b.get("run_name", b["name"]))
            if not m:
                continue
            key = (run_key, m["op"], m["direction"] or "", int(m["n"]), int(m["threads"]))
            if b.get("error_occurred"):
                errors[key] = b.get("error_message", "error")
                continue
            if b.get("run_type", "iteration") != "iteration":
                continue
            # Rates from the calling thread's CPU time on 1 thread: on a shared machine it leaves
            # out the time the scheduler gave other processes (wall time on a loaded 2-core
            # machine varied 20% between repetitions, CPU time under 2%). Every library runs a
            # 1-thread problem on the calling thread. With more threads, wall time.
            seconds = b["cpu_time" if key[4] == 1 and CLOCK == "auto" or CLOCK == "cpu" else "real_time"]
            seconds *= TIME_UNITS[b.get("time_unit", "ns")]
            n = key[3]
            bytes_per_item = b.get("bytes_per_second", 0.0) / b["items_per_second"] if b["items_per_second"] else 0.0
            samples[key].append((n / seconds, n / seconds * bytes_per_item))
            if b.get("label"):
                labels[run_key] = b["label"]
    return samples, errors, labels, context


def summarize(values):
    median = statistics.median(values)
    spread = (max(values) - min(values)) / (2 * median) if median > 0 else 0.0
    return median, min(values), max(values), spread


def build_rows(args, runs, samples):
    nnfuse_keys = list(dict.fromkeys(r.key for r in runs if r.key.startswith("nnfuse-")))
    other_keys = list(dict.fromkeys(r.key for r in runs if r.key in OTHER_NAMES))
    cases = []  # (op, direction) in the order nnfuse ran them (the op table's order)
    for (run_key, op, direction, _, _) in samples:
        if run_key.startswith("nnfuse-") and (op, direction) not in cases:
            cases.append((op, direction))
    rows = []
    for op, direction in cases:
        for n in args.sizes:
            for threads in args.threads:
                row = {"op": op, "direction": direction, "n": n, "threads": threads, "cells": {}}
                tensors = None
                for key in nnfuse_keys + other_keys:
                    values = samples.get((key, op, direction, n, threads))
                    if not values:
                        continue
                    items = [v[0] for v in values]
                    row["cells"][key] = summarize(items)
                    if key.startswith("nnfuse-") and values[0][0] > 0:
                        tensors = round(values[0][1] / values[0][0] / 4)
                if not row["cells"]:
                    continue
                if tensors:
                    copy = samples.get(("copy", f"tensors{tensors}", "", n, threads))
                    if copy:
                        row["cells"]["copy"] = summarize([v[0] for v in copy])
                nnfuse = [(row["cells"][k][0], k) for k in nnfuse_keys if k in row["cells"]]
                others = [(row["cells"][k][0], k) for k in other_keys if k in row["cells"]]
                row["nnfuse_best"] = max(nnfuse) if nnfuse else None
                row["other_best"] = max(others) if others else None
                rows.append(row)
    return rows, nnfuse_keys, other_keys


def g(value):
    return f"{value / 1e9:.2f}"


def size_name(n):
    return f"{n >> 20}M" if n >= 1 << 20 and n % (1 << 20) == 0 else (f"{n >> 10}K" if n % 1024 == 0 else str(n))


def write_markdown(path, args, rows, nnfuse_keys, other_keys, errors, labels, missing, meta):
    lines = [f"# nnfuse CPU benchmarks", ""]
    lines += [f"- Machine: {meta['machine']}, {meta['cores']} cores; caches: {meta['caches']}",
              f"- Date: {meta['date']}; nnfuse revision {meta['revision']}",
              f"- Command: `{meta['command']}`",
              f"- Sizes {', '.join(size_name(n) for n in args.sizes)} elements; threads {args.threads}; "
              f"{args.passes} passes x {args.repetitions} repetitions of >= {args.min_time} s each, "
              f"implementations interleaved round-robin; load average {meta['load_before']} before, "
              f"{meta['load_after']} after",
              f"- Clock: {'CPU time of the calling thread for 1-thread rows, wall time otherwise' if CLOCK == 'auto' else CLOCK + ' time'}",
              ""]
    for key in nnfuse_keys + ["copy"] + other_keys:
        if key in labels:
            lines.append(f"- `{key}`: {labels[key]}")
    for m in missing:
        lines.append(f"- Not compared: {m}")
    lines += ["",
              "G elements/s, medians. **nnfuse** is its best ISA path (named); ratio = nnfuse / the best of "
              "PyTorch, oneDNN and XNNPACK (> 1: nnfuse is faster); copy = memcpy of the same bytes (what the op "
              "reads plus writes) and % copy = nnfuse's share of that bandwidth; spread = the largest half "
              "min-max range among the row's implementations, relative to its median. "
              "`gelu_approximate1` is approximate='tanh'. — : no such kernel in that library.", ""]
    show_paths = len(nnfuse_keys) > 1
    header = ["op", "pass", "n", "threads", "nnfuse"]
    if show_paths:
        header += [k.replace("nnfuse-", "") for k in nnfuse_keys]
    header += [OTHER_NAMES[k] for k in other_keys] + ["copy", "ratio", "% copy", "spread"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in rows:
        cells = row["cells"]
        best = row["nnfuse_best"]
        out = [row["op"], row["direction"], size_name(row["n"]), str(row["threads"])]
        out.append(f"**{g(best[0])}** ({best[1].replace('nnfuse-', '')})" if best else "—")
        if show_paths:
            out += [g(cells[k][0]) if k in cells else "—" for k in nnfuse_keys]
        out += [g(cells[k][0]) if k in cells else "—" for k in other_keys]
        out.append(g(cells["copy"][0]) if "copy" in cells else "—")
        other = row["other_best"]
        out.append(f"{best[0] / other[0]:.2f}" if best and other else "—")
        out.append(f"{100 * best[0] / cells['copy'][0]:.0f}%" if best and "copy" in cells else "—")
        out.append(f"±{100 * max(c[3] for c in cells.values()):.0f}%")
        lines.append("| " + " | ".join(out) + " |")
    behind = [r for r in rows if r["nnfuse_best"] and r["other_best"] and r["nnfuse_best"][0] < r["other_best"][0]]
    lines += ["", "## Where nnfuse is not ahead", ""]
    if behind:
        for r in behind:
            lines.append(f"- {r['op']} {r['direction']}, {size_name(r['n'])}, {r['threads']} thread(s): "
                         f"{OTHER_NAMES[r['other_best'][1]]} {g(r['other_best'][0])} vs nnfuse "
                         f"{g(r['nnfuse_best'][0])} G elements/s")
    else:
        lines.append("- none")
    skipped = sorted({(k[0], k[1], k[2], msg) for k, msg in errors.items()})
    if skipped:
        lines += ["", "## Not measured", ""]
        for run_key, op, direction, msg in skipped:
            lines.append(f"- {run_key} {op} {direction}: {msg}")
    lines += ["", "## Plots", ""]
    for n in args.sizes:
        for threads in args.threads:
            lines.append(f"![ratio {size_name(n)}, {threads} thread(s)](plots/ratio_{size_name(n)}_t{threads}.png)")
    lines.append("")
    lines.append("Throughput against size, per op: `plots/throughput_<op>.png`.")
    path.write_text("\n".join(lines) + "\n")


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["op", "direction", "n", "threads", "implementation", "median_G_elements_per_s",
                    "min_G_elements_per_s", "max_G_elements_per_s"])
        for row in rows:
            for key, (median, lo, hi, _) in row["cells"].items():
                w.writerow([row["op"], row["direction"], row["n"], row["threads"], key, f"{median / 1e9:.4f}",
                            f"{lo / 1e9:.4f}", f"{hi / 1e9:.4f}"])


def write_plots(plot_dir, args, rows, nnfuse_keys, other_keys):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is missing (pip install -r requirements-bench.txt): no plots")
        return
    plot_dir.mkdir(parents=True, exist_ok=True)
    styles = {"copy": dict(color="0.5", linestyle=":"), "pytorch": dict(color="tab:red"),
              "onednn": dict(color="tab:blue"), "xnnpack": dict(color="tab:green")}
    path_styles = ["-", "--", "-."]
    by_op = defaultdict(list)
    for row in rows:
        by_op[row["op"]].append(row)
    for op, op_rows in by_op.items():
        fig, axes = plt.subplots(len(args.threads), 2, figsize=(10, 3.6 * len(args.threads)), squeeze=False)
        for ti, threads in enumerate(args.threads):
            for di, direction in enumerate(["forward", "backward"]):
                ax = axes[ti][di]
                sel = sorted((r for r in op_rows if r["direction"] == direction and r["threads"] == threads),
                             key=lambda r: r["n"])
                for i, key in enumerate(nnfuse_keys + other_keys + ["copy"]):
                    points = [(r["n"], r["cells"][key][0] / 1e9) for r in sel if key in r["cells"]]
                    if not points:
                        continue
                    style = styles.get(key, dict(color="black", linestyle=path_styles[i % 3]))
                    ax.plot(*zip(*points), marker="o", label=key, **style)
                ax.set_xscale("log", base=2)
                ax.set_title(f"{op} {direction}, {threads} thread(s)")
                ax.set_xlabel("elements")
                ax.set_ylabel("G elements/s")
                ax.grid(True, alpha=0.3)
                if ax.lines:
                    ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(plot_dir / f"throughput_{op}.png", dpi=90)
        plt.close(fig)
    for n in args.sizes:
        for threads in args.threads:
            sel = [r for r in rows if r["n"] == n and r["threads"] == threads and r["nnfuse_best"] and r["other_best"]]
            if not sel:
                continue
            fig, ax = plt.subplots(figsize=(8, 0.28 * len(sel) + 1.2))
            labels = [f"{r['op']} {dict(forward='fwd', backward='bwd').get(r['direction'], 'fwd+bwd')}" for r in sel]
            ratios = [r["nnfuse_best"][0] / r["other_best"][0] for r in sel]
            ax.barh(labels, ratios, color=["tab:green" if x >= 1 else "tab:red" for x in ratios])
            ax.axvline(1.0, color="black", linewidth=0.8)
            ax.set_xscale("log")
            ax.invert_yaxis()
            ax.set_xlabel("nnfuse / best of PyTorch, oneDNN, XNNPACK (log scale; > 1 is nnfuse ahead)")
            ax.set_title(f"{size_name(n)} elements, {threads} thread(s)")
            ax.tick_params(axis="y", labelsize=7)
            fig.tight_layout()
            fig.savefig(plot_dir / f"ratio_{size_name(n)}_t{threads}.png", dpi=90)
            plt.close(fig)


MATH_NAME_RE = re.compile(r"^(?P<function>[^/]+)/(?P<impl>[^/]+)/(?P<isa>[^/]+)$")


def run_math_bench(args, raw_dir):
    """Markdown lines for nnf::math against Sleef and Halide's built-ins, or why there are none."""
    binary = args.build_dir / "bench" / "math" / "nnf_math_bench"
    if not binary.exists():
        return ["", "Not compared: Sleef (nnf_math_bench was not built: libsleef-dev was not found at configure time)"]
    isas = [isa for isa in args.isa if isa in ("avx512", "avx2")]
    if not isas:
        return []
    out = raw_dir / "math.json"
    command = [str(binary), f"--benchmark_filter=/({'|'.join(isas)})$",
               f"--benchmark_repetitions={max(3, args.repetitions)}", f"--benchmark_min_time={args.min_time}",
               f"--benchmark_out={out}", "--benchmark_out_format=json"]
    started = time.monotonic()
    with open(raw_dir / "math.log", "w") as console:
        result = subprocess.run(command, stdout=console, stderr=subprocess.STDOUT)
    log(f"math functions (nnf_math_bench) took {time.monotonic() - started:.0f} s")
    if result.returncode != 0 or not out.exists():
        return ["", f"nnf_math_bench failed (exit {result.returncode}); see {raw_dir / 'math.log'}"]
    rates = defaultdict(list)
    for b in json.loads(out.read_text()).get("benchmarks", []):
        m = MATH_NAME_RE.match(b.get("run_name", b["name"]))
        if m and b.get("run_type", "iteration") == "iteration" and not b.get("error_occurred"):
            rates[(m["function"], m["impl"], m["isa"])].append(b["items_per_second"] / 1e9)
    lines = ["", "## Math functions against Sleef and Halide (L1-resident, 1 thread)", "",
             "`nnf_math_bench`: 4096 floats in and out, G elements/s, median (min-max) of "
             f"{max(3, args.repetitions)} repetitions. `nnf` is nnfuse's `compiler/math`; `sleef` the Sleef u10 "
             "function (u15 for erfc; sigmoid, softplus and log_sigmoid composed from Sleef's exp and log1p); "
             "`halide_*` Halide's built-ins (docs/math.md gives each one's accuracy).", "",
             "| function | implementation | " + " | ".join(isas) + " |", "|---|---|" + "---|" * len(isas)]
    for function, impl in dict.fromkeys((f, i) for f, i, _ in rates):
        cells = []
        for isa in isas:
            values = rates.get((function, impl, isa))
            cells.append(f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})" if values else "—")
        name = f"**{impl}**" if impl == "nnf" else impl
        lines.append(f"| {function} | {name} | " + " | ".join(cells) + " |")
    return lines


def main():
    args = parse_args()
    runs, missing = plan_runs(args)
    raw_dir = args.out / "raw"
    if raw_dir.exists():
        shutil.rmtree(raw_dir)
    raw_dir.mkdir(parents=True)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    log(f"{len(runs)} runs (implementations x thread counts) x {args.passes} passes; sizes {args.sizes}, threads {args.threads}, "
        f"ISA paths {args.isa}; results in {args.out}")
    results = []
    for p in range(args.passes):
        shift = p % len(runs)
        for run in runs[shift:] + runs[:shift]:
            data = run_once(run, args, raw_dir, p)
            if data:
                results.append((run.key, data))
    samples, errors, labels, context = collect(results)
    rows, nnfuse_keys, other_keys = build_rows(args, runs, samples)
    caches = ", ".join(f"L{c['level']} {c['type'][0].lower() if c['type'] != 'Unified' else ''}"
                       f"{c['size'] // 1024} KiB" for c in (context or {}).get("caches", []))
    meta = {"machine": machine_description(), "cores": os.cpu_count(), "caches": caches or "unknown",
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "revision": git_revision(),
            "command": " ".join(["python3", "bench/run_suite.py"] + sys.argv[1:]), "load_before": load_before,
            "load_after": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    args.out.mkdir(parents=True, exist_ok=True)
    write_markdown(args.out / "results.md", args, rows, nnfuse_keys, other_keys, errors, labels, missing, meta)
    write_csv(args.out / "results.csv", rows)
    write_plots(args.out / "plots", args, rows, nnfuse_keys, other_keys)
    math_lines = run_math_bench(args, raw_dir)
    if math_lines:
        with open(args.out / "results.md", "a") as f:
            f.write("\n".join(math_lines) + "\n")
    log(f"wrote {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
