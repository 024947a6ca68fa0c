// Double-precision references of the softmax family along one dim of a row-major tensor,
// written from the textbook definitions (independent of compiler/ops).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace nnf::test {

// Element i of a row-major tensor of `shape` split around `dim`: (outer, k, inner).
struct RowPosition {
    int64_t row;  // outer * inner_extent + inner
    int64_t k;
};

inline int64_t inner_extent(const std::vector<int64_t> &shape, int dim) {
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(dim) + 1; d < shape.size(); ++d) inner *= shape[d];
    return inner;
}

inline RowPosition row_position(const std::vector<int64_t> &shape, int dim, int64_t i) {
    const int64_t inner = inner_extent(shape, dim), extent = shape.empty() ? 1 : shape[static_cast<size_t>(dim)];
    return {i / (extent * inner) * inner + i % inner, (i / inner) % extent};
}

// y for op in {softmax, log_softmax, softmin} with inverse temperature beta, along `dim`
// (already non-negative; 0 for a 0-d tensor), over row-major values `x`.
inline std::vector<double> softmax_ref(const std::string &op, const std::vector<int64_t> &shape, int dim, double beta,
                                       const std::vector<float> &x) {
    const int64_t n = static_cast<int64_t>(x.size());
    const int64_t extent = shape.empty() ? 1 : shape[static_cast<size_t>(dim)];
    const int64_t rows = extent ? n / extent : 0;
    const double s = op == "softmin" ? -beta : beta;
    std::vector<double> max(static_cast<size_t>(rows), -INFINITY), sum(static_cast<size_t>(rows), 0.0);
    std::vector<RowPosition> pos(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        pos[static_cast<size_t>(i)] = row_position(shape, dim, i);
        double &m = max[static_cast<size_t>(pos[static_cast<size_t>(i)].row)];
        const double z = s * x[static_cast<size_t>(i)];
        m = std::isnan(z) || std::isnan(m) ? NAN : std::fmax(m, z);
    }
    for (int64_t i = 0; i < n; ++i) {
        const int64_t r = pos[static_cast<size_t>(i)].row;
        sum[static_cast<size_t>(r)] += std::exp(s * x[static_cast<size_t>(i)] - max[static_cast<size_t>(r)]);
    }
    std::vector<double> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const size_t r = static_cast<size_t>(pos[static_cast<size_t>(i)].row);
        const double shifted = s * x[static_cast<size_t>(i)] - max[r];
        y[static_cast<size_t>(i)] = op == "log_softmax" ? shifted - std::log(sum[r]) : std::exp(shifted) / sum[r];
    }
    return y;
}

// grad_input from the saved output y by the textbook Jacobian products, in double: softmax and
// softmin s y (g - sum(g y)), log_softmax s (g - exp(y) sum(g)), with s = beta (softmin: -beta).
inline std::vector<double> softmax_backward_ref(const std::string &op, const std::vector<int64_t> &shape, int dim,
                                                double beta, const std::vector<float> &grad,
                                                const std::vector<float> &y) {
    const size_t n = y.size();
    const double s = op == "softmin" ? -beta : beta;
    std::vector<double> row_sum(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
        const RowPosition p = row_position(shape, dim, static_cast<int64_t>(i));
        row_sum[static_cast<size_t>(p.row)] += op == "log_softmax" ? grad[i] : static_cast<double>(grad[i]) * y[i];
    }
    std::vector<double> gi(n);
    for (size_t i = 0; i < n; ++i) {
        const double sum = row_sum[static_cast<size_t>(row_position(shape, dim, static_cast<int64_t>(i)).row)];
        gi[i] = op == "log_softmax" ? s * (grad[i] - std::exp(static_cast<double>(y[i])) * sum)
                                    : s * y[i] * (grad[i] - sum);
    }
    return gi;
}

}  // namespace nnf::test
