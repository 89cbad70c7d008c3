#include "interrupt.hpp"

#include <gradflow/core/cancellation.hpp>

#include <unistd.h>

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

void hang_thread() {
  for (;;) ::pause();
}

bool exiting_without_this_thread() {
#if PY_VERSION_HEX >= 0x030D0000
  const bool finalizing = Py_IsFinalizing() != 0;
#else
  const bool finalizing = _Py_IsFinalizing() != 0;
#endif
  return finalizing && !on_main_thread();
}

GilAcquire::GilAcquire() {
  // Checked first: after the interpreter is gone even finding this thread's state is not safe.
  if (exiting_without_this_thread()) hang_thread();
  guard_exit([this] { gil_.emplace(); });
}

GilRelease::GilRelease() {
  py::detail::get_internals();  // as py::gil_scoped_release: GilAcquire on other threads needs it made
  state_ = PyEval_SaveThread();
}

GilRelease::~GilRelease() {
  if (exiting_without_this_thread()) hang_thread();
  guard_exit([this] { PyEval_RestoreThread(state_); });
}

py::object call_python(const py::handle& callable, const py::tuple& args) {
  PyObject* const result = guard_exit([&] { return PyObject_Call(callable.ptr(), args.ptr(), nullptr); });
  if (result == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(result);
}

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
    GilAcquire gil;
    if (guard_exit([] { return PyErr_CheckSignals(); }) == 0) return false;
    error_.emplace();  // fetches the exception a handler raised, and clears it
    return true;
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    throw;  // a thread that pthread_exit or pthread_cancel ends goes on unwinding
#endif
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
