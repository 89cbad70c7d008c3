// The outcome of a gradient-flow run: status, final state, recorded rows, the rate-bound verdict and
// the work counters.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/flow/options.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

// One recorded point of the trajectory.
struct FlowRow {
  double t = 0.0;               // flow time
  double loss = 0.0;            // L(theta(t))
  double grad_norm = 0.0;       // ||grad L(theta(t))||
  double dist_from_init = 0.0;  // ||theta(t) - theta0||
  double pl_ratio = 0.0;        // ||grad L||^2 / (2 (L - L_min)); NaN where L = L_min
  double bound = 0.0;           // L_min + (L0 - L_min) exp(-2 mu t); NaN when mu is unknown
};

// Called after every accepted step with the row at the step's end; returning true stops the run
// (Status::stopped_by_observer).
using FlowObserver = std::function<bool(const FlowRow&)>;

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
  double dist_from_init = 0.0;  // ||theta(t_final) - theta0||
  double path_length = 0.0;     // sum of ||theta_{k+1} - theta_k|| over accepted steps (<= arc length)
  double min_value = 0.0;       // L_min used by the bound and the PL ratio
  std::optional<double> mu;     // PL constant of the bound (the problem's exact one, or options.mu)
  // Whether L(t) - L_min <= (L0 - L_min) exp(-2 mu t) within the solver's tolerance at every checked
  // point (every row, and every accepted step where the loss there costs no extra evaluation);
  // empty when mu is unknown.
  std::optional<bool> bound_holds;
  std::optional<double> first_bound_violation_t;
  // With options.radius: whether ||theta(t) - theta0|| <= radius at every checked point.
  std::optional<bool> radius_holds;
  std::optional<double> first_radius_violation_t;
  std::vector<FlowRow> rows;
  Stats stats;

  bool succeeded() const { return gradflow::succeeded(status); }
  // One line: status, solver, t_final, loss, steps, evaluations.
  std::string brief_report() const;
  // A few lines: the above plus the bound verdict and every counter.
  std::string full_report() const;
};

}  // namespace gradflow
