// What the CVODE back end needs from SUNDIALS that changed between major versions 6 and 7, chosen at
// compile time by SUNDIALS_VERSION_MAJOR (sundials_config.h):
//   - the error handler: CVodeSetErrHandlerFn on the integrator (6; removed in 7) or
//     SUNContext_PushErrHandler on the context (7), after SUNContext_ClearErrHandlers so that the
//     default handler does not also print to standard error;
//   - SUNContext_Create's communicator: a void* (6) or a SUNComm, SUN_COMM_NULL without MPI (7);
//   - the custom linear solvers' return codes: SUNLS_SUCCESS and SUNLS_PACKAGE_FAIL_UNREC (6; both
//     removed in 7) or SUN_SUCCESS and SUN_ERR_EXT_FAIL (7).
// Debian 12 has SUNDIALS 6.4, so the 6.x branch is what the build compiles; tests/test_sundials_compat.cpp
// checks it against CVODE, and compiles and runs the 7.x branch against stand-in declarations written
// from the SUNDIALS 7 headers (GRADFLOW_SUNDIALS_STAND_IN: the test declares them, nothing is included).
#pragma once

#ifndef GRADFLOW_SUNDIALS_STAND_IN
#include <cvode/cvode.h>
#include <sundials/sundials_config.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>
#if SUNDIALS_VERSION_MAJOR >= 7
#include <sundials/sundials_errors.h>
#endif
#endif

namespace gradflow::detail::sundials {

// gradflow's side of an error report: the SUNDIALS function that failed and its message.
using ErrorCallback = void (*)(const char* function, const char* message, void* user_data);

// Where a handler installed by set_error_handler() forwards to; must outlive the integrator and the
// context.
struct ErrorForwarder {
  ErrorCallback callback = nullptr;
  void* user_data = nullptr;
};

#if SUNDIALS_VERSION_MAJOR >= 7

inline constexpr int kLinearSolverSuccess = SUN_SUCCESS;
inline constexpr int kLinearSolverUnrecoverable = SUN_ERR_EXT_FAIL;

inline int create_context(SUNContext* context) { return SUNContext_Create(SUN_COMM_NULL, context); }

inline void forward_error(int /*line*/, const char* function, const char* /*file*/, const char* message,
                          SUNErrCode /*code*/, void* data, SUNContext /*context*/) {
  const auto* forwarder = static_cast<const ErrorForwarder*>(data);
  forwarder->callback(function ? function : "", message ? message : "", forwarder->user_data);
}

inline int set_error_handler(void* /*cvode_memory*/, SUNContext context, ErrorForwarder& forwarder) {
  const int cleared = SUNContext_ClearErrHandlers(context);
  if (cleared < 0) return cleared;
  return SUNContext_PushErrHandler(context, forward_error, &forwarder);
}

inline constexpr const char* kErrorHandlerSetter = "SUNContext_PushErrHandler";

#else

inline constexpr int kLinearSolverSuccess = SUNLS_SUCCESS;
inline constexpr int kLinearSolverUnrecoverable = SUNLS_PACKAGE_FAIL_UNREC;

inline int create_context(SUNContext* context) { return SUNContext_Create(nullptr, context); }

inline void forward_error(int /*code*/, const char* /*module*/, const char* function, char* message, void* data) {
  const auto* forwarder = static_cast<const ErrorForwarder*>(data);
  forwarder->callback(function ? function : "", message ? message : "", forwarder->user_data);
}

inline int set_error_handler(void* cvode_memory, SUNContext /*context*/, ErrorForwarder& forwarder) {
  return CVodeSetErrHandlerFn(cvode_memory, forward_error, &forwarder);
}

inline constexpr const char* kErrorHandlerSetter = "CVodeSetErrHandlerFn";

#endif

}  // namespace gradflow::detail::sundials
