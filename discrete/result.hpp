/// @file
/// The outcome of a gradient-descent run: status, final iterate, recorded rows, the rule's guarantee
/// and the verdicts on it, and the work counters.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/stats.hpp>
#include <gradflow/core/status.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/discrete/step_rule.hpp>
#include <gradflow/flow/trajectory.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// The shared part (status, message, problem, theta, t_final, the losses, travel, min_value, the
/// verdicts, rows, states, event_hits, stats) is TrajectoryResult's (flow/trajectory.hpp). theta is the
/// final iterate (the last finite one after a divergence); stats.num_steps = iterations.
struct DescentResult : TrajectoryResult {
  DescentOptions options{};  ///< the options used
  std::string rule{};        ///< the step rule's name: a built-in one (options.step), or a custom rule's name()
  long iterations = 0;       ///< the iterations made
  StepFacts facts{};         ///< mu, beta (exact or estimated) used by the guarantee
  std::optional<double> step_size{};  ///< the rule's step where it is one number (fixed, 1/beta)
  std::optional<double> gamma{};      ///< the Polyak gamma used
  RateGuarantee guarantee{};          ///< the rule's guarantee under facts: q, radius and its note
  /// bound_holds: L_k - L_min <= q^k (L0 - L_min) + 64 eps L0 at every iteration (docs/theory.md §2.7);
  /// empty without q, and when the run made no iteration (nothing was checked). radius_holds: the path
  /// length <= the guarantee's radius at every iteration (empty: no radius, or no iteration).
  std::optional<long> first_bound_violation_iter{};
  /// The first iteration whose path length exceeded the guarantee's radius (beyond round-off); empty when
  /// none did.
  std::optional<long> first_radius_violation_iter{};

  /// The shared fields (TrajectoryResult::common_summary) and descent's: step (the rule's name), lr,
  /// step_size, gamma, armijo_b and armijo_c (armijo), iterations, mu, beta, guarantee_is_estimate, q, radius
  /// (the guarantee's), guarantee (its note), first_bound_violation_iter, first_radius_violation_iter.
  NamedValues summary() const;
  /// One line: status, step rule, iterations, loss, evaluations.
  std::string brief_report() const;
  /// A few lines: the above plus the constants, the guarantee with its bound and radius verdicts, and
  /// every counter descent fills in (iterations, gradient, loss and Hessian-vector evaluations, wall time).
  std::string full_report() const;
};

}  // namespace gradflow
