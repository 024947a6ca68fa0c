// nnfc: the nnfuse compiler's command line.
//   nnfc list-ops                          the registry, with parameters and defaults
//   nnfc emit-c-api [--cuda] <header.h> <wrappers.cpp>
//                                          the C ABI of the registry's ops (--cuda: the library
//                                          has CUDA variants of every kernel)
//   nnfc check <spec.nnf>                  parse and type-check a kernel spec
//   nnfc compile <spec.nnf> ...            fused kernels: runs nnfc-compile (nnfc/compile.h)
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <unistd.h>

#include "nnfc/c_api_emitter.h"
#include "spec/spec.h"
#include "registry/registry.h"

namespace {

int usage() {
    std::cerr << "usage: nnfc list-ops\n       nnfc emit-c-api [--cuda] <header.h> <wrappers.cpp>\n"
                 "       nnfc check <spec.nnf>\n"
                 "       nnfc compile <spec.nnf> [--targets <t1,t2,...>] --prefix <name> -o <dir>\n";
    return 2;
}

int list_ops() {
    for (const nnf::registry::Op &op : nnf::registry::ops()) {
        std::cout << op.name << " (" << nnf::registry::family_name(op.family) << "): " << op.summary << "\n";
        for (const nnf::registry::Param &p : op.params) {
            std::cout << "    " << p.name << ": " << nnf::registry::param_type_name(p.type);
            if (!p.enum_values.empty()) {
                std::cout << " {";
                for (size_t i = 0; i < p.enum_values.size(); ++i) std::cout << (i ? ", " : "") << p.enum_values[i];
                std::cout << "}";
            }
            std::cout << " = " << p.default_value << "  (" << p.doc << ")\n";
        }
    }
    return 0;
}

// Writes only when the text changed, so that an unchanged registry rebuilds nothing.
bool write_if_changed(const char *path, const std::string &text) {
    std::ifstream in(path, std::ios::binary);
    std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in && old == text) return true;
    std::ofstream out(path, std::ios::binary);
    out << text;
    return static_cast<bool>(out);
}

int check_spec(const char *path) {
    try {
        nnf::spec::load(path);
    } catch (const nnf::spec::CompileError &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}

// Compiling needs libHalide, which nnfc (it builds the standard library's C ABI) does without:
// nnfc-compile, beside this executable, does it.
int run_compile(int argc, char **argv) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string exe = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string(argv[0]);
    exe = exe.substr(0, exe.find_last_of('/') + 1) + "nnfc-compile";
    argv[1] = const_cast<char *>(exe.c_str());
    execv(exe.c_str(), argv + 1);
    std::cerr << "nnfc: cannot run " << exe << "\n";
    return 1;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        if (argc == 2 && !std::strcmp(argv[1], "list-ops")) return list_ops();
        if (argc == 3 && !std::strcmp(argv[1], "check")) return check_spec(argv[2]);
        if (argc >= 2 && !std::strcmp(argv[1], "compile")) return run_compile(argc, argv);
        if (argc >= 4 && !std::strcmp(argv[1], "emit-c-api")) {
            nnf::emit::EmitOptions options;
            int arg = 2;
            if (!std::strcmp(argv[arg], "--cuda")) {
                options.cuda = true;
                ++arg;
            }
            if (argc != arg + 2) return usage();
            std::ostringstream header, wrappers;
            nnf::emit::write_public_header(header);
            nnf::emit::write_wrappers(wrappers, options);
            if (!write_if_changed(argv[arg], header.str()) || !write_if_changed(argv[arg + 1], wrappers.str())) {
                std::cerr << "nnfc: cannot write " << argv[arg] << " or " << argv[arg + 1] << "\n";
                return 1;
            }
            return 0;
        }
    } catch (const std::exception &e) {
        std::cerr << "nnfc: " << e.what() << "\n";
        return 1;
    }
    return usage();
}
