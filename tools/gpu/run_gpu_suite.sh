#!/usr/bin/env bash
# Runs on the GPU machine, from a bundle made by make_bundle.sh: the CUDA suites, nnfuse's CUDA
# benchmarks and PyTorch's CUDA anchors (when its python3 has torch). Results go to $OUT (or the
# bundle). Each step has a time limit, so that a slow one cannot eat a short GPU lease.
#   run_gpu_suite.sh [benchmark filter]
cd "$(dirname "$0")"
out=${OUT:-$PWD}
filter=${1:-'copy/268435456|(relu|sigmoid|tanh|gelu|softplus|elu)_(forward|backward)/268435456|softmax|cross_entropy|nll_loss'}
export LD_LIBRARY_PATH=$PWD:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv
timeout 120 ./nnfuse_cuda_tests --gtest_brief=1 --gtest_output="json:$out/cuda_tests.json" 2>&1 | tail -40
timeout 60 ./nnfuse_spec_tests --gtest_brief=1 --gtest_filter='FusedCuda.*' --gtest_output="json:$out/spec_cuda_tests.json" 2>&1 | tail -4
# Google Benchmark 1.7 (Debian 12) takes --benchmark_min_time in seconds, without a unit.
timeout 240 ./nnfuse_cuda_bench --benchmark_filter="$filter" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.05 \
    --benchmark_out="$out/cuda_bench.json" --benchmark_out_format=json 2>&1 | grep -E "median|ERROR"
PYTHONUNBUFFERED=1 timeout 120 python3 torch_cuda_anchors.py --sizes 268435456 --reps 10 2>&1 | tee "$out/torch_anchors.txt"
