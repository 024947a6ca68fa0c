#!/usr/bin/env bash
# The one entry point for building nnfuse from a clean clone.
#
#   ./run.sh example   install what is missing, build libnnfuse.a, install it into out/install
#                      and build and run the C example against the installed package
#   ./run.sh test      install what is missing, build everything, run the whole test suite:
#                      the x86-64 build (CPU paths, CUDA PTX checks, GPU tests where a GPU is)
#                      and the arm-64 cross build under qemu-aarch64
#   ./run.sh build     install what is missing and build (no tests)
#   ./run.sh arm64     install what is missing, build for the host and cross-build for arm-64
#                      (build-arm64/), and run the arm-64 tests under qemu
#   ./run.sh bench OUT_DIR [--quick]
#                      install the benchmark dependencies, build with benchmarks and run the CPU
#                      suite (nnfuse vs PyTorch, oneDNN, XNNPACK, memcpy): OUT_DIR/results.md, plots/
#   ./run.sh bench-fusion OUT_DIR [--quick]
#                      install PyTorch with all its dependencies (about 5 GB, into .venv-torch),
#                      build, and time the fused spec kernels of bench/fusion against the unfused
#                      nnfuse ops, eager PyTorch and torch.compile: OUT_DIR/results.md
#
# Environment: BUILD_DIR (default build), JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
ARM64_BUILD_DIR=${ARM64_BUILD_DIR:-build-arm64}
JOBS=${JOBS:-$(nproc)}
VENV=.venv

# Debian 12 packages: compilers, GoogleTest, Google Benchmark, DLPack, pkg-config.
DEBIAN_PACKAGES=(g++ make python3-venv pkg-config libgtest-dev libbenchmark-dev libdlpack-dev)
# The arm-64 cross build and its tests under emulation.
ARM64_PACKAGES=(g++-aarch64-linux-gnu qemu-user)

log() { printf '\033[1m[nnfuse]\033[0m %s\n' "$*"; }

install_debian_packages() {
    local missing=()
    for p in "${DEBIAN_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing Debian packages: ${missing[*]}"
        local sudo=""
        [[ $(id -u) == 0 ]] || sudo=sudo
        $sudo apt-get update -q
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
    fi
}

setup_venv() {
    if [[ ! -x $VENV/bin/python ]]; then
        log "creating the virtual environment $VENV"
        python3 -m venv "$VENV"
    fi
    # Reinstall only when requirements.txt changed since the last install.
    if ! cmp -s requirements.txt "$VENV/.installed-requirements"; then
        log "installing requirements.txt into $VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
        cp requirements.txt "$VENV/.installed-requirements"
    fi
}

# configure_and_build <build dir> [cmake options...]
configure_and_build() {
    local dir=$1
    shift
    setup_venv
    local started=$SECONDS
    # The Halide wheel carries Halide's CMake package under lib64/, which CMake does not
    # search on Debian; its shim in .venv/share finds it only with the venv activated.
    local halide_cmake
    halide_cmake=$("$VENV/bin/python" -c 'import halide; print(halide.install_dir())')/lib64/cmake
    "$VENV/bin/cmake" -S . -B "$dir" -G Ninja -DCMAKE_MAKE_PROGRAM="$PWD/$VENV/bin/ninja" \
        -DCMAKE_BUILD_TYPE=Release -DHalide_DIR="$halide_cmake/Halide" \
        -DHalideHelpers_DIR="$halide_cmake/HalideHelpers" "$@"
    "$VENV/bin/cmake" --build "$dir" -j "$JOBS"
    log "build of $dir took $((SECONDS - started)) s"
}

run_tests() {
    local ctest="$PWD/$VENV/bin/ctest"
    (cd "$1" && "$ctest" -j "$JOBS" --output-on-failure --timeout 900)
}

# The arm-64 cross build runs the host build's generators and nnfc (Halide's cross-compiling
# workflow), so the host build comes first. The package's _DIR, not a _ROOT hint: a cached
# _DIR would keep an existing arm-64 build on another host build's generators.
build_arm64() {
    configure_and_build "$ARM64_BUILD_DIR" --toolchain cmake/toolchains/aarch64-linux-gnu.cmake \
        -Dnnfuse-halide_generators_DIR="$PWD/$BUILD_DIR/cmake" -DNNFUSE_BUILD_TESTS=ON
}

case "${1:-}" in
example)
    install_debian_packages
    configure_and_build "$BUILD_DIR" -DNNFUSE_BUILD_TESTS=OFF
    "$VENV/bin/cmake" --install "$BUILD_DIR" --prefix out/install
    "$VENV/bin/cmake" -S examples/c_api -B out/example-build -G Ninja \
        -DCMAKE_MAKE_PROGRAM="$PWD/$VENV/bin/ninja" -DCMAKE_PREFIX_PATH="$PWD/out/install"
    "$VENV/bin/cmake" --build out/example-build
    ./out/example-build/nnfuse_example
    ;;
test)
    install_debian_packages "${ARM64_PACKAGES[@]}"
    configure_and_build "$BUILD_DIR" -DNNFUSE_BUILD_TESTS=ON
    run_tests "$BUILD_DIR"
    build_arm64
    run_tests "$ARM64_BUILD_DIR"
    ;;
arm64)
    install_debian_packages "${ARM64_PACKAGES[@]}"
    configure_and_build "$BUILD_DIR" -DNNFUSE_BUILD_TESTS=ON
    build_arm64
    run_tests "$ARM64_BUILD_DIR"
    ;;
build)
    install_debian_packages
    configure_and_build "$BUILD_DIR"
    ;;
bench)
    install_debian_packages libdnnl-dev libxnnpack-dev libpthreadpool-dev libsleef-dev
    setup_venv
    # torch's CPU library and the two small CUDA runtime wheels it links, without the rest of
    # its CUDA dependencies (several GB); see requirements-bench.txt.
    if ! cmp -s requirements-bench.txt "$VENV/.installed-requirements-bench"; then
        log "installing requirements-bench.txt into $VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r requirements-bench.txt
        cp requirements-bench.txt "$VENV/.installed-requirements-bench"
    fi
    configure_and_build "$BUILD_DIR" -DNNFUSE_BUILD_BENCHMARKS=ON
    "$VENV/bin/python" bench/run_suite.py --build-dir "$BUILD_DIR" \
        --out "${2:?usage: ./run.sh bench OUT_DIR [--quick]}" "${@:3}"
    ;;
bench-fusion)
    install_debian_packages
    if [[ ! -x .venv-torch/bin/python ]]; then
        log "creating the virtual environment .venv-torch"
        python3 -m venv .venv-torch
    fi
    if ! cmp -s requirements-torch.txt .venv-torch/.installed-requirements; then
        log "installing requirements-torch.txt into .venv-torch"
        .venv-torch/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-torch.txt
        cp requirements-torch.txt .venv-torch/.installed-requirements
    fi
    configure_and_build "$BUILD_DIR" -DNNFUSE_BUILD_BENCHMARKS=ON
    .venv-torch/bin/python bench/fusion/run_fusion_bench.py \
        --lib "$BUILD_DIR/bench/fusion/libnnfuse_fusion_bench.so" \
        --out "${2:?usage: ./run.sh bench-fusion OUT_DIR [--quick]}" "${@:3}"
    ;;
*)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
