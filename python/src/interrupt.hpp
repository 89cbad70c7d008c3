// Ctrl-C during a long call. The module installs the library's cancellation check
// (core/cancellation.hpp) when it is imported: on the main thread, inside a call that holds an
// InterruptScope, the check takes the GIL at most every 20 ms of the run and calls PyErr_CheckSignals,
// which runs the Python signal handlers. When one raises (KeyboardInterrupt for SIGINT's default
// handler), the exception is kept, the run ends (Status::interrupted, the last accepted state), and
// the call raises it when it returns, the result attached as gradflow_result, as for an exception
// from a Python callable (callbacks.hpp). On other threads the check answers false (Python delivers
// signals to the main thread only): a call made there runs to its end, while the threads that a
// main-thread call spreads its runs over stop with it (CancellationGroup).
#pragma once

#include "convert.hpp"

#include <optional>

namespace gradflow::python {

// At import, with the GIL.
void install_interrupt_check();

// Made with the GIL by a call, around the part that runs with the GIL released.
class InterruptScope {
 public:
  InterruptScope();
  // An exception kept but not raised (the call failed otherwise): a KeyboardInterrupt is made pending
  // again (PyErr_SetInterrupt), so that Python still sees the Ctrl-C.
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // With the GIL, after the run: raises the kept exception with result attached as gradflow_result;
  // nothing when the run was not interrupted.
  void raise_if_interrupted(const py::object& result);

  // Called by the check, on the main thread only.
  bool check();

 private:
  InterruptScope* outer_ = nullptr;
  bool main_thread_ = false;
  std::optional<py::error_already_set> error_;
};

}  // namespace gradflow::python
