#!/usr/bin/env bash
# Copies what a GPU machine needs to run nnfuse's CUDA suites and benchmarks into one folder:
# the test and benchmark binaries of a CUDA build (static but for Google Benchmark's shared
# library, copied too), and run_gpu_suite.sh. The binaries load the CUDA driver at run time, so
# a machine with a GPU and no build tools can run them.
#   tools/gpu/make_bundle.sh BUILD_DIR BUNDLE_DIR
set -euo pipefail
build=${1:?usage: make_bundle.sh BUILD_DIR BUNDLE_DIR}
bundle=${2:?usage: make_bundle.sh BUILD_DIR BUNDLE_DIR}
mkdir -p "$bundle"
cp "$build/tests/nnfuse_cuda_tests" "$build/tests/spec/nnfuse_spec_tests" "$build/bench/nnfuse_cuda_bench" "$bundle/"
cp "$(ldd "$build/bench/nnfuse_cuda_bench" | awk '/libbenchmark/ {print $3}')" "$bundle/"
cp "$(dirname "$0")/run_gpu_suite.sh" "$(dirname "$0")/../../bench/cuda/torch_cuda_anchors.py" "$bundle/"
du -sh "$bundle"
