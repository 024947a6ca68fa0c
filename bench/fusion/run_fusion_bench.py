#!/usr/bin/env python3
"""Fused nnfuse kernels against the unfused nnfuse ops, eager PyTorch and torch.compile.

The two kernels of issue #8 (bench/fusion/kernels.nnf):
  bias_gelu:  y = gelu(x + bias, approximate="tanh")                        x [N, C], bias [C]
  scaled_ce:  loss = cross_entropy(0.5 logits, target, label_smoothing=0.1), and d loss / d logits
Implementations, timed interleaved in one process on the same inputs:
  nnfuse fused    the spec kernel compiled by nnfc (one pipeline, one pass over memory)
  nnfuse unfused  the same from standard-library calls (bias add + gelu; scale + fused
                  cross-entropy forward/backward + scale), see fusion_bench_entry.c
  torch eager     torch.nn.functional, with torch.autograd.grad for the gradient
  torch.compile   TorchInductor's CPU code for the same Python function (forward compiled,
                  backward through AOTAutograd's compiled graph)
nnfuse writes into preallocated buffers; PyTorch allocates its results (that is how it is
called). Rates are elements of x or logits per second (G/s), from wall time: median over
rounds, with the min-max spread.

Run with a Python that imports torch (requirements-torch.txt), e.g. `./run.sh bench-fusion OUT`.
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

SIZES = [(64, 1024), (16384, 1024)]  # 64K (L2-resident) and 16M elements (128+ MiB moved)
QUICK_SIZES = [(64, 1024), (4096, 1024)]


def load_library(path):
    lib = ctypes.CDLL(path)
    lib.nnf_last_error.restype = ctypes.c_char_p
    lib.nnf_set_num_threads.argtypes = [ctypes.c_int]
    p, i64 = ctypes.c_void_p, ctypes.c_int64
    for name in ("fb_bias_gelu_fused", "fb_bias_gelu_unfused"):
        getattr(lib, name).argtypes = [p, p, p, i64, i64]
    for name in ("fb_scaled_ce_fused", "fb_scaled_ce_unfused"):
        getattr(lib, name).argtypes = [p, p, p, p, i64, i64]
    return lib


def checked(lib, status):
    if status != 0:
        raise RuntimeError(f"nnfuse status {status}: {lib.nnf_last_error().decode()}")


def bias_gelu_eager(x, bias):
    return F.gelu(x + bias, approximate="tanh")


def scaled_ce_loss(logits, target):
    return F.cross_entropy(logits * 0.5, target, label_smoothing=0.1)


def make_bias_gelu(lib, n, c):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(n, c, generator=gen) * 3.0  # gelu's interesting range, both tails
    bias = torch.randn(c, generator=gen)
    y = torch.empty(n, c)
    compiled = torch.compile(bias_gelu_eager, dynamic=False)
    args = (x.data_ptr(), bias.data_ptr(), y.data_ptr(), n, c)
    impls = {
        "nnfuse fused": lambda: checked(lib, lib.fb_bias_gelu_fused(*args)),
        "nnfuse unfused": lambda: checked(lib, lib.fb_bias_gelu_unfused(*args)),
        "torch eager": lambda: bias_gelu_eager(x, bias),
        "torch.compile": lambda: compiled(x, bias),
    }

    def agreement():
        reference = bias_gelu_eager(x.double(), bias.double())
        result = {}
        for name in ("nnfuse fused", "nnfuse unfused"):
            impls[name]()
            result[name] = (y.double() - reference).abs().max().item()
        result["torch eager"] = (bias_gelu_eager(x, bias).double() - reference).abs().max().item()
        result["torch.compile"] = (compiled(x, bias).double() - reference).abs().max().item()
        return result

    return impls, agreement


def make_scaled_ce(lib, n, c):
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(n, c, generator=gen) * 4.0
    target = torch.randint(0, c, (n,), generator=gen, dtype=torch.int64)
    loss = torch.zeros(())
    grad = torch.empty(n, c)
    compiled = torch.compile(scaled_ce_loss, dynamic=False)
    leaf = logits.clone().requires_grad_(True)
    args = (logits.data_ptr(), target.data_ptr(), loss.data_ptr(), grad.data_ptr(), n, c)

    def torch_forward_backward(fn):
        value = fn(leaf, target)
        (g,) = torch.autograd.grad(value, leaf)
        return value, g

    impls = {
        "nnfuse fused": lambda: checked(lib, lib.fb_scaled_ce_fused(*args)),
        "nnfuse unfused": lambda: checked(lib, lib.fb_scaled_ce_unfused(*args)),
        "torch eager": lambda: torch_forward_backward(scaled_ce_loss),
        "torch.compile": lambda: torch_forward_backward(compiled),
    }

    def agreement():
        leaf64 = logits.double().requires_grad_(True)
        ref_loss = scaled_ce_loss(leaf64, target)
        (ref_grad,) = torch.autograd.grad(ref_loss, leaf64)
        result = {}
        for name in ("nnfuse fused", "nnfuse unfused"):
            impls[name]()
            result[name] = max(abs(loss.item() - ref_loss.item()), (grad.double() - ref_grad).abs().max().item())
        for name, fn in (("torch eager", scaled_ce_loss), ("torch.compile", compiled)):
            value, g = torch_forward_backward(fn)
            result[name] = max(abs(value.item() - ref_loss.item()), (g.double() - ref_grad).abs().max().item())
        return result

    return impls, agreement


PROBLEMS = {"bias_gelu": make_bias_gelu, "scaled_ce (fwd+bwd)": make_scaled_ce}


def time_interleaved(impls, elements, rounds, min_seconds):
    """Rates in G elements/s per implementation, one sample per round; the order rotates."""
    names = list(impls)
    # Iterations per sample: enough for min_seconds on the slowest implementation.
    iterations = {}
    for name in names:
        impls[name]()  # warm-up (torch.compile compiles here)
        start = time.perf_counter()
        impls[name]()
        once = max(time.perf_counter() - start, 1e-7)
        iterations[name] = max(1, int(min_seconds / once))
    samples = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn, k = impls[name], iterations[name]
            start = time.perf_counter()
            for _ in range(k):
                fn()
            seconds = (time.perf_counter() - start) / k
            samples[name].append(elements / seconds / 1e9)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lib", required=True, help="libnnfuse_fusion_bench.so")
    parser.add_argument("--out", required=True, help="folder for results.md")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts (default 1)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smaller large size, 3 rounds")
    args = parser.parse_args()

    lib = load_library(os.path.abspath(args.lib))
    sizes = QUICK_SIZES if args.quick else SIZES
    rounds = 3 if args.quick else args.rounds
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        lib.nnf_set_num_threads(threads)
        torch._dynamo.reset()  # Inductor bakes the thread count into its kernels
        for problem, make in PROBLEMS.items():
            for n, c in sizes:
                impls, agreement = make(lib, n, c)
                errors = agreement()
                samples = time_interleaved(impls, n * c, rounds, min_seconds=0.05)
                medians = {name: statistics.median(s) for name, s in samples.items()}
                spreads = {name: (min(s), max(s)) for name, s in samples.items()}
                rows.append((problem, n, c, threads, medians, spreads, errors))
                line = ", ".join(f"{name} {medians[name]:.3f}" for name in medians)
                print(f"{problem} [{n}, {c}] threads {threads}: {line} G/s", flush=True)

    os.makedirs(args.out, exist_ok=True)
    names = list(rows[0][4])
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(f"torch {torch.__version__} (ATen CPU capability {torch.backends.cpu.get_cpu_capability()}); "
                f"G elements/s, median of {rounds} interleaved rounds (min-max); "
                "max abs error against float64 PyTorch in brackets\n\n")
        f.write("| kernel | [N, C] | threads | " + " | ".join(names) +
                " | fused / unfused | fused / eager | fused / torch.compile |\n")
        f.write("|---|---|---|" + "---|" * (len(names) + 3) + "\n")
        for problem, n, c, threads, medians, spreads, errors in rows:
            cells = [f"{medians[m]:.3f} ({spreads[m][0]:.2f}–{spreads[m][1]:.2f}) [{errors[m]:.1e}]" for m in names]
            fused = medians["nnfuse fused"]
            ratios = [fused / medians[m] for m in ("nnfuse unfused", "torch eager", "torch.compile")]
            f.write(f"| {problem} | [{n}, {c}] | {threads} | " + " | ".join(cells) + " | " +
                    " | ".join(f"{r:.2f}" for r in ratios) + " |\n")
    print(f"wrote {os.path.join(args.out, 'results.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
