// nnfuse on the CPU: every op of the op table, forward and backward, on the ISA path that
// NNF_MAX_ISA selects (avx512, avx2, baseline; one process per path, since the path is fixed on
// the first kernel call), beside the memory copy of the same bytes. bench/run_suite.py runs this
// binary once per path and the comparison binaries in the same passes.
#include <cstdio>
#include <string>

#include "bench_problem.h"

int main(int argc, char **argv) {
    using namespace nnf::bench;
    Implementation nnfuse;
    nnfuse.name = "nnfuse";
    // Every op: one whose family has no problem yet still shows up, skipped with the reason.
    nnfuse.has_op = [](const OpCase &, Direction) { return true; };
    nnfuse.prepare = [](Problem &problem, int) -> std::function<bool()> {
        return [&problem] { return problem.run_nnfuse() == NNF_OK; };
    };
    nnfuse.set_threads = [](int threads) { nnf_set_num_threads(threads); };
    nnfuse.label = [] { return std::string("nnfuse ") + nnf_version_string() + " isa=" + nnf_isa_name(nnf_get_isa()); };
    register_op_benchmarks(nnfuse);
    register_copy_benchmarks();
    return run_benchmarks(argc, argv);
}
