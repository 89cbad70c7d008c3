#include "interrupt.hpp"

#include <gradflow/core/cancellation.hpp>

#include <atomic>
#include <chrono>

namespace gradflow::python {
namespace {

// The interpreter's main thread (threading.main_thread().ident, PyThread_get_thread_ident's value
// there): 0 before the module is imported.
std::atomic<unsigned long> main_thread_ident{0};

// The main thread's innermost scope: read and written on the main thread only.
InterruptScope* current = nullptr;

bool on_main_thread() {
  const unsigned long main = main_thread_ident.load(std::memory_order_relaxed);
  return main != 0 && PyThread_get_thread_ident() == main;
}

// The library's cancellation check.
bool check_signals() {
  if (!on_main_thread() || current == nullptr) return false;
  return current->check();
}

}  // namespace

void install_interrupt_check() {
  main_thread_ident.store(py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>(),
                          std::memory_order_relaxed);
  set_cancellation_check(&check_signals, std::chrono::milliseconds(20));
}

InterruptScope::InterruptScope() : main_thread_(on_main_thread()) {
  if (!main_thread_) return;
  outer_ = current;
  current = this;
}

InterruptScope::~InterruptScope() {
  if (main_thread_) current = outer_;
  if (!error_) return;
  if (error_->matches(PyExc_KeyboardInterrupt)) PyErr_SetInterrupt();
  error_.reset();
}

bool InterruptScope::check() {
  if (error_) return true;
  try {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return false;
    error_.emplace();  // fetches the exception a handler raised, and clears it
    return true;
  } catch (...) {
    return false;  // the check must not throw; the signal stays Python's
  }
}

void InterruptScope::raise_if_interrupted(const py::object& result) {
  if (!error_) return;
  py::error_already_set error = std::move(*error_);
  error_.reset();
  try {
    error.value().attr("gradflow_result") = result;
  } catch (py::error_already_set&) {
    // An exception object that takes no attributes: raised without the result.
  }
  throw error;
}

}  // namespace gradflow::python
