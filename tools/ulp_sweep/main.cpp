// nnf_ulp_sweep: exhaustive (or partial) ULP sweep of one nnf::math function on
// one x86 ISA path. See ulp_sweep.h for the error definition.
//
//   nnf_ulp_sweep <function|all> <avx512|avx2|baseline|host|all>
//                 [--start HEX] [--count N] [--sample N] [--threads N]
//
// Default: all 2^32 inputs. --start/--count sweep a range of bit patterns,
// --sample N sweeps N scrambled bit patterns spread over all binades.
// "all" for the ISA runs every path this CPU supports in one pass, sharing the
// (expensive) double reference. Exit: 0 within bound, 1 bound or special-value
// violation, 2 usage error or ISA not supported by this CPU.
#include <algorithm>
#include <chrono>
#include <memory>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "math/nnf_math.h"
#include "ulp_sweep.h"

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: nnf_ulp_sweep <function|all> <avx512|avx2|baseline|host|all>\n"
                 "                     [--start HEX] [--count N] [--sample N] [--threads N]\n"
                 "functions:");
    for (const auto &f : nnf::math::functions()) std::fprintf(stderr, " %s", f.name);
    std::fprintf(stderr, "\n");
    return 2;
}

float from_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}

struct Path {
    const nnf::ulp::Isa *isa;
    std::unique_ptr<nnf::ulp::Evaluator> eval;
    std::vector<nnf::ulp::Stats> per_thread;
};

