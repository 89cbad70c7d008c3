/// @file
/// Options of a gradient-flow run: which solver, how long, how accurately, what to record and when to
/// stop. A plain struct with defaults; validate() names the field, the value and the constraint. The
/// command line maps its flags one-to-one onto these fields (rtol <-> --rtol, t_end <-> --t-end).
#pragma once

#include <gradflow/core/option_error.hpp>
#include <gradflow/flow/trajectory.hpp>
#include <gradflow/theory/observables.hpp>

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// The integration method of a flow run (FlowOptions::solver); solver_from_string() reads the names of
/// the command line's --solver.
enum class Solver {
  dopri5,            ///< odeint Dormand-Prince 5(4), adaptive, dense output (FSAL)
  cash_karp54,       ///< odeint Cash-Karp 5(4), adaptive
  fehlberg78,        ///< odeint Runge-Kutta-Fehlberg 7(8), adaptive
  bulirsch_stoer,    ///< odeint Bulirsch-Stoer extrapolation, adaptive order and step
  euler,             ///< odeint explicit Euler, fixed step dt (gradient descent with step dt)
  rk4,               ///< odeint classical Runge-Kutta 4, fixed step dt
  cvode_bdf,         ///< CVODE BDF, Newton with a dense direct solver and Jacobian -Hessian
  cvode_bdf_krylov,  ///< CVODE BDF, Newton-Krylov (PCG or GMRES) with -Hessian-vector products
  cvode_adams,       ///< CVODE Adams-Moulton, fixed-point iteration (non-stiff)
  automatic,         ///< "auto": dopri5, switching to BDF while the problem is stiff and back (docs/theory.md §1.6)
};

/// A hand-over of solver auto (FlowResult::solver_switches): at time t, from one method to the other.
struct SolverSwitch {
  double t = 0.0;                ///< flow time of the hand-over
  Solver from = Solver::dopri5;  ///< the method used before t (dopri5 or the BDF method)
  Solver to = Solver::dopri5;    ///< the method used from t on
  std::string reason{};          ///< why: the stiffness measure that decided, with its numbers
};

/// The solver's name on the command line and in reports: "dopri5", "cash-karp54", ..., "auto".
std::string_view to_string(Solver solver);
std::optional<Solver> solver_from_string(std::string_view name);  ///< the names above, '_' written '-'
/// Every solver's name (to_string()), in the order of the enumeration.
const std::vector<std::string>& solver_names();
/// True for the fixed-step solvers, euler and rk4 (they use FlowOptions::dt).
bool is_fixed_step(Solver solver);
/// True for the SUNDIALS CVODE solvers: cvode-bdf, cvode-bdf-krylov and cvode-adams.
bool is_cvode(Solver solver);

/// The Krylov linear solver of cvode-bdf-krylov (FlowOptions::krylov).
enum class KrylovMethod {
  gmres,  ///< SUNDIALS SPGMR, restarted GMRES without preconditioner (the default)
  pcg     ///< SUNDIALS PCG, conjugate gradients without preconditioner: needs I + gamma H positive definite
};
/// "gmres" or "pcg".
std::string_view to_string(KrylovMethod method);
/// The method named "gmres" or "pcg"; empty for any other name.
std::optional<KrylovMethod> krylov_from_string(std::string_view name);

/// The options of simulate_flow() (flow/simulate_flow.hpp); the defaults are those of `gradflow flow`.
struct FlowOptions {
  Solver solver = Solver::dopri5;             ///< the integration method
  double t_end = 10.0;                        ///< final time; finite, > 0
  double rtol = 1e-8;                         ///< relative tolerance of adaptive solvers; in (0, 1)
  double atol = 1e-10;                        ///< absolute tolerance of adaptive solvers; in (0, 1)
  double dt = 1e-2;                           ///< step of the fixed-step solvers (euler, rk4); finite, > 0
  KrylovMethod krylov = KrylovMethod::gmres;  ///< linear solver of cvode-bdf-krylov
  /// Adaptive solvers (not euler, rk4): the largest step (> 0; infinity: no limit) and the first trial
  /// step (empty: chosen by the solver; > 0 and <= t_end), as SciPy's solve_ivp max_step and first_step.
  double max_step = std::numeric_limits<double>::infinity();
  std::optional<double> first_step{};  ///< the first trial step; empty = chosen by the solver (see above)
  std::optional<double> mu{};          ///< PL constant for the bound; empty = the problem's exact one; > 0
  std::optional<double> radius{};      ///< containment to check: ||theta(t) - theta0|| <= radius (a certified
                                       ///< travel bound); empty = not checked; > 0

  Stop stop{};    ///< tolerances, the budget of accepted steps (default 1e6), wall time (flow/trajectory.hpp)
  SaveAt save{};  ///< rows: at save.times, every save.every_t, or every save.every_steps accepted steps
                  ///< (default: every step); states, dense output, the row sink
  /// What to watch at every recorded row (theory/observables.hpp): the NTK's extreme eigenvalues, the
  /// sharpness, the condition; in Row::observed, their work in Stats::num_observe_*. The ntk needs a
  /// squared loss (as_residual()), the sharpness exact Hessian-vector products (else invalid_options).
  Observables observe{};
  std::vector<Event> events{};  ///< located events (flow/trajectory.hpp)

  /// The first invalid field ("t_end", "stop.loss_tol", "save.times", "events[0].name", ...).
  std::optional<OptionError> validate() const;
};

}  // namespace gradflow
