/// @file
/// The sweep's table: per data set, method, activation, depth, width and initialization scheme (and, for
/// the tuned-fixed protocol, at the scheme's best step factor c), the number of runs, the fraction that
/// reached the target, the median and quartiles of the work to the target (steps, gradient evaluations,
/// loss evaluations, Hessian-vector products, training wall time; a run that did not converge counts as
/// infinitely much work), and how much less work the positive initialization needed than this scheme:
/// speedup = median(scheme) / median(positive), > 1 when positive is faster, each with a seeded 95%
/// bootstrap interval (experiments/bootstrap.hpp, docs/theory.md §6.4).
#pragma once

#include <gradflow/core/named_value.hpp>
#include <gradflow/experiments/bootstrap.hpp>
#include <gradflow/experiments/held_out.hpp>
#include <gradflow/experiments/sweep_runner.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow {

/// The median and quartiles of one measure of work over a row's runs (quantile(); a run that did not
/// converge counts as +inf).
struct Quartiles {
  double median = 0.0,  ///< the 0.5 quantile
      q25 = 0.0,        ///< the 0.25 quantile
      q75 = 0.0;        ///< the 0.75 quantile; each +inf when not enough runs converged
};

/// The tolerances of "every run the same" (SummaryRow::independent_samples), relative.
inline constexpr double kIdenticalWork = 1e-3;   ///< for the work counts (steps and evaluations)
inline constexpr double kIdenticalValue = 1e-4;  ///< for time x beta0, held-out loss and final loss / L0

/// One line of summary.csv: the runs of one data set, method, activation, depth, width and scheme (and
/// scale and conditioning power, on those paths), their work and its comparison with the positive scheme.
struct SummaryRow {
  std::string dataset,  ///< DatasetSpec::name()
      method,           ///< Method::name() ("fixed" for tuned-fixed)
      activation,       ///< the activation's name
      init;             ///< the initialization scheme's name
  long depth = 0,       ///< hidden layers
      width = 0;        ///< hidden width
  std::string scale;    ///< positive on the scale path: runs.csv's scale (10, auto, 4x, path:k/N); empty otherwise
  double condition_power = std::numeric_limits<double>::quiet_NaN();  ///< the conditioning path's a (NaN off it)
  double output_scale = std::numeric_limits<double>::quiet_NaN();     ///< median over the runs
  /// The positive row the other schemes of the group are compared with: the one off the scale path, else
  /// its auto entry, else its largest scale. False for the other schemes and the path's other scales.
  bool reference = false;
  /// The runs as samples: 1 when every run is the same (work counts within a relative kIdenticalWork; time
  /// to the target x beta0, held-out loss and, for runs that did not converge, final loss / L0 within
  /// kIdenticalValue: a deterministic scheme, or positive at W_1 = 0, whose seeds change only the scale
  /// that beta0 normalizes), and the bootstrap then resamples one value, not runs copies of it; else runs.
  long independent_samples = 0;
  double lr_c = 0.0;               ///< tuned-fixed: the scheme's best c (lr = c / beta0); 0 otherwise
  std::string c_choice;            ///< tuned-fixed: how c was chosen (below); empty otherwise
  long runs = 0,                   ///< the runs of the row
      converged = 0,               ///< the runs that reached the target
      certified = 0;               ///< the runs whose certificate holds (runs.csv's certified = 1)
  double input_condition = 0.0;    ///< median over the runs (one data set: the same for every run)
  Quartiles steps,                 ///< steps to the target (steps_to_eps)
      grad_evals,                  ///< gradient evaluations
      loss_evals,                  ///< loss-only evaluations
      hvp_evals,                   ///< Hessian-vector products
      seconds;                     ///< training wall time, in seconds
  double median_time = 0.0;        ///< raw flow time (or the sum of descent steps) to the target
  double median_time_beta0 = 0.0;  ///< that time x beta0: comparable across output scales
  /// Scheme / positive of the median work with their bootstrap intervals; NaN for positive itself.
  RatioInterval speedup_steps,  ///< in steps to the target
      speedup_grad_evals,       ///< in gradient evaluations (descent's verdict)
      speedup_loss_evals,       ///< in loss-only evaluations
      speedup_wall;             ///< in training wall time
  /// The flow's time to the target x beta0, scheme / positive: a property of the flow, not of the solver
  /// (the flow protocol's verdict; NaN for positive and for descent).
  RatioInterval speedup_time_beta0;
  bool flow = false;  ///< the method is a flow solver: the verdict is on time_beta0, else on grad_evals
  /// The verdict's ratio's p-value (speedup_time_beta0's for the flow, speedup_grad_evals's for descent)
  /// adjusted by Holm's method over the schemes compared with positive in the same data set, method,
  /// activation, depth and width (holm_adjust); NaN for positive and when undefined.
  double holm_p = std::numeric_limits<double>::quiet_NaN();
  /// flow: the largest relative change of a converged run's time at its last tightening (runs.csv's
  /// time_change): the accuracy of the times; NaN for descent or when no time was checked.
  double time_accuracy = std::numeric_limits<double>::quiet_NaN();
  /// The ratio the verdict reads: test_loss_ratio or test_error_ratio by verdict_on, else (work)
  /// speedup_time_beta0 for the flow and speedup_grad_evals for descent.
  const RatioInterval& verdict_ratio() const {
    if (verdict_on == VerdictOn::test_loss) return test_loss_ratio;
    if (verdict_on == VerdictOn::test_error) return test_error_ratio;
    return flow ? speedup_time_beta0 : speedup_grad_evals;
  }
  /// --observe: medians over the runs that observed them (NaN when none did) of runs.csv's ntk_min,
  /// sharpness0, sharpness_max and eta_sharpness_max.
  double median_ntk_min = std::numeric_limits<double>::quiet_NaN();
  double median_sharpness0 = std::numeric_limits<double>::quiet_NaN();         ///< of sharpness0
  double median_sharpness_max = std::numeric_limits<double>::quiet_NaN();      ///< of sharpness_max
  double median_eta_sharpness_max = std::numeric_limits<double>::quiet_NaN();  ///< of eta_sharpness_max
  /// Held-out points (runs.csv's test_*): medians with their 95% percentile-bootstrap intervals (estimate,
  /// low, high of a RatioInterval against 1; NaN without held-out points), the other medians, and the ratios
  /// scheme / positive of test_loss and of the error rate 1 - test_accuracy (NaN for positive).
  RatioInterval test_loss,  ///< the median held-out loss and its interval
      test_accuracy;        ///< the median held-out accuracy and its interval (class labels only)
  double median_interpolant_distance = std::numeric_limits<double>::quiet_NaN();  ///< of interpolant_distance
  double median_linear_test_loss = std::numeric_limits<double>::quiet_NaN();      ///< of linear_test_loss
  double median_linear_test_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< of linear_test_accuracy
  RatioInterval test_loss_ratio,  ///< scheme / positive of the median held-out loss
      test_error_ratio;           ///< scheme / positive of the median error rate 1 - test_accuracy
  /// The run's travel over r*, the NTK's drift and its condition at theta0 (medians; NaN when not measured).
  double median_travel_fraction = std::numeric_limits<double>::quiet_NaN();
  double median_ntk_drift = std::numeric_limits<double>::quiet_NaN();      ///< of runs.csv's ntk_drift
  double median_ntk_condition = std::numeric_limits<double>::quiet_NaN();  ///< of runs.csv's ntk_condition
  VerdictOn verdict_on = VerdictOn::work;  ///< what verdict_ratio() and holm_p are about
};

