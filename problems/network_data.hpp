/// @file
/// Data for the network problem: synthetic samples (x_i ~ N(0, I/d), targets N(0, 1) or the outputs of
/// a random teacher network), optional standardization, and the linear-independence report that says
/// whether the theory applies (it needs the n inputs linearly independent, so n <= d).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/problems/activation.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

/// A data set of the network problem: inputs and scalar targets.
struct NetworkData {
  Matrix x;  ///< n x d, rows are samples
  Vector y;  ///< n
};

/// The random teacher network whose outputs are synthetic_data()'s targets.
struct TeacherSpec {
  std::vector<Eigen::Index> widths;          ///< its hidden widths (MlpArchitecture::widths), each >= 1
  Activation activation = Activation::tanh;  ///< its activation
};

/// Seeded: x_i ~ N(0, I/d); y_i ~ N(0, 1), or y_i = teacher(x_i) with a xavier_normal teacher.
NetworkData synthetic_data(Eigen::Index n, Eigen::Index d, std::uint64_t seed,
                           const std::optional<TeacherSpec>& teacher = std::nullopt);

/// Features to mean 0 and standard deviation 1 per column, targets likewise (constant columns are
/// only centred). Centring removes one dimension from the span of the inputs.
void standardize(NetworkData& data);

/// Whether the n inputs are linearly independent, as the theory needs (independence_report()).
struct IndependenceReport {
  /// n: the samples, the rows of X
  Eigen::Index n = 0, d = 0;  ///< d: the features, the columns of X
  Eigen::Index rank = 0;      ///< numerical rank of X
  double sigma_min = 0.0;     ///< the n-th singular value of X (0 when n > d)
  double sigma_max = 0.0;     ///< the largest singular value of X
  bool applies = false;       ///< n <= d and rank = n
  std::string message;        ///< one line, with a warning when the theory does not apply
};

/// The report on x (n x d, rows are samples), from its singular values; the rank counts those above
/// max(n, d) eps sigma_max.
IndependenceReport independence_report(const Matrix& x);

}  // namespace gradflow
