#!/usr/bin/env bash
# The one entry point for building nnfuse from a clean clone.
#
#   ./run.sh example   install what is missing, build libnnfuse.a, install it into out/install
#                      and build and run the C example against the installed package
#   ./run.sh test      install what is missing, build everything, run the whole test suite
#   ./run.sh build     install what is missing and build (no tests)
#
# Environment: BUILD_DIR (default build), JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
VENV=.venv

# Debian 12 packages: compilers, GoogleTest, Google Benchmark, DLPack, pkg-config.
DEBIAN_PACKAGES=(g++ make python3-venv pkg-config libgtest-dev libbenchmark-dev libdlpack-dev)

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

configure_and_build() {
    setup_venv
    local started=$SECONDS
    # The Halide wheel carries Halide's CMake package under lib64/, which CMake does not
    # search on Debian; its shim in .venv/share finds it only with the venv activated.
    local halide_cmake
    halide_cmake=$("$VENV/bin/python" -c 'import halide; print(halide.install_dir())')/lib64/cmake
    "$VENV/bin/cmake" -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_MAKE_PROGRAM="$PWD/$VENV/bin/ninja" \
        -DCMAKE_BUILD_TYPE=Release -DHalide_DIR="$halide_cmake/Halide" \
        -DHalideHelpers_DIR="$halide_cmake/HalideHelpers" "$@"
    "$VENV/bin/cmake" --build "$BUILD_DIR" -j "$JOBS"
    log "build took $((SECONDS - started)) s"
}

case "${1:-}" in
example)
    install_debian_packages
    configure_and_build -DNNFUSE_BUILD_TESTS=OFF
    "$VENV/bin/cmake" --install "$BUILD_DIR" --prefix out/install
    "$VENV/bin/cmake" -S examples/c_api -B out/example-build -G Ninja \
        -DCMAKE_MAKE_PROGRAM="$PWD/$VENV/bin/ninja" -DCMAKE_PREFIX_PATH="$PWD/out/install"
    "$VENV/bin/cmake" --build out/example-build
    ./out/example-build/nnfuse_example
    ;;
test)
    install_debian_packages
    configure_and_build -DNNFUSE_BUILD_TESTS=ON
    (cd "$BUILD_DIR" && ../"$VENV"/bin/ctest -j "$JOBS" --output-on-failure --timeout 900)
    ;;
build)
    install_debian_packages
    configure_and_build
    ;;
*)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
