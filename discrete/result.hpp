// The outcome of a gradient-descent run: status, final iterate, recorded rows, the rule's guarantee
// and the verdicts on it, and the work counters.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/discrete/row.hpp>
#include <gradflow/discrete/step_rule.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

struct DescentResult {
  Status status = Status::not_run;
  std::string message;
  DescentOptions options;
  std::string rule;  // the step rule's name: a built-in one (options.step), or a custom rule's name()
  std::string problem;
  Vector theta;  // final iterate; the last finite one after a divergence
  long iterations = 0;
  double t_final = 0.0;
  double loss0 = std::numeric_limits<double>::quiet_NaN();
  double loss_final = std::numeric_limits<double>::quiet_NaN();
  double grad_norm_final = std::numeric_limits<double>::quiet_NaN();
  double dist_from_init = 0.0;
  double path_length = 0.0;         // sum of ||theta_{k+1} - theta_k||
  std::optional<double> min_value;  // L_min (KnownFacts::min_value); without it no bound, no Polyak step
  StepFacts facts;                  // mu, beta (exact or estimated) used by the guarantee
  std::optional<double> step_size;  // the rule's step where it is one number (fixed, 1/beta)
  std::optional<double> gamma;      // the Polyak gamma used
  RateGuarantee guarantee;
  // L_k - L_min <= q^k (L0 - L_min) + 64 eps L0 at every iteration (docs/theory.md §2.7); empty without
  // q, and when the run made no iteration (nothing was checked).
  std::optional<bool> bound_holds;
  std::optional<long> first_bound_violation_iter;
  std::optional<bool> radius_holds;  // path length <= radius at every iteration (empty: no radius, or no iteration)
  std::optional<long> first_radius_violation_iter;
  // The recorded rows: k = 0, every save_every iterations, the last; with options.keep_rows = false
  // only the first and the last.
  std::vector<DescentRow> rows;
  Matrix states;  // with options.record_states: p x rows.size(), states.col(i) = theta at rows[i]
  std::vector<DescentEventHit> event_hits;  // sign changes of options.events, in order
  Stats stats;                              // num_steps = iterations, gradient and loss evaluations, wall time

  bool succeeded() const { return gradflow::succeeded(status); }
  // One line: status, step rule, iterations, loss, evaluations.
  std::string brief_report() const;
  // A few lines: the above plus the constants, the guarantee with its bound and radius verdicts, and
  // every counter descent fills in (iterations, gradient, loss and Hessian-vector evaluations, wall time).
  std::string full_report() const;
};

}  // namespace gradflow
