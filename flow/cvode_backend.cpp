// The SUNDIALS CVODE back end: BDF with a dense direct solver (Jacobian -Hessian, exact when the
// problem has a dense Hessian, else CVODE's difference quotient; the Newton systems are solved with
// Eigen's eigendecomposition, Cholesky or LU, see detail/cvode_linear_solvers.hpp), BDF with matrix-free Newton-Krylov
// (PCG or GMRES on -Hessian-vector products: the Jacobian of a gradient flow is symmetric; their
// iteration budgets and tolerance are in detail/cvode_linear_solvers.hpp), and Adams with fixed-point
// iteration.
//
// The call order follows CVODE's examples: context, vector, CVodeCreate, CVodeInit, tolerances, linear
// or nonlinear solver, Jacobian, root function, then a loop of CVode in one-step mode, statistics, and
// frees in reverse. Every call is checked; a failing call becomes Status::backend_error naming the
// function and the flag. Callbacks catch every exception and return a SUNDIALS error code; a non-finite
// gradient (an entry, or its norm) is a recoverable failure (CVODE retries with a smaller step).
// Events (the tolerance stop among them) are located like every back end's (detail/step_processor.hpp),
// on CVODE's own interpolant (CVodeGetDky); the dense output is cubic Hermite. What differs between
// SUNDIALS 6 and 7 is in detail/sundials_compat.hpp.
#include <gradflow/core/callback_error.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/flow/detail/auto_switch.hpp>
#include <gradflow/flow/detail/cvode_linear_solvers.hpp>
#include <gradflow/flow/detail/run_state.hpp>
#include <gradflow/flow/detail/step_processor.hpp>
#include <gradflow/flow/detail/sundials_compat.hpp>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace gradflow::detail {
namespace {

using ConstMap = Eigen::Map<const Vector>;
using MutableMap = Eigen::Map<Vector>;

struct CallbackData {
  RunState* run = nullptr;
  Eigen::Index p = 0;
  bool non_finite = false;     // a callback saw a NaN or Inf
  std::string error;           // the last message from CVODE's error handler
  std::string callback_error;  // the first exception caught in a callback (kept for the final message)
  bool aborted = false;        // a callback threw CallbackError: the run ends with Status::callback_error
  std::string abort_message;   // its what()
  sundials::ErrorForwarder forwarder;
};

ConstMap view(N_Vector v, Eigen::Index p) { return ConstMap(N_VGetArrayPointer(v), p); }
MutableMap mutable_view(N_Vector v, Eigen::Index p) { return MutableMap(N_VGetArrayPointer(v), p); }

int field_rhs(sunrealtype, N_Vector y, N_Vector ydot, void* user_data) {
  auto* data = static_cast<CallbackData*>(user_data);
  if (data->aborted) return -1;  // the objective refused once: it is not called again
  try {
    MutableMap velocity = mutable_view(ydot, data->p);
    if (!data->run->field.velocity(view(y, data->p), velocity)) {
      data->non_finite = true;
      return 1;  // recoverable: CVODE retries with a smaller step
    }
    return 0;
  } catch (const CallbackError& e) {
    if (!data->aborted) data->abort_message = e.what();
    data->aborted = true;
    return -1;
  } catch (const std::exception& e) {
    if (data->callback_error.empty()) data->callback_error = std::string("gradient evaluation threw: ") + e.what();
    return -1;
  }
}

int field_jacobian_times(N_Vector v, N_Vector jv, sunrealtype, N_Vector y, N_Vector, void* user_data, N_Vector) {
  auto* data = static_cast<CallbackData*>(user_data);
  if (data->aborted) return -1;
  try {
    MutableMap out = mutable_view(jv, data->p);
    data->run->field.jacobian_times(view(y, data->p), view(v, data->p), out);
    if (!out.allFinite()) {
      data->non_finite = true;
      return 1;
    }
    return 0;
  } catch (const CallbackError& e) {
    if (!data->aborted) data->abort_message = e.what();
    data->aborted = true;
    return -1;
  } catch (const std::exception& e) {
    if (data->callback_error.empty()) data->callback_error = std::string("Hessian-vector product threw: ") + e.what();
    return -1;
  }
}

void error_handler(const char* function, const char* message, void* user_data) {
  auto* data = static_cast<CallbackData*>(user_data);
  data->error = std::string(function) + ": " + message;
}

std::string flag_name(int flag) {
  char* name = CVodeGetReturnFlagName(flag);
  std::string text = name ? name : std::to_string(flag);
  std::free(name);
  return text;
}

// Owns the SUNDIALS objects and frees them in reverse order of creation.
struct CvodeSession {
  SUNContext context = nullptr;
  N_Vector y = nullptr;
  N_Vector probe = nullptr;
  void* memory = nullptr;
  SUNMatrix matrix = nullptr;
  SUNLinearSolver linear_solver = nullptr;
  SUNNonlinearSolver nonlinear_solver = nullptr;
  bool embedded_hessian = false;  // linear_solver is from make_embedded_hessian_solver

