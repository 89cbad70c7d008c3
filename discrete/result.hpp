// The outcome of a gradient-descent run: status, final iterate, recorded rows, the rule's guarantee
// and the verdicts on it, and the work counters.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/discrete/step_rule.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

struct DescentRow {
  long iter = 0;                // k
  double t = 0.0;               // eta_0 + ... + eta_{k-1}: the time axis shared with the flow
  double loss = 0.0;            // L(theta_k)
  double grad_norm = 0.0;       // ||grad L(theta_k)||
  double dist_from_init = 0.0;  // ||theta_k - theta0||
  double step_size = 0.0;       // eta_{k-1}, the step that produced theta_k (0 for k = 0)
  double bound = 0.0;           // L_min + q^k (L0 - L_min); NaN without a guarantee
};

// Called after every iteration with its row; returning true stops the run (stopped_by_observer).
using DescentObserver = std::function<bool(const DescentRow&)>;

struct DescentResult {
  Status status = Status::not_run;
  std::string message;
  DescentOptions options;
  std::string problem;
  Vector theta;  // final iterate; the last finite one after a divergence
  long iterations = 0;
  double t_final = 0.0;
  double loss0 = std::numeric_limits<double>::quiet_NaN();
  double loss_final = std::numeric_limits<double>::quiet_NaN();
  double grad_norm_final = std::numeric_limits<double>::quiet_NaN();
  double dist_from_init = 0.0;
  double path_length = 0.0;  // sum of ||theta_{k+1} - theta_k||
  double min_value = 0.0;
  StepFacts facts;                  // mu, beta (exact or estimated) used by the guarantee
  std::optional<double> step_size;  // the rule's step where it is one number (fixed, 1/beta)
  std::optional<double> gamma;      // the Polyak gamma used
  RateGuarantee guarantee;
  std::optional<bool> bound_holds;  // L_k - L_min <= q^k (L0 - L_min) at every iteration (empty: no q)
  std::optional<long> first_bound_violation_iter;
  std::optional<bool> radius_holds;  // path length <= radius at every iteration (empty: no radius)
  std::optional<long> first_radius_violation_iter;
  std::vector<DescentRow> rows;
  Stats stats;  // num_steps = iterations, gradient and loss evaluations, wall time

  bool succeeded() const { return gradflow::succeeded(status); }
  // One line: status, step rule, iterations, loss, evaluations.
  std::string brief_report() const;
  // A few lines: the above plus the constants, the guarantee with its bound and radius verdicts, and
  // every counter descent fills in (iterations, gradient, loss and Hessian-vector evaluations, wall time).
  std::string full_report() const;
};

}  // namespace gradflow
