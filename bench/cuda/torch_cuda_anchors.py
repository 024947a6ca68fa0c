#!/usr/bin/env python3
"""PyTorch's CUDA kernels for the ops nnfuse_cuda_bench times, on the same sizes, as anchors.

Run on the GPU machine beside nnfuse_cuda_bench (its python3 holds PyTorch). Each line is
`name size median_us G_el_per_s GB_per_s`, timed with CUDA events, the median of `--reps`
after warm-up. Bytes count reads plus writes, as nnfuse_cuda_bench's do.
"""
import argparse
import statistics

import torch
import torch.nn.functional as F


def time_us(fn, reps):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e3)
    return statistics.median(times)


def report(name, size, us, elements, tensors):
    print(f"{name} {size} {us:.1f} {elements / us / 1e3:.2f} {elements * 4 * tensors / us / 1e3:.1f}", flush=True)


def pointwise(n, reps):
    aten = torch.ops.aten
    x = torch.linspace(-8, 8, 4096, device="cuda").repeat(n // 4096)
    g = x.clone()
    y = torch.empty_like(x)
    forward = {
        "copy": lambda: y.copy_(x),
        "relu": lambda: torch.relu(x),
        "sigmoid": lambda: torch.sigmoid(x),
        "tanh": lambda: torch.tanh(x),
        "gelu_approximate0": lambda: F.gelu(x),
        "gelu_approximate1": lambda: F.gelu(x, approximate="tanh"),
        "softplus": lambda: F.softplus(x),
        "elu": lambda: F.elu(x),
        "log_sigmoid": lambda: F.logsigmoid(x),
    }
    backward = {
        "relu": lambda: aten.threshold_backward(g, x, 0.0),
        "sigmoid": lambda: aten.sigmoid_backward(g, x),
        "tanh": lambda: aten.tanh_backward(g, x),
        "gelu_approximate0": lambda: aten.gelu_backward(g, x),
        "gelu_approximate1": lambda: aten.gelu_backward(g, x, approximate="tanh"),
        "softplus": lambda: aten.softplus_backward(g, x, 1.0, 20.0),
        "elu": lambda: aten.elu_backward(g, 1.0, 1.0, 1.0, False, x),
    }
    for name, fn in forward.items():
        report(f"torch/{name}" + ("" if name == "copy" else "_forward"), n, time_us(fn, reps), n, 2)
    for name, fn in backward.items():
        report(f"torch/{name}_backward", n, time_us(fn, reps), n, 3)


def rowwise(rows, classes, reps):
    logits = torch.randn(rows, classes, device="cuda")
    target = torch.randint(0, classes, (rows,), device="cuda")
    size = f"{rows}x{classes}"
    report("torch/softmax_forward", size, time_us(lambda: torch.softmax(logits, 1), reps), rows * classes, 2)
    report("torch/cross_entropy_forward", size, time_us(lambda: F.cross_entropy(logits, target), reps),
           rows * classes, 1)
    leaf = logits.clone().requires_grad_()

    def forward_backward():
        leaf.grad = None
        F.cross_entropy(leaf, target).backward()

    us = time_us(forward_backward, reps)
    # Bytes as nnfuse_cuda_bench counts them: one pass reads the logits and writes the gradient.
    report("torch/cross_entropy_forward_backward", size, us, rows * classes, 2)
    print(f"  rows/s {rows / us * 1e6:.3e}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="16777216,268435456")
    parser.add_argument("--rows", default="65536x1000,8192x32000,1048576x10")
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    print(torch.__version__, torch.cuda.get_device_name(), flush=True)
    for n in map(int, args.sizes.split(",")):
        pointwise(n, args.reps)
    for shape in args.rows.split(","):
        rows, classes = map(int, shape.split("x"))
        rowwise(rows, classes, args.reps)


if __name__ == "__main__":
    main()