int sweep(const nnf::math::FunctionInfo &fn, const std::vector<const nnf::ulp::Isa *> &isas, uint64_t start,
          uint64_t count, bool sample, int threads) {
    std::vector<Path> paths;
    for (const auto *isa : isas) {
        Path p{isa, std::make_unique<nnf::ulp::Evaluator>(fn.name, nnf::ulp::isa_target(*isa)), {}};
        p.per_thread.resize(threads);
        paths.push_back(std::move(p));
    }
    const nnf::ulp::RefFn ref = nnf::ulp::reference(fn.name);
    const uint64_t chunk = 1u << 20;
    const uint64_t nchunks = (count + chunk - 1) / chunk;
    auto t0 = std::chrono::steady_clock::now();
    auto worker = [&](int t) {
        std::vector<float> in(chunk), out(chunk), out0(chunk);
        std::vector<double> r(chunk);
        std::vector<uint32_t> b(chunk);
        for (uint64_t c = t; c < nchunks; c += threads) {
            uint64_t first = c * chunk;
            int n = static_cast<int>(std::min<uint64_t>(chunk, count - first));
            for (int i = 0; i < n; i++) {
                uint64_t k = first + i;
                b[i] = sample ? static_cast<uint32_t>(k * 0x9E3779B1ull + start)
                              : static_cast<uint32_t>(start + k);
                in[i] = from_bits(b[i]);
                r[i] = ref(static_cast<double>(in[i]));
            }
            // Paths usually agree bit for bit: then the first path's chunk
            // statistics are reused instead of comparing again.
            nnf::ulp::Stats first_chunk;
            for (size_t j = 0; j < paths.size(); j++) {
                auto &p = paths[j];
                float *o = j == 0 ? out0.data() : out.data();
                p.eval->run(in.data(), o, n);
                if (j > 0 && std::memcmp(o, out0.data(), n * sizeof(float)) == 0) {
                    p.per_thread[t].merge(first_chunk);
                    continue;
                }
                nnf::ulp::Stats cs;
                for (int i = 0; i < n; i++) {
                    nnf::ulp::accumulate(cs, fn.name, fn.max_ulp, b[i], o[i], r[i]);
                }
                p.per_thread[t].merge(cs);
                if (j == 0) first_chunk = cs;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) pool.emplace_back(worker, t);
    for (auto &th : pool) th.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    int rc = 0;
    for (auto &p : paths) {
        nnf::ulp::Stats s;
        for (auto &ps : p.per_thread) s.merge(ps);
        float wx = from_bits(s.worst_bits);
        std::printf("function %s  isa %s (%s)  inputs %" PRIu64 "  %.1f s\n", fn.name, p.isa->name,
                    nnf::ulp::isa_target(*p.isa).to_string().c_str(), s.count, secs);
        std::printf("  max ULP            %.4f  at x = 0x%08x (%.9g): got %.9g, reference %.17g\n", s.max_ulp,
                    s.worst_bits, wx, s.worst_out, s.worst_ref);
        std::printf("  results > 1 ULP    %" PRIu64 "\n", s.over_1ulp);
        std::printf("  results > bound    %" PRIu64 "  (bound %.0f ULP)\n", s.over_bound, fn.max_ulp);
        std::printf("  special mismatches %" PRIu64, s.special_mismatches);
        if (s.special_mismatches) {
            std::printf("  (first at x = 0x%08x (%.9g): got %.9g)", s.first_special_bits, from_bits(s.first_special_bits),
                        s.first_special_out);
        }
        std::printf("\nRESULT %s %s max_ulp=%.4f worst=0x%08x worst_x=%.9g over1=%" PRIu64 " over_bound=%" PRIu64
                    " special=%" PRIu64 " inputs=%" PRIu64 "\n",
                    fn.name, p.isa->name, s.max_ulp, s.worst_bits, wx, s.over_1ulp, s.over_bound,
                    s.special_mismatches, s.count);
        std::fflush(stdout);
        if (s.over_bound || s.special_mismatches) rc = 1;
    }
    return rc;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    std::string fname = argv[1], isaname = argv[2];
    uint64_t start = 0, count = 1ull << 32;
    bool sample = false;
    int threads = 1;
    for (int i = 3; i < argc; i++) {
        std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        const char *v = argv[++i];
        if (a == "--start") {
            start = std::strtoull(v, nullptr, 16);
        } else if (a == "--count") {
            count = std::strtoull(v, nullptr, 0);
        } else if (a == "--sample") {
            count = std::strtoull(v, nullptr, 0);
            sample = true;
        } else if (a == "--threads") {
            threads = std::max(1, std::atoi(v));
        } else {
            return usage();
        }
    }
    if (!sample && start + count > (1ull << 32)) count = (1ull << 32) - start;

    std::vector<const nnf::math::FunctionInfo *> fns;
    if (fname == "all") {
        for (const auto &f : nnf::math::functions()) fns.push_back(&f);
    } else if (const auto *f = nnf::math::find_function(fname.c_str())) {
        fns.push_back(f);
    } else {
        std::fprintf(stderr, "nnf_ulp_sweep: unknown function '%s'\n", fname.c_str());
        return usage();
    }

    std::vector<const nnf::ulp::Isa *> isas;
    if (isaname == "all") {
        for (const auto &isa : nnf::ulp::isas()) {
            if (std::string(isa.name) == "host") continue;
            if (nnf::ulp::isa_available(isa)) {
                isas.push_back(&isa);
            } else {
                std::printf("skipping %s: this CPU does not support it\n", isa.name);
            }
        }
    } else {
        const auto *isa = nnf::ulp::find_isa(isaname);
        if (!isa) {
            std::fprintf(stderr, "nnf_ulp_sweep: unknown ISA '%s'\n", isaname.c_str());
            return usage();
        }
        if (!nnf::ulp::isa_available(*isa)) {
            std::fprintf(stderr, "nnf_ulp_sweep: this CPU does not support %s (%s); refusing to run it\n",
                         isa->name, isa->target);
            return 2;
        }
        isas.push_back(isa);
    }

    int rc = 0;
    try {
        for (const auto *f : fns) {
            rc |= sweep(*f, isas, start, count, sample, threads);
        }
    } catch (const Halide::CompileError &e) {
        std::fprintf(stderr, "nnf_ulp_sweep: Halide compile error: %s\n", e.what());
        return 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "nnf_ulp_sweep: %s\n", e.what());
        return 2;
    }
    return rc;
}
