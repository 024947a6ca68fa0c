// The elementwise losses' C ABI by op name, for the CPU and GPU loss suites.
#pragma once

#include <string>

#include "nnfuse/nnfuse.h"

namespace nnf::test {

// The C ABI of one elementwise loss, with the reduction and width (beta or delta) set.
inline nnf_status elementwise_forward(const std::string &op, const DLTensor *x, const DLTensor *t, DLTensor *out,
                                      nnf_reduction r, float width) {
    if (op == "mse_loss") {
        nnf_mse_loss_params p = {r};
        return nnf_mse_loss_forward(x, t, out, &p);
    }
    if (op == "l1_loss") {
        nnf_l1_loss_params p = {r};
        return nnf_l1_loss_forward(x, t, out, &p);
    }
    if (op == "smooth_l1_loss") {
        nnf_smooth_l1_loss_params p = {r, width};
        return nnf_smooth_l1_loss_forward(x, t, out, &p);
    }
    nnf_huber_loss_params p = {r, width};
    return nnf_huber_loss_forward(x, t, out, &p);
}

inline nnf_status elementwise_backward(const std::string &op, const DLTensor *g, const DLTensor *x, const DLTensor *t,
                                       DLTensor *gi, nnf_reduction r, float width) {
    if (op == "mse_loss") {
        nnf_mse_loss_params p = {r};
        return nnf_mse_loss_backward(g, x, t, gi, &p);
    }
    if (op == "l1_loss") {
        nnf_l1_loss_params p = {r};
        return nnf_l1_loss_backward(g, x, t, gi, &p);
    }
    if (op == "smooth_l1_loss") {
        nnf_smooth_l1_loss_params p = {r, width};
        return nnf_smooth_l1_loss_backward(g, x, t, gi, &p);
    }
    nnf_huber_loss_params p = {r, width};
    return nnf_huber_loss_backward(g, x, t, gi, &p);
}

}  // namespace nnf::test
