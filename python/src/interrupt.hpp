// Ctrl-C during a long call. The module installs the library's cancellation check
// (core/cancellation.hpp) when it is imported: on the main thread, inside a call that holds an
// InterruptScope, the check takes the GIL at most every 20 ms of the run and calls PyErr_CheckSignals,
// which runs the Python signal handlers. When one raises (KeyboardInterrupt for SIGINT's default
// handler), the exception is kept, the run ends (Status::interrupted, the last accepted state), and
// the call raises it when it returns, the result attached as gradflow_result, as for an exception
// from a Python callable (callbacks.hpp). On other threads the check answers false (Python delivers
// signals to the main thread only): a call made there runs to its end, while the threads that a
// main-thread call spreads its runs over stop with it (CancellationGroup).
//
// The interpreter's exit while another thread is inside a call (a daemon thread, which Python does not
// wait for): at finalization CPython 3.11 to 3.13 ends a thread that takes the GIL with pthread_exit,
// whose forced unwinding (abi::__forced_unwind) would run through our frames: destructors that call
// the C API of an interpreter being torn down, a second pthread_exit in a destructor (std::terminate).
// So every place where a call takes the GIL back (GilAcquire, GilRelease's end, call_python()) stops
// such a thread there, for good, before anything is unwound (hang_thread(), what CPython 3.14 does
// itself): it holds no lock, and the process exits around it.
#pragma once

#include "convert.hpp"

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include <optional>

namespace gradflow::python {

// Stops the calling thread for good (it waits for the process to exit).
[[noreturn]] void hang_thread();

// The interpreter is being finalized and the calling thread is not its main thread (which finalizes
// it): whatever this thread does next with Python, the interpreter ends it.
bool exiting_without_this_thread();

// py::gil_scoped_acquire for a thread that runs with the GIL released; hangs (above) where the
// interpreter's exit would end the thread.
class GilAcquire {
 public:
  GilAcquire();
  GilAcquire(const GilAcquire&) = delete;
  GilAcquire& operator=(const GilAcquire&) = delete;

 private:
  std::optional<py::gil_scoped_acquire> gil_;
};

// py::gil_scoped_release around a run; taking the GIL back at its end hangs where the interpreter's exit
// would end the thread.
class GilRelease {
 public:
  GilRelease();
  ~GilRelease();
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;

 private:
  PyThreadState* state_ = nullptr;
};

// callable(*args) with the GIL held (a new reference, or the Python exception as py::error_already_set);
// the thread hangs where the interpreter's exit ends it inside the call (Python code gives the GIL away
// and takes it back: a sleep, the interpreter's switch between threads).
py::object call_python(const py::handle& callable, const py::tuple& args);

// body() with the GIL held; where the interpreter's exit ends the thread inside it, the thread hangs
// (the objects body made are destroyed first: call_python() hangs before, where it can happen most).
template <class Body>
decltype(auto) guard_exit(Body&& body) {
#if defined(__GLIBCXX__)
  try {
    return body();
  } catch (abi::__forced_unwind&) {
    hang_thread();
  }
#else
  return body();
#endif
}

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
