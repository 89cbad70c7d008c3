/// @file
/// Exact binomial confidence intervals (Clopper & Pearson 1934): for K successes in N trials, the
/// two-sided level 1 - alpha interval [Beta^-1(alpha/2; K, N - K + 1), Beta^-1(1 - alpha/2; K + 1, N - K)],
/// with lower = 0 when K = 0 and upper = 1 when K = N (docs/theory.md §6.2).
#pragma once

namespace gradflow {

/// A confidence interval for a probability, within [0, 1].
struct Interval {
  double lower = 0.0;  ///< lower end: 0 when K = 0
  double upper = 1.0;  ///< upper end: 1 when K = N
};

/// k <= n, n >= 1, alpha in (0, 1); throws std::invalid_argument otherwise.
Interval clopper_pearson(long k, long n, double alpha);

}  // namespace gradflow
