// certify(), find_scale(), probability() and compare_inits().
#pragma once

#include "convert.hpp"

namespace gradflow::python {

void bind_experiments(py::module_& m);

}  // namespace gradflow::python