/// How summarize() computes the table: the bootstrap's seed, rounds and level, the tuned-fixed rule and
/// what the verdict compares.
struct SummaryOptions {
  std::uint64_t seed = 13;                 ///< the bootstrap's seed (each comparison derives its own from it)
  long resamples = 2000;                   ///< bootstrap rounds
  double level = 0.95;                     ///< the intervals' confidence level
  double min_converged = 0.9;              ///< tuned-fixed: a c qualifies when this fraction of its runs converged
  VerdictOn verdict_on = VerdictOn::work;  ///< what the verdict compares (SummaryRow::verdict_on)
};

/// Holm's step-down adjustment of the p-values of one family (NaN entries are not members and stay NaN):
/// with the m defined values sorted, p_(1) <= ... <= p_(m), the adjusted p_(i) is
/// max over j <= i of min(1, (m - j + 1) p_(j)). Rejecting where the adjusted value is below alpha keeps
/// the family-wise error rate at most alpha (Holm 1979). Returned in the input's order.
std::vector<double> holm_adjust(const std::vector<double>& p);

/// Linear-interpolation quantile (numpy's default) of values sorted in place, following the order
/// statistics exactly where infinities are: a quantile that falls on one sample is that sample (the median
/// of {1, 2, inf} is 2), one between a finite sample and +inf is +inf. NaN for no values.
double quantile(std::vector<double>& values, double q);

