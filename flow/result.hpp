/// @file
/// The outcome of a gradient-flow run: status, final state, recorded rows (and, on request, the states
/// at them and the interpolant), the located events, the rate-bound verdict and the work counters.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/flow/dense_output.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/trajectory.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// The shared part (status, message, problem, theta, t_final, the losses, travel, min_value, the
/// verdicts, rows, states, event_hits, stats) is TrajectoryResult's (flow/trajectory.hpp).
struct FlowResult : TrajectoryResult {
  FlowOptions options{};       ///< the options used
  std::optional<double> mu{};  ///< PL constant of the bound (the problem's exact one, or options.mu)
  /// bound_holds: whether L(t) - L_min <= (L0 - L_min) exp(-2 mu t) within the solver's tolerance at
  /// every checked point (every row, and every accepted step where the loss there costs no extra
  /// evaluation): L - L_min <= (bound - L_min) (1 + 10 rtol) + 16 eps L0 (docs/theory.md §1.2). Empty
  /// when mu or L_min is unknown, and when the run did not advance (t_final = 0 without an accepted
  /// step: nothing was checked). radius_holds: with options.radius, whether ||theta(t) - theta0|| <=
  /// radius at every checked point.
  std::optional<double> first_bound_violation_t{};
  /// The first checked t where ||theta(t) - theta0|| exceeded options.radius beyond the solver's tolerance;
  /// empty when it never did or without a radius.
  std::optional<double> first_radius_violation_t{};
  /// With options.save.dense: the trajectory's interpolant on [0, t_final] (flow/dense_output.hpp).
  DenseOutput dense{};
  /// An explicit method held at its stability limit, with the evaluations a stiff method would need;
  /// empty otherwise (also appended to message).
  std::string stiffness_hint{};
  /// An explicit solver's run whose steps broke the dissipation identity L(a) - L(b) = integral of
  /// ||grad L||^2 (docs/theory.md §1.5): where the run left the flow, and why; empty otherwise (also
  /// appended to message). The status is unchanged: the end point is the solver's, not the flow's.
  std::string flow_departure{};
  /// solver auto: every hand-over between dopri5 and BDF, in order (Stats::num_solver_switches counts them).
  std::vector<SolverSwitch> solver_switches{};

  /// theta(t) for t in [0, t_final] from the dense output; throws std::out_of_range (naming t and the
  /// interval) outside it, std::logic_error without options.save.dense.
  Vector at(double t) const;
  /// The shared fields (TrajectoryResult::common_summary) and the flow's: solver, t_end, rtol, atol, dt
  /// (fixed-step solvers), krylov (cvode-bdf-krylov), mu, first_bound_violation_t, radius,
  /// first_radius_violation_t, stiffness_hint, flow_departure.
  NamedValues summary() const;
  /// One line: status, solver, t_final, loss, steps, evaluations.
  std::string brief_report() const;
  /// A few lines: the above plus the bound verdict and every counter.
  std::string full_report() const;
};

}  // namespace gradflow
