// The SUNDIALS 7 branch of flow/detail/sundials_compat.hpp, compiled and run without SUNDIALS 7 (Debian 12
// has 6.4): SUNDIALS_VERSION_MAJOR is set to 7 and the few declarations the branch uses are stand-ins,
// declared as SUNDIALS 7's sundials_types.h, sundials_context.h and sundials_errors.h declare them and
// defined here to record their calls. What this checks: the branch compiles against those signatures,
// passes SUN_COMM_NULL to SUNContext_Create, clears the default handlers before pushing its own, and its
// handler, called as SUNDIALS 7 calls one, forwards the function name and the message. What it cannot
// check: the real SUNDIALS 7 library (its headers, its ABI, its behaviour). A standalone program: it
// links no SUNDIALS, so the stand-ins clash with nothing.
#include <cstdio>
#include <cstring>
#include <string>

#define GRADFLOW_SUNDIALS_STAND_IN 1
#define SUNDIALS_VERSION_MAJOR 7

// --- Stand-ins, with SUNDIALS 7's signatures -------------------------------------------------------
extern "C" {
typedef struct SUNContext_* SUNContext;
typedef int SUNErrCode;
typedef int SUNComm;  // without MPI
typedef void (*SUNErrHandlerFn)(int line, const char* func, const char* file, const char* msg, SUNErrCode err_code,
                                void* err_user_data, SUNContext sunctx);
SUNErrCode SUNContext_Create(SUNComm comm, SUNContext* sunctx_out);
SUNErrCode SUNContext_PushErrHandler(SUNContext sunctx, SUNErrHandlerFn err_fn, void* err_user_data);
SUNErrCode SUNContext_ClearErrHandlers(SUNContext sunctx);
}
#define SUN_COMM_NULL 0
enum { SUN_ERR_MINIMUM = -10000, SUN_ERR_EXT_FAIL = -9987, SUN_ERR_MAXIMUM = -1000, SUN_SUCCESS = 0 };

#include <gradflow/flow/detail/sundials_compat.hpp>

namespace {

struct SUNContextRecord {
  int created_with_comm = -1;
  int cleared = 0;
  SUNErrHandlerFn handler = nullptr;
  void* handler_data = nullptr;
} g_record;

struct Captured {
  std::string function, message;
};

void capture(const char* function, const char* message, void* user_data) {
  auto* captured = static_cast<Captured*>(user_data);
  captured->function = function;
  captured->message = message;
}

int g_failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++g_failures;
  }
}

}  // namespace

extern "C" {
SUNErrCode SUNContext_Create(SUNComm comm, SUNContext* sunctx_out) {
  g_record.created_with_comm = comm;
  *sunctx_out = reinterpret_cast<SUNContext>(&g_record);
  return SUN_SUCCESS;
}
SUNErrCode SUNContext_ClearErrHandlers(SUNContext) {
  ++g_record.cleared;
  g_record.handler = nullptr;
  return SUN_SUCCESS;
}
SUNErrCode SUNContext_PushErrHandler(SUNContext, SUNErrHandlerFn err_fn, void* err_user_data) {
  g_record.handler = err_fn;
  g_record.handler_data = err_user_data;
  return SUN_SUCCESS;
}
}

int main() {
  namespace sundials = gradflow::detail::sundials;
  check(std::strcmp(sundials::kErrorHandlerSetter, "SUNContext_PushErrHandler") == 0, "the 7.x branch was compiled");
  check(sundials::kLinearSolverSuccess == SUN_SUCCESS, "linear solver success is SUN_SUCCESS");
  check(sundials::kLinearSolverUnrecoverable == SUN_ERR_EXT_FAIL, "an unrecoverable failure is SUN_ERR_EXT_FAIL");
  SUNContext context = nullptr;
  check(sundials::create_context(&context) == SUN_SUCCESS && context != nullptr, "create_context");
  check(g_record.created_with_comm == SUN_COMM_NULL, "SUNContext_Create gets SUN_COMM_NULL");
  Captured captured;
  sundials::ErrorForwarder forwarder{capture, &captured};
  check(sundials::set_error_handler(nullptr, context, forwarder) == SUN_SUCCESS, "set_error_handler");
  check(g_record.cleared == 1, "the default handlers are cleared first");
  check(g_record.handler != nullptr && g_record.handler_data == &forwarder, "the handler is pushed with its data");
  if (g_record.handler != nullptr) {
    // As SUNDIALS 7 reports an error: line, function, file, message, code, the handler's data, context.
    g_record.handler(42, "CVodeSStolerances", "cvode.c", "rtol < 0 illegal.", -22, g_record.handler_data, context);
  }
  check(captured.function == "CVodeSStolerances", "the function name reaches gradflow's handler");
  check(captured.message == "rtol < 0 illegal.", "the message reaches gradflow's handler");
  if (g_failures == 0) std::printf("sundials_compat.hpp, SUNDIALS 7 branch: all checks passed (stand-ins)\n");
  return g_failures == 0 ? 0 : 1;
}
