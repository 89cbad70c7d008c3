// The outcome of a gradient-flow run: status, final state, recorded rows (and, on request, the states
// at them and the interpolant), the located events, the rate-bound verdict and the work counters.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/flow/dense_output.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/row.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

struct FlowResult {
  Status status = Status::not_run;
  std::string message;  // why the run ended, with the back end's flag name on failure
  FlowOptions options;  // the options used
  std::string problem;  // the problem's name
  Vector theta;         // final state; the last good state when the run failed
  double t_final = 0.0;
  double loss0 = std::numeric_limits<double>::quiet_NaN();
  double loss_final = std::numeric_limits<double>::quiet_NaN();
  double grad_norm_final = std::numeric_limits<double>::quiet_NaN();
  double dist_from_init = 0.0;      // ||theta(t_final) - theta0||
  double path_length = 0.0;         // sum of ||theta_{k+1} - theta_k|| over accepted steps (<= arc length)
  std::optional<double> min_value;  // L_min used by the bound and the PL ratio (KnownFacts::min_value)
  std::optional<double> mu;         // PL constant of the bound (the problem's exact one, or options.mu)
  // Whether L(t) - L_min <= (L0 - L_min) exp(-2 mu t) within the solver's tolerance at every checked
  // point (every row, and every accepted step where the loss there costs no extra evaluation):
  // L - L_min <= (bound - L_min) (1 + 10 rtol) + 16 eps L0 (docs/theory.md §1.2). Empty when mu or
  // L_min is unknown, and when the run did not advance (t_final = 0 without an accepted step: nothing
  // was checked).
  std::optional<bool> bound_holds;
  std::optional<double> first_bound_violation_t;
  // With options.radius: whether ||theta(t) - theta0|| <= radius at every checked point (empty, as
  // bound_holds, when the run did not advance).
  std::optional<bool> radius_holds;
  std::optional<double> first_radius_violation_t;
  // The recorded rows: t = 0, the scheduled times (or every accepted step), the final point. With
  // options.keep_rows = false only the first and the last.
  std::vector<FlowRow> rows;
  // With options.record_states: p x rows.size(), states.col(i) = theta at rows[i].t.
  Matrix states;
  // Located crossings of options.events and of the tolerance stop, in time order.
  std::vector<EventHit> event_hits;
  // With options.dense_output: the trajectory's interpolant on [0, t_final] (flow/dense_output.hpp).
  DenseOutput dense;
  // An explicit method held at its stability limit, with the evaluations a stiff method would need;
  // empty otherwise (also appended to message).
  std::string stiffness_hint;
  Stats stats;

  bool succeeded() const { return gradflow::succeeded(status); }
  // theta(t) for t in [0, t_final] from the dense output; throws std::out_of_range (naming t and the
  // interval) outside it, std::logic_error without options.dense_output.
  Vector at(double t) const;
  // One line: status, solver, t_final, loss, steps, evaluations.
  std::string brief_report() const;
  // A few lines: the above plus the bound verdict and every counter.
  std::string full_report() const;
};

}  // namespace gradflow
