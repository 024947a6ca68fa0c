// Double-precision references of the losses, written from PyTorch's definitions
// (torch.nn.functional docs; aten/src/ATen/native/Loss.cpp, LossNLL.cpp), independent of the
// Halide algorithms: log_softmax is formed explicitly and the reductions are plain sums.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace nnf::test {

enum class RefReduction { none = 0, mean = 1, sum = 2 };

inline double elementwise_loss_ref(const std::string &op, double d, double width) {
    const double z = std::fabs(d);
    if (op == "mse_loss") return d * d;
    if (op == "l1_loss") return z;
    if (op == "smooth_l1_loss") return width == 0 ? z : (z < width ? 0.5 * z * z / width : z - 0.5 * width);
    if (op == "huber_loss") return z < width ? 0.5 * z * z : width * (z - 0.5 * width);
    return std::numeric_limits<double>::quiet_NaN();
}

// Per-element losses reduced as PyTorch: mean over all elements (NaN for none), sum.
inline double reduce_ref(const std::vector<double> &values, RefReduction r, double divisor) {
    double s = 0;
    for (double v : values) s += v;
    return r == RefReduction::mean ? s / divisor : s;
}

// A classification problem in row-major (N, C, D) (D = d1..dK merged; a 1-D input is N = 1).
struct ClassProblem {
    int64_t N = 1, C = 1, D = 1;
    std::vector<double> x;         // N * C * D
    std::vector<int64_t> target;   // N * D (class indices), or empty
    std::vector<double> probs;     // N * C * D (probability targets), or empty
    std::vector<double> weight;    // C, or empty (all ones)
    int64_t ignore_index = -100;
    double label_smoothing = 0;
    double at(const std::vector<double> &v, int64_t n, int64_t c, int64_t d) const {
        return v[static_cast<size_t>((n * C + c) * D + d)];
    }
    double w(int64_t c) const { return weight.empty() ? 1.0 : weight[static_cast<size_t>(c)]; }
};

// log_softmax along C of one row, as the textbook x - log(sum exp x) with the max subtracted.
inline std::vector<double> log_softmax_row(const ClassProblem &p, int64_t n, int64_t d) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t c = 0; c < p.C; ++c) m = std::max(m, p.at(p.x, n, c, d));
    double s = 0;
    for (int64_t c = 0; c < p.C; ++c) s += std::exp(p.at(p.x, n, c, d) - m);
    std::vector<double> out(static_cast<size_t>(p.C));
    for (int64_t c = 0; c < p.C; ++c) out[static_cast<size_t>(c)] = p.at(p.x, n, c, d) - m - std::log(s);
    return out;
}

// cross_entropy (log_probabilities false) or nll_loss (true): per-row losses (N * D, row-major)
// and the reduced value. PyTorch: the label-smoothing term is formed only for eps > 0; mean
// divides by the summed weight of non-ignored targets (class indices) or by N * D (probabilities).
struct ClassResult {
    std::vector<double> rows;
    double reduced_mean = 0, reduced_sum = 0, total_weight = 0;
};

inline ClassResult classification_ref(const ClassProblem &p, bool log_probabilities) {
    ClassResult r;
    const double eps = p.label_smoothing;
    for (int64_t n = 0; n < p.N; ++n) {
        for (int64_t d = 0; d < p.D; ++d) {
            std::vector<double> logp(static_cast<size_t>(p.C));
            if (log_probabilities) {
                for (int64_t c = 0; c < p.C; ++c) logp[static_cast<size_t>(c)] = p.at(p.x, n, c, d);
            } else {
                logp = log_softmax_row(p, n, d);
            }
            double loss = 0;
            if (p.probs.empty()) {
                const int64_t t = p.target[static_cast<size_t>(n * p.D + d)];
                if (t != p.ignore_index) {
                    loss = -p.w(t) * logp[static_cast<size_t>(t)];
                    if (eps > 0) {
                        double smooth = 0;
                        for (int64_t c = 0; c < p.C; ++c) smooth -= p.w(c) * logp[static_cast<size_t>(c)];
                        loss = (1 - eps) * loss + eps / static_cast<double>(p.C) * smooth;
                    }
                    r.total_weight += p.w(t);
                }
            } else {
                for (int64_t c = 0; c < p.C; ++c) {
                    double q = p.at(p.probs, n, c, d);
                    if (eps > 0) q = q * (1 - eps) + eps / static_cast<double>(p.C);
                    loss -= p.w(c) * q * logp[static_cast<size_t>(c)];
                }
            }
            r.rows.push_back(loss);
            r.reduced_sum += loss;
        }
    }
    const double divisor = p.probs.empty() ? r.total_weight : static_cast<double>(p.N * p.D);
    r.reduced_mean = r.reduced_sum / divisor;
    return r;
}

}  // namespace nnf::test
