/// @file
/// Held-out error (docs/theory.md §6.5): the seeded split of a data set into training and held-out
/// points, what a trained network does on the held-out points (its mean squared error, its accuracy
/// for class labels, its distance to the minimum-norm linear interpolant x^T X^+ y), and the
/// power-law fit of work against the inputs' condition number with the crossing of two such laws.
/// sweep, compare-inits, descend, flow and the Python module all call these: one definition of every
/// number. Thread-safe: free functions of their arguments.
#pragma once

#include <gradflow/core/named_value.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// The split: a permutation of the n samples from gradflow::Random seeded with `seed`, the last
/// m = round(fraction n) of it held out (at least 1 point on each side, else std::invalid_argument with
/// the reason); the rows keep their original order on each side. The same data and seed give the same
/// split on every machine.
struct HoldoutSplit {
  NetworkData train,            ///< the training points, n - m rows
      test;                     ///< the held-out points, m rows
  std::vector<long> test_rows;  ///< the held-out rows of the original data, increasing
};
/// Splits data as HoldoutSplit describes; fraction must be in (0, 1) (std::invalid_argument otherwise).
HoldoutSplit split_holdout(const NetworkData& data, double fraction, std::uint64_t seed);

/// How the targets are read as labels (from the training and held-out targets together): +-1 (the sign
/// of the prediction), 0/1 (the prediction against 1/2), integer classes (the prediction rounded and
/// clamped to the labels' range; at most 1000 distinct integers), or not labels (no accuracy).
enum class LabelKind {
  none,            ///< not labels: a target that is not a finite integer, or fewer than 2 or over 1000 values
  plus_minus_one,  ///< the values are exactly -1 and 1
  zero_one,        ///< the values are exactly 0 and 1
  integer_classes  ///< any other set of 2 to 1000 integers
};
/// The kind of labels that train_y and test_y hold together, as LabelKind describes.
LabelKind label_kind(const Vector& train_y, const Vector& test_y);
std::string_view to_string(LabelKind kind);  ///< "none", "+-1", "0/1", "classes"
/// The fraction of predictions that name the label (NaN for LabelKind::none or no points).
double accuracy(const Vector& prediction, const Vector& y, LabelKind kind, const Vector& train_y);

/// What a network does on held-out points; NaN where it does not apply.
struct HeldOutMetrics {
  long points = 0;                                                  ///< m
  double test_loss = std::numeric_limits<double>::quiet_NaN();      ///< (1/m) sum_j (f(x_j) - y_j)^2
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< labels only
  /// n <= d, rank n: sqrt((1/m) sum_j (f(x_j) - x_j^T X^+ y)^2), X^+ the training inputs' pseudo-inverse.
  double interpolant_distance = std::numeric_limits<double>::quiet_NaN();
  double linear_test_loss = std::numeric_limits<double>::quiet_NaN();      ///< the interpolant's own test_loss
  double linear_test_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< and its accuracy
};

/// The metrics by name (test_points, test_loss, test_accuracy, interpolant_distance, linear_test_loss,
/// linear_test_accuracy), NaN where they do not apply: the JSON of flow and descend and Python's dict.
NamedValues held_out_values(const HeldOutMetrics& metrics);

/// The predictions f(x_j; theta) of the network `architecture` on inputs x (rows are samples).
Vector predict_on(const MlpArchitecture& architecture, const ConstVectorView& theta, const Matrix& x);

/// The minimum-norm linear interpolant's weights X^+ y (by a complete orthogonal decomposition), or
/// nothing when n > d or rank(X) < n (it does not interpolate then).
std::optional<Vector> min_norm_interpolant(const NetworkData& train);

/// The metrics of theta (a network of `architecture` trained on `train`) on `test`; std::invalid_argument
/// when the test inputs do not have the training inputs' d columns.
HeldOutMetrics held_out_metrics(const MlpArchitecture& architecture, const ConstVectorView& theta,
                                const NetworkData& train, const NetworkData& test);

/// log(y) = log(a) + k log(x) by least squares over the points with finite positive x and y.
struct PowerLaw {
  double exponent = std::numeric_limits<double>::quiet_NaN();  ///< k
  double factor = std::numeric_limits<double>::quiet_NaN();    ///< a
  long points = 0;                                             ///< used (at least 2 distinct x for a fit)
  double r2 = std::numeric_limits<double>::quiet_NaN();        ///< of the log-log fit (1: exact; NaN for 2 points)
};
/// The least-squares fit of log(y) against log(x) over the pairs (x_i, y_i) of the two lists (up to the
/// shorter's length) with both finite and positive; NaN exponent and factor with fewer than 2 distinct x.
PowerLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y);

/// Where a x^k = b x^j: (b / a)^(1 / (k - j)); NaN when a law is not fitted or k == j.
double power_law_crossing(const PowerLaw& first, const PowerLaw& second);

}  // namespace gradflow
