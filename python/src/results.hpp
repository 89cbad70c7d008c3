// FlowResult and DescentResult: the library's results, with their rows as arrays through the row field
// table (flow/row_fields.hpp) and their fields through summary() (core/named_value.hpp), so that the
// module lists no column or field of its own.
#pragma once

#include "callbacks.hpp"
#include "convert.hpp"

#include <gradflow/discrete/result.hpp>
#include <gradflow/flow/result.hpp>

namespace gradflow::python {

struct PyFlowResult {
  GRADFLOW_ZEROED_ON_ALLOCATION
  FlowResult r;
};

struct PyDescentResult {
  GRADFLOW_ZEROED_ON_ALLOCATION
  DescentResult r;
};

void bind_results(py::module_& m);

}  // namespace gradflow::python
