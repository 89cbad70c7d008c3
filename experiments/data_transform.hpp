/// @file
/// The inputs' transformations of compare-inits and sweeps (docs/theory.md §6.3, §6.5), and the condition
/// number that every summary reports.
///
///   standardize  features and targets to mean 0 and standard deviation 1 (problems/network_data.hpp's
///                standardize(), as --standardize of the other commands). Centring n <= d samples
///                leaves rank(X) <= n - 1: the certificate no longer applies.
///   scale        each feature divided by its root mean square (sqrt(mean_i x_ij^2); zero columns kept):
///                unit second moment without centring, so rank(X) stays n. Targets unchanged.
///   whiten       ZCA whitening in sample space: X <- (X X^T)^{-1/2} X = U V^T for X = U S V^T, so that
///                X X^T = I (condition number 1). Needs n <= d and rank(X) = n. Targets unchanged.
///   power a      the conditioning path (--condition-path): X = U S V^T -> U S^a V^T, the same singular
///                vectors with singular values sigma_i^a, so cond -> cond^a; a = 0 is whitening, a = 1
///                leaves X alone (exactly). Applied after the transform above. Needs n <= d, rank n.
///
/// Each is a map of the features fitted on the training inputs, so held-out points are transformed by
/// the training data's map, never by their own statistics: standardize and scale with the training
/// means, deviations and root mean squares; whiten and power a as x -> M x with
/// M = V S^{a-1} V^T + (I - V V^T) (a = 0 for whitening), which acts on the training inputs' row space
/// and leaves its orthogonal complement alone.
#pragma once

#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/problems/network_data.hpp>

#include <optional>
#include <string>

namespace gradflow {

/// The data transformed; std::invalid_argument (with the reason) when whitening meets n > d or rank < n.
NetworkData transform_inputs(const NetworkData& data, Preprocess how);

/// The training data transformed by `how` and then raised to the power a (1: no power), and the held-out
/// data (when given) by the same maps fitted on the training inputs. std::invalid_argument (with the
/// reason) when whitening or a power != 1 meets n > d or rank < n, or a is not finite.
struct TransformedData {
  NetworkData train;                ///< the training data, inputs (and, for standardize, targets) transformed
  std::optional<NetworkData> test;  ///< the held-out data by the training data's maps; empty when none was given
};
/// Transforms train by `how` and then by the power a = `power`, and test (when given) by the same maps fitted
/// on train, as TransformedData describes; std::invalid_argument as stated there.
TransformedData transform_train_test(const NetworkData& train, const std::optional<NetworkData>& test, Preprocess how,
                                     double power = 1.0);

/// sigma_max(X) / sigma_n(X): +inf when n > d or rank(X) < n.
double input_condition_number(const Matrix& x);

}  // namespace gradflow
