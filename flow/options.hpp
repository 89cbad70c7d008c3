// Options of a gradient-flow run: which solver, how long, how accurately, what to record and when to
// stop. A plain struct with defaults; validate() names the field, the value and the constraint. The
// command line maps its flags one-to-one onto these fields (rtol <-> --rtol, t_end <-> --t-end).
#pragma once

#include <gradflow/core/option_error.hpp>
#include <gradflow/flow/row.hpp>
#include <gradflow/theory/observables.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

enum class Solver {
  dopri5,            // odeint Dormand-Prince 5(4), adaptive, dense output (FSAL)
  cash_karp54,       // odeint Cash-Karp 5(4), adaptive
  fehlberg78,        // odeint Runge-Kutta-Fehlberg 7(8), adaptive
  bulirsch_stoer,    // odeint Bulirsch-Stoer extrapolation, adaptive order and step
  euler,             // odeint explicit Euler, fixed step dt (gradient descent with step dt)
  rk4,               // odeint classical Runge-Kutta 4, fixed step dt
  cvode_bdf,         // CVODE BDF, Newton with a dense direct solver and Jacobian -Hessian
  cvode_bdf_krylov,  // CVODE BDF, Newton-Krylov (PCG or GMRES) with -Hessian-vector products
  cvode_adams,       // CVODE Adams-Moulton, fixed-point iteration (non-stiff)
};

std::string_view to_string(Solver solver);
std::optional<Solver> solver_from_string(std::string_view name);  // the names above, '_' written '-'
const std::vector<std::string>& solver_names();
bool is_fixed_step(Solver solver);
bool is_cvode(Solver solver);

enum class KrylovMethod { gmres, pcg };
std::string_view to_string(KrylovMethod method);
std::optional<KrylovMethod> krylov_from_string(std::string_view name);

struct FlowOptions {
  Solver solver = Solver::dopri5;
  double t_end = 10.0;                        // final time; finite, > 0
  double rtol = 1e-8;                         // relative tolerance of adaptive solvers; in (0, 1)
  double atol = 1e-10;                        // absolute tolerance of adaptive solvers; finite, > 0
  double dt = 1e-2;                           // step of the fixed-step solvers (euler, rk4); finite, > 0
  std::vector<double> times;                  // record rows at these times: strictly increasing, in (0, t_end]
  double save_every = 0.0;                    // record rows every save_every; 0 = at every accepted step;
                                              // finite, >= 0, not together with times, at most 1e7 rows
  double loss_tol = 0.0;                      // stop once loss <= loss_tol; 0 = not checked; >= 0
  double grad_tol = 0.0;                      // stop once ||grad L|| <= grad_tol; 0 = not checked; >= 0
                                              // (with both set, the stop needs both)
  long max_steps = 1000000;                   // budget of accepted steps; >= 1
  std::optional<double> mu;                   // PL constant for the bound; empty = the problem's exact one; > 0
  std::optional<double> radius;               // containment to check: ||theta(t) - theta0|| <= radius (a certified
                                              // travel bound); empty = not checked; > 0
  KrylovMethod krylov = KrylovMethod::gmres;  // linear solver of cvode-bdf-krylov

  // What to watch at every recorded row (theory/observables.hpp): the NTK's extreme eigenvalues, the
  // sharpness, the condition; in FlowRow::observed, their work in Stats::num_observe_*. The ntk needs a
  // squared loss (as_residual()), the sharpness exact Hessian-vector products (else invalid_options).
  Observables observe;

  // What to keep and whom to tell.
  bool record_states = false;     // FlowResult::states: theta at every recorded row (one column per row)
  bool dense_output = false;      // keep each accepted step's interpolant: FlowResult::at(t) (flow/dense_output.hpp)
  std::vector<FlowEvent> events;  // located events (flow/row.hpp); each needs a name and g, direction in {-1, 0, 1}
  FlowRowSink row_sink;           // called for every recorded row, in order, with the state there
  bool keep_rows = true;          // false: FlowResult::rows (and states) keep only the first and the last row,
                                  // so that a long run streamed through row_sink uses bounded memory

  std::optional<OptionError> validate() const;
};

}  // namespace gradflow
