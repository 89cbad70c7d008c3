// FlowResult and DescentResult: the library's results, with their rows as arrays through the row field
// table (flow/row_fields.hpp) and their fields through summary() (core/named_value.hpp), so that the
// module lists no column or field of its own.
#pragma once

#include "convert.hpp"

#include <gradflow/discrete/result.hpp>
#include <gradflow/flow/result.hpp>

namespace gradflow::python {

struct PyFlowResult {
  FlowResult r;
};

struct PyDescentResult {
  DescentResult r;
};

void bind_results(py::module_& m);

}  // namespace gradflow::python