/// tuned-fixed: of the grid's c (with the fraction of runs that converged, the median steps and the
/// median final loss of each), the index of the best: the lowest median steps among the c where at least
/// min_converged of the runs converged; when none qualifies, the highest converged fraction (then the
/// lowest median steps); when no run of any c converged, the lowest median final loss (an unknown one
/// last). A tie goes to the smaller c (the more cautious step), whatever the order of the grid. choice
/// receives which rule decided.
struct StepFactorResult {
  double c = 0.0;                   ///< the step factor (lr = c / beta0)
  double converged_fraction = 0.0;  ///< the fraction of its runs that reached the target, in [0, 1]
  double median_steps = 0.0;        ///< median steps to the target (+inf when half or more did not converge)
  double median_final_loss = std::numeric_limits<double>::quiet_NaN();  ///< over all runs (NaN: unknown)
};
/// The index into grid of the best c by the rule above; choice (may be null) receives the rule that decided.
std::size_t choose_best_c(const std::vector<StepFactorResult>& grid, double min_converged,
                          std::string* choice = nullptr);

/// The table of the records (runs.csv's lines): one row per data set, method, activation, depth, width,
/// conditioning power, scheme and scale (for tuned-fixed at the scheme's best c), sorted by those keys, with
/// the comparisons against positive and their Holm-adjusted p-values. Cancelled when the caller's
/// cancellation check says stop.
std::vector<SummaryRow> summarize(const std::vector<RunRecord>& records, const SummaryOptions& options = {});

/// The columns of summary.csv for one row, by name, in the file's order (the Python module's summary
/// dicts too): the slice, runs, converged and certified fractions, the tolerance (tolerance_label(),
/// in every row), the medians and quartiles of the work (+inf where not enough runs converged), the
/// speedups with their bootstrap intervals (null for positive itself) and the observed medians.
NamedValues summary_values(const SummaryRow& row, const std::string& tolerance);
std::string summary_csv_header();  ///< the names of summary_values() joined by commas, without the line break
/// A table for the terminal.
std::string format_summary(const std::vector<SummaryRow>& rows, const std::string& tolerance);

/// The verdict per data set, method, activation, depth and width: positive against every other scheme
/// in gradient evaluations (descent) or in flow time x beta0 (the flow: a property of the flow, computed
/// to the stated accuracy; the solver's work is in the table), each comparison decided by its Holm-adjusted bootstrap
/// p-value (holm_p) at the family-wise level alpha: positive is FASTER than a scheme (holm_p < alpha, speedup above 1),
/// SLOWER (holm_p < alpha, below 1) or NOT DISTINGUISHABLE from it; CANNOT SAY where both medians are infinite. One
/// line per group naming the schemes in each class, with their speedups, intervals and holm_p.
std::string format_verdict(const std::vector<SummaryRow>& rows, double alpha = 0.05);

/// The scale path (positive rows with a scale; empty text when there are none): per scale, the median
/// output scale, certified fraction, work to the target, held-out error, ntk_drift and travel_fraction.
std::string format_scale_path(const std::vector<SummaryRow>& rows);

/// The conditioning path: per data set, method, activation, depth, width, scheme (and each of positive's
/// scales on a scale path), the work of the verdict (median gradient evaluations for descent, median flow
/// time x beta0 for the flow) against the median input condition number over the path's powers, fitted by
/// a power law (experiments/held_out.hpp), and where the law crosses positive's (its law off the scale path,
/// else at auto, else at the scale fitted over the most powers; NaN for positive itself and when either law
/// is not fitted or the exponents are equal).
struct ConditioningFit {
  std::string dataset,             ///< SummaryRow::dataset
      method,                      ///< the method, "tuned-fixed" for the tuned fixed step
      activation,                  ///< SummaryRow::activation
      init,                        ///< the initialization scheme
      scale;                       ///< positive's scale path entry (empty otherwise)
  long depth = 0,                  ///< hidden layers
      width = 0;                   ///< hidden width
  std::vector<double> conditions,  ///< the median input condition number at each power, increasing
      work;                        ///< per power, in the order of the conditions
  PowerLaw law;                    ///< work = factor x condition^exponent, fitted (fit_power_law())
  double crossing = std::numeric_limits<double>::quiet_NaN();  ///< cond(X) where the work equals positive's
};
/// The fits of the rows on the conditioning path (rows with a condition_power), one per group and scheme
/// as above, sorted by those keys; empty when no row is on the path.
std::vector<ConditioningFit> fit_conditioning(const std::vector<SummaryRow>& rows);
/// conditioning.csv's header line, without the line break.
std::string conditioning_csv_header();
/// One fit as a line of conditioning.csv (without the line break): the conditions and work joined by ';'.
std::string conditioning_csv_line(const ConditioningFit& fit);
/// A table of the fits for the terminal (exponent, r2, crossing per scheme); empty text for no fits.
std::string format_conditioning(const std::vector<ConditioningFit>& fits);

}  // namespace gradflow
