// The inputs' transformations of compare-inits and sweeps (docs/theory.md §6.3), and the condition
// number that every summary reports.
//
//   standardize  features and targets to mean 0 and standard deviation 1 (problems/network_data.hpp's
//                standardize(), as --standardize of the other commands). Centring n <= d samples
//                leaves rank(X) <= n - 1: the certificate no longer applies.
//   scale        each feature divided by its root mean square (sqrt(mean_i x_ij^2); zero columns kept):
//                unit second moment without centring, so rank(X) stays n. Targets unchanged.
//   whiten       ZCA whitening in sample space: X <- (X X^T)^{-1/2} X = U V^T for X = U S V^T, so that
//                X X^T = I (condition number 1). Needs n <= d and rank(X) = n. Targets unchanged.
#pragma once

#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/problems/network_data.hpp>

#include <string>

namespace gradflow {

// The data transformed; std::invalid_argument (with the reason) when whitening meets n > d or rank < n.
NetworkData transform_inputs(const NetworkData& data, Preprocess how);

// sigma_max(X) / sigma_n(X): +inf when n > d or rank(X) < n.
double input_condition_number(const Matrix& x);

}  // namespace gradflow