  CvodeSession() = default;
  CvodeSession(const CvodeSession&) = delete;
  CvodeSession& operator=(const CvodeSession&) = delete;
  ~CvodeSession() {
    if (memory) CVodeFree(&memory);
    if (nonlinear_solver) SUNNonlinSolFree(nonlinear_solver);
    if (linear_solver) SUNLinSolFree(linear_solver);
    if (matrix) SUNMatDestroy(matrix);
    if (probe) N_VDestroy(probe);
    if (y) N_VDestroy(y);
    if (context) SUNContext_Free(&context);
  }
};

// Records a failed SUNDIALS call; true when the call failed.
bool failed(RunState& run, const CallbackData& data, int flag, const char* function) {
  if (flag >= 0) return false;
  std::string message = std::string(function) + " returned " + flag_name(flag);
  if (!data.error.empty()) message += " (" + data.error + ")";
  run.finish(Status::backend_error, message);
  return true;
}

bool created(RunState& run, const void* object, const char* function) {
  if (object) return true;
  run.finish(Status::backend_error, std::string(function) + " failed to allocate");
  return false;
}

void read_stats(RunState& run, const CvodeSession& s) {
  long value = 0;
  if (CVodeGetNumSteps(s.memory, &value) == CV_SUCCESS) run.stats.num_steps = value;
  long error_fails = 0, convergence_fails = 0;
  CVodeGetNumErrTestFails(s.memory, &error_fails);
  CVodeGetNumNonlinSolvConvFails(s.memory, &convergence_fails);
  run.stats.num_rejected_steps = error_fails + convergence_fails;
  if (CVodeGetNumNonlinSolvIters(s.memory, &value) == CV_SUCCESS) run.stats.num_nonlinear_iters = value;
  if (s.linear_solver != nullptr) {
    if (CVodeGetNumLinIters(s.memory, &value) == CV_SUCCESS) run.stats.num_linear_iters = value;
    if (CVodeGetNumJacEvals(s.memory, &value) == CV_SUCCESS) run.stats.num_jacobian_evals = value;
    if (CVodeGetNumLinSolvSetups(s.memory, &value) == CV_SUCCESS) run.stats.num_linear_setups = value;
  }
  if (s.embedded_hessian) {
    // CVODE never sets up a matrix-embedded solver: it factors when it needs to, and counts that.
    run.stats.num_jacobian_evals = embedded_hessian_solver_evaluations(s.linear_solver);
    run.stats.num_linear_setups = embedded_hessian_solver_factorizations(s.linear_solver);
  }
}

// The solver of the implicit systems: for BDF a dense direct solver (the exact Hessian, or CVODE's
// difference quotient) or a matrix-free Krylov solver; for Adams fixed-point iteration.
bool attach_solver(CvodeSession& s, RunState& run, const CallbackData& data) {
  const FlowOptions& options = run.options;
  const Eigen::Index p = run.theta.size();
  const Objective& objective = run.field.objective();
  if (options.solver == Solver::cvode_bdf) {
    if (objective.has_hessian()) {
      // The exact Hessian: a matrix-embedded solver that evaluates and factors it itself.
      s.linear_solver = make_embedded_hessian_solver(s.memory, run.field, static_cast<long>(p),
                                                     objective.has_constant_hessian(), s.context);
      if (!created(run, s.linear_solver, "make_embedded_hessian_solver")) return false;
      if (failed(run, data, CVodeSetLinearSolver(s.memory, s.linear_solver, nullptr), "CVodeSetLinearSolver"))
        return false;
      s.embedded_hessian = true;
    } else {
      // CVODE's difference-quotient Jacobian in a dense matrix, factored by LU.
      s.matrix = SUNDenseMatrix(static_cast<sunindextype>(p), static_cast<sunindextype>(p), s.context);
      if (!created(run, s.matrix, "SUNDenseMatrix")) return false;
      s.linear_solver = make_dense_lu_solver(static_cast<long>(p), s.context);
      if (!created(run, s.linear_solver, "make_dense_lu_solver")) return false;
      if (failed(run, data, CVodeSetLinearSolver(s.memory, s.linear_solver, s.matrix), "CVodeSetLinearSolver"))
        return false;
    }
  } else if (options.solver == Solver::cvode_bdf_krylov) {
    // PCG or GMRES with iteration budgets that let a stiff flow's solves converge, and a tighter linear
    // tolerance than CVODE's default (detail/cvode_linear_solvers.hpp, core/tolerances.hpp).
    s.linear_solver = make_krylov_solver(s.y, options.krylov, static_cast<long>(p), s.context);
    if (!created(run, s.linear_solver, "make_krylov_solver")) return false;
    if (failed(run, data, CVodeSetLinearSolver(s.memory, s.linear_solver, nullptr), "CVodeSetLinearSolver"))
      return false;
    if (failed(run, data, set_krylov_tolerance(s.memory), "CVodeSetEpsLin")) return false;
    if (failed(run, data, CVodeSetJacTimes(s.memory, nullptr, field_jacobian_times), "CVodeSetJacTimes")) return false;
  } else {
    s.nonlinear_solver = SUNNonlinSol_FixedPoint(s.y, 0, s.context);
    if (!created(run, s.nonlinear_solver, "SUNNonlinSol_FixedPoint")) return false;
    if (failed(run, data, CVodeSetNonlinearSolver(s.memory, s.nonlinear_solver), "CVodeSetNonlinearSolver"))
      return false;
  }
  return true;
}

// CVODE's call order up to the first step. False when a call failed (run.status is then set).
bool setup(CvodeSession& s, RunState& run, CallbackData& data) {
  const FlowOptions& options = run.options;
  const Eigen::Index p = run.theta.size();
  if (failed(run, data, sundials::create_context(&s.context), "SUNContext_Create")) return false;
  s.y = N_VNew_Serial(static_cast<sunindextype>(p), s.context);
  if (!created(run, s.y, "N_VNew_Serial")) return false;
  s.probe = N_VClone(s.y);
  if (!created(run, s.probe, "N_VClone")) return false;
  mutable_view(s.y, p) = run.theta;

  const bool bdf = options.solver != Solver::cvode_adams;
  s.memory = CVodeCreate(bdf ? CV_BDF : CV_ADAMS, s.context);
  if (!created(run, s.memory, "CVodeCreate")) return false;
  data.forwarder = sundials::ErrorForwarder{error_handler, &data};
  if (failed(run, data, sundials::set_error_handler(s.memory, s.context, data.forwarder),
             sundials::kErrorHandlerSetter))
    return false;
  // From the run's current time: 0, or where solver auto handed over.
  if (failed(run, data, CVodeInit(s.memory, field_rhs, run.t, s.y), "CVodeInit")) return false;
  if (failed(run, data, CVodeSStolerances(s.memory, options.rtol, options.atol), "CVodeSStolerances")) return false;
  if (failed(run, data, CVodeSetUserData(s.memory, &data), "CVodeSetUserData")) return false;
  if (failed(run, data, CVodeSetStopTime(s.memory, options.t_end), "CVodeSetStopTime")) return false;
  if (std::isfinite(options.max_step) &&
      failed(run, data, CVodeSetMaxStep(s.memory, options.max_step), "CVodeSetMaxStep"))
    return false;
  if (options.first_step && failed(run, data, CVodeSetInitStep(s.memory, *options.first_step), "CVodeSetInitStep"))
    return false;
  return attach_solver(s, run, data);
}

// Progress guard: CVODE keeps accepting steps of size t * eps (with only a warning) when the flow
// runs into a region it cannot enter, such as one where the gradient is not finite.
struct StallGuard {
  long stalled_steps = 0;
  long non_finite_before = 0;  // the field's count of non-finite gradients before the loop
};

// The outcome of one call of CVode that returned flag and reached t_new: true when it failed, or
// when the steps have stalled (run.status is then set).
bool step_failed(RunState& run, const CallbackData& data, int flag, double t_new, StallGuard& stall) {
  if (data.aborted) {
    run.finish(Status::callback_error, data.abort_message);
    return true;
  }
  if (flag < 0) {
    std::string message = "CVode returned " + flag_name(flag) + " at t = " + std::to_string(run.t);
    if (!data.error.empty()) message += ": " + data.error;
    if (!data.callback_error.empty()) message += " (" + data.callback_error + ")";
    run.finish(data.non_finite ? Status::non_finite_value : Status::backend_error, message);
    return true;
  }
  stall.stalled_steps =
      (t_new - run.t <= tolerances::kStallUlps * tolerances::kEps * std::abs(t_new)) ? stall.stalled_steps + 1 : 0;
  if (stall.stalled_steps >= tolerances::kMaxStalledSteps) {
    const bool non_finite = run.field.num_non_finite() > stall.non_finite_before;
    std::string message = "CVODE's step size fell to roundoff (t + h == t, CV_WARNING) at t = " + std::to_string(run.t);
    if (!data.callback_error.empty()) {
      run.finish(Status::backend_error, message + " after a failed callback: " + data.callback_error);
    } else {
      run.finish(non_finite ? Status::non_finite_value : Status::step_size_too_small,
                 message + (non_finite ? " after non-finite gradients ahead" : ""));
    }
    return true;
  }
  return false;
}

// What the step loop leaves for finish. When finish_step does not need every end point, the loop
// does not evaluate them (only the scheduled rows cost evaluations): run.loss and run.grad then
// still belong to an earlier point, and the point before the last step is kept to go back to.
struct LastStep {
  bool evaluated = true;  // run.loss and run.grad belong to run.theta
  Vector previous_theta;
  double previous_t = 0.0;
};

// CVODE in one-step mode until t_end, the step budget, a failure or a stop. Every accepted step goes
// through finish_step.
LastStep step_loop(CvodeSession& s, RunState& run, CallbackData& data) {
  const FlowOptions& options = run.options;
  const Eigen::Index p = run.theta.size();
  LastStep last;
  const bool evaluate_end_points = needs_every_end_point(run);
  StepScratch scratch(p);
  Vector x_new(p), g_new(p), theta_before(p);
  const auto state_at = [&](double t, Vector& out) {
    const int flag = CVodeGetDky(s.memory, t, 0, s.probe);
    if (flag < 0) throw std::runtime_error("CVodeGetDky returned " + flag_name(flag));
    out = view(s.probe, p);
  };

  StallGuard stall{0, run.field.num_non_finite()};

  try {
    while (true) {
      read_stats(run, s);
      if (run.t >= options.t_end) {
        run.finish(Status::reached_end_time, "reached t_end");
        break;
      }
      if (run.stats.num_steps >= max_steps(options.stop, RunKind::flow)) {
        run.finish(Status::max_steps, "max_steps = " + std::to_string(max_steps(options.stop, RunKind::flow)) +
                                          " steps reached before t_end");
        break;
      }
      data.non_finite = false;
      data.error.clear();
      sunrealtype t_reached = run.t;
      const int flag = CVode(s.memory, options.t_end, s.y, &t_reached, CV_ONE_STEP);
      const double t_new = flag == CV_TSTOP_RETURN ? options.t_end : t_reached;
      if (step_failed(run, data, flag, t_new, stall)) break;
      x_new = view(s.y, p);
      std::optional<double> loss_new;
      if (evaluate_end_points) {
        loss_new = run.field.loss_and_gradient(x_new, g_new);
        if (!finite_loss_and_gradient(*loss_new, g_new)) {
          // BDF accepts a step without evaluating the field at its end; this end is not usable.
          run.finish(Status::non_finite_value,
                     "CVODE accepted a step to t = " + std::to_string(t_new) +
                         " where the loss, gradient or gradient norm is not finite; the result is the state before it");
          break;
        }
      } else {
        theta_before = run.theta;
      }
      const double t_before = run.t;
      const bool stop = finish_step(run, t_new, x_new, loss_new, g_new, state_at, scratch);
      if (!loss_new) {
        last.previous_theta.swap(theta_before);
        last.previous_t = t_before;
        last.evaluated = false;
      }
      if (stop) break;
      run.last_step = t_new - t_before;
      if (run.auto_switch != nullptr && run.t < options.t_end && run.auto_switch->calm_after(run, t_new - t_before)) {
        run.switch_requested = true;  // solver auto hands back to dopri5 from this point
        break;
      }
    }
  } catch (const CallbackError& e) {  // from an event function or the observer, or an evaluation of ours
    run.finish(Status::callback_error, e.what());
  } catch (const std::exception& e) {
    run.finish(Status::backend_error, e.what());
  }
  return last;
}

// The final counters, and the loss and gradient at the last point when the loop did not evaluate it.
void finish(const CvodeSession& s, RunState& run, const LastStep& last) {
  read_stats(run, s);
  if (last.evaluated) return;
  if (run.status == Status::callback_error) {
    // The objective refused: the last state stands without its loss and gradient (no final row).
    run.loss = std::numeric_limits<double>::quiet_NaN();
    run.grad.setConstant(std::numeric_limits<double>::quiet_NaN());
    return;
  }
  run.loss = run.field.loss_and_gradient(run.theta, run.grad);
  if (!finite_loss_and_gradient(run.loss, run.grad) && run.status != Status::reached_end_time) {
    // The last accepted step ended where the field is not finite: go back one step.
    run.path_length -= (run.theta - last.previous_theta).norm();
    run.theta = last.previous_theta;
    run.t = last.previous_t;
    run.loss = run.field.loss_and_gradient(run.theta, run.grad);
  }
}

}  // namespace

void run_cvode(RunState& run) {
  CallbackData data;
  data.run = &run;
  data.p = run.theta.size();
  CvodeSession session;
  if (!setup(session, run, data)) return;
  const LastStep last = step_loop(session, run, data);
  finish(session, run, last);
}

}  // namespace gradflow::detail
