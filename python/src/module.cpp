// The Python module gradflow._core (pybind11): a thin layer over the C++ library, conversions only,
// one binding file per part (python/src): the objectives (objectives.cpp), the results (results.cpp),
// the runs (runs.cpp) and the experiments (experiments.cpp), with the conversions they share
// (convert.cpp) and the machinery that calls Python from a run (callbacks.cpp). gradflow/__init__.py
// re-exports it; gradflow/__init__.pyi is the stub for editors.
//
// Arrays: theta0, matrices and data arrive as float64 C-contiguous numpy arrays (anything else is
// converted once by numpy). Objective evaluations read the array's buffer through a view; the runs and
// the problems' constructors copy once into the library's Eigen types. Results are new numpy arrays.
// A C++ run releases the GIL and takes it only around each Python call (a loss, an hvp, an event
// function); an exception there is kept, the run ends (Status::callback_error, the last accepted
// state), and the exception is raised again with its traceback, the result attached as gradflow_result.
// Ctrl-C during a run ends it the same way (Status::interrupted), through the library's cancellation
// check that the module installs (interrupt.cpp).
#include "experiments.hpp"
#include "interrupt.hpp"
#include "objectives.hpp"
#include "results.hpp"
#include "runs.hpp"

#include <gradflow/discrete/options.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/problems/detail/gemm.hpp>
#include <gradflow/problems/initialization.hpp>

#include <pybind11/stl.h>

PYBIND11_MODULE(_core, m) {
  namespace python = gradflow::python;
  m.doc() = "gradflow's C++ library (see help(gradflow))";
  m.attr("__version__") = GRADFLOW_VERSION;  // project()'s VERSION, as gradflow --version prints it
  m.def(
      "matrix_products", [] { return std::string(gradflow::kernels::gemm_instruction_set()); },
      "Which kernels run the network's matrix products: OpenBLAS (with its kernel set) or Eigen (with its "
      "instruction set), as gradflow --version prints it. Chosen once per process (GRADFLOW_GEMM, GRADFLOW_SIMD).");
  m.attr("SOLVERS") = pybind11::tuple(pybind11::cast(gradflow::solver_names()));
  m.attr("STEP_RULES") = pybind11::tuple(pybind11::cast(gradflow::step_rule_names()));
  python::bind_objectives(m);
  python::bind_results(m);
  python::bind_runs(m);
  python::bind_experiments(m);
  python::install_interrupt_check();
}
