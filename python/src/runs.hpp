// flow() and descend().
#pragma once

#include "convert.hpp"

namespace gradflow::python {

void bind_runs(py::module_& m);

}  // namespace gradflow::python
