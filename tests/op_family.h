// The op table's entries of one family, in registry order, for suites that run every op of it.
#pragma once

#include <string>
#include <vector>

#include "op_table.h"

namespace nnf::test {

inline std::vector<const rt::OpInfo *> ops_of_family(const std::string &family) {
    std::vector<const rt::OpInfo *> result;
    int count = 0;
    const rt::OpInfo *ops = rt::op_table(&count);
    for (int i = 0; i < count; ++i) {
        if (family == ops[i].family) result.push_back(&ops[i]);
    }
    return result;
}

}  // namespace nnf::test
