// flow/detail/sundials_compat.hpp against the installed CVODE (on Debian 12, SUNDIALS 6.4: the 6.x
// branch): the context is created, the error handler is installed and CVODE's messages reach it.
// The SUNDIALS 7 branch is compiled and run by tests/sundials7_shim_check.cpp against stand-ins.
#include <gradflow/flow/detail/sundials_compat.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

struct Captured {
  std::string function;
  std::string message;
  int calls = 0;
};

void capture(const char* function, const char* message, void* user_data) {
  auto* captured = static_cast<Captured*>(user_data);
  captured->function = function;
  captured->message = message;
  ++captured->calls;
}

}  // namespace

TEST_CASE("The SUNDIALS shim's branch for the installed SUNDIALS creates a context and routes CVODE's errors",
          "[cvode]") {
  namespace sundials = gradflow::detail::sundials;
  CHECK(std::string(sundials::kErrorHandlerSetter) ==
        (SUNDIALS_VERSION_MAJOR >= 7 ? "SUNContext_PushErrHandler" : "CVodeSetErrHandlerFn"));
  CHECK(sundials::kLinearSolverSuccess == 0);
  CHECK(sundials::kLinearSolverUnrecoverable < 0);
  SUNContext context = nullptr;
  REQUIRE(sundials::create_context(&context) == 0);
  REQUIRE(context != nullptr);
  void* memory = CVodeCreate(CV_BDF, context);
  REQUIRE(memory != nullptr);
  Captured captured;
  sundials::ErrorForwarder forwarder{capture, &captured};
  REQUIRE(sundials::set_error_handler(memory, context, forwarder) == CV_SUCCESS);
  // Tolerances before CVodeInit: an illegal call that CVODE reports through the handler.
  CHECK(CVodeSStolerances(memory, 1e-8, 1e-10) < 0);
  CHECK(captured.calls == 1);
  CHECK(captured.function == "CVodeSStolerances");
  CHECK_FALSE(captured.message.empty());
  CVodeFree(&memory);
  SUNContext_Free(&context);
}
