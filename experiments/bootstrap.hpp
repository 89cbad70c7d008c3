/// @file
/// The seeded percentile bootstrap of a ratio of medians (docs/theory.md §6.4): how much more work
/// scheme A needs than scheme B, median(A) / median(B), with a confidence interval.
///
/// Each of the `resamples` rounds draws |A| values from A and |B| values from B with replacement
/// (indices floor(u n) from gradflow::Random's uniform doubles, one generator seeded with `seed`, A's
/// draws then B's in each round) and takes the ratio of the two medians (linear-interpolation median,
/// sweep_summary.hpp's quantile). The interval is the (1 - level)/2 and (1 + level)/2 quantiles of the
/// rounds' ratios. A run that did not converge counts as +inf work: x / inf = 0, inf / x = +inf, and
/// inf / inf is undefined: such rounds are left out and counted (undefined). The same seed gives the
/// same bits. The rounds poll the caller's cancellation check (core/cancellation.hpp) and throw
/// Cancelled when it says stop (so does summarize(), which calls it).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace gradflow {

/// A ratio of medians median(A) / median(B) with its bootstrap interval and p-value, as
/// bootstrap_median_ratio() computes them; every number NaN when nothing could be computed.
struct RatioInterval {
  double estimate = std::numeric_limits<double>::quiet_NaN();  ///< median(A) / median(B) on the data
  double low = std::numeric_limits<double>::quiet_NaN();   ///< the (1 - level)/2 quantile of the defined rounds' ratios
  double high = std::numeric_limits<double>::quiet_NaN();  ///< the (1 + level)/2 quantile of the defined rounds' ratios
  long resamples = 0;                                      ///< rounds drawn
  long undefined = 0;  ///< rounds with both medians infinite (left out); all: low = high = NaN
  /// The two-sided bootstrap p-value of "the ratio is 1": min(1, 2 min(#{r <= 1}, #{r >= 1}) / R) over the
  /// R defined rounds' ratios r (a round equal to 1 counts on both sides, so the value is conservative).
  /// The level-(1 - alpha) interval leaves out 1 about when p < alpha. NaN when no round is defined.
  double p_value = std::numeric_limits<double>::quiet_NaN();
};

/// The ratio as the summaries define it (0 when only b is infinite, NaN when both are).
double work_ratio(double a, double b);

/// Empty a or b, or resamples < 1, gives NaNs. level in (0, 1).
RatioInterval bootstrap_median_ratio(const std::vector<double>& a, const std::vector<double>& b, std::uint64_t seed,
                                     long resamples = 2000, double level = 0.95);

}  // namespace gradflow
