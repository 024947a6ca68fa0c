// nnfc-compile: the half of nnfc that links libHalide. `nnfc compile ...` runs it (it sits next
// to nnfc), so that nnfc itself, which builds the standard library's C ABI, stays Halide-free.
//   nnfc-compile <spec.nnf> [--targets <t1,t2,...>] --prefix <name> -o <dir> [--cxx <compiler>] [-I <dir>]...
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "nnfc/compile.h"
#include "spec/spec.h"

#ifndef NNFC_DEFAULT_INCLUDE_DIRS
#define NNFC_DEFAULT_INCLUDE_DIRS ""
#endif

namespace {

int usage() {
    std::cerr << "usage: nnfc compile <spec.nnf> [--targets <t1,t2,...>] --prefix <name> -o <dir> [--cxx <compiler>] "
                 "[-I <include dir>]...\n"
                 "  targets: Halide target strings, best first (default: host); several make a multitarget\n"
                 "           library with runtime dispatch; one with the cuda feature (host-cuda,\n"
                 "           x86-64-linux-cuda-cuda_capability_80, ...) adds CUDA variants for kDLCUDA tensors\n";
    return 2;
}

std::vector<std::string> split(const std::string &s, const char *separators) {
    std::vector<std::string> parts;
    std::string part;
    for (char c : s) {
        if (std::strchr(separators, c)) {
            if (!part.empty()) parts.push_back(part);
            part.clear();
        } else {
            part += c;
        }
    }
    if (!part.empty()) parts.push_back(part);
    return parts;
}

// nnfuse's headers: an install keeps them in <prefix>/include beside <prefix>/bin/nnfc; a build
// tree bakes in its own directories.
std::vector<std::string> default_include_dirs() {
    std::error_code error;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) {
        const std::filesystem::path installed = exe.parent_path().parent_path() / "include";
        if (std::filesystem::exists(installed / "nnfuse" / "nnfuse.h")) return {installed.string()};
    }
    return split(NNFC_DEFAULT_INCLUDE_DIRS, "|");
}

}  // namespace

int main(int argc, char **argv) {
    nnf::nnfc::CompileOptions options;
    std::vector<std::string> include_dirs;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
            return argv[++i];
        };
        try {
            if (arg == "--targets") {
                options.targets = split(value(), ",;");
            } else if (arg == "--prefix") {
                options.prefix = value();
            } else if (arg == "-o") {
                options.out_dir = value();
            } else if (arg == "--cxx") {
                options.cxx = value();
            } else if (arg == "-I") {
                include_dirs.push_back(value());
            } else if (arg.rfind("-I", 0) == 0) {
                include_dirs.push_back(arg.substr(2));
            } else if (!arg.empty() && arg[0] != '-' && options.spec_path.empty()) {
                options.spec_path = arg;
            } else {
                return usage();
            }
        } catch (const std::invalid_argument &e) {
            std::cerr << "nnfc: " << e.what() << "\n";
            return usage();
        }
    }
    if (options.spec_path.empty() || options.prefix.empty() || options.out_dir.empty()) return usage();
    for (char c : options.prefix) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
            std::cerr << "nnfc: --prefix must be a C identifier, not '" << options.prefix << "'\n";
            return 2;
        }
    }
    options.include_dirs = include_dirs;
    for (const std::string &dir : default_include_dirs()) options.include_dirs.push_back(dir);
    if (options.cxx.empty()) {
        const char *cxx = std::getenv("CXX");
        options.cxx = cxx && *cxx ? cxx : "c++";
    }
    try {
        nnf::nnfc::compile(options);
    } catch (const nnf::spec::CompileError &e) {
        std::cerr << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "nnfc: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
