/// @file
/// The extended Rosenbrock function (More, Garbow & Hillstrom 1981, problem 21), p even:
///   L(theta) = sum_{k < p/2} 100 (theta_{2k+1} - theta_{2k}^2)^2 + (1 - theta_{2k})^2,
/// with its zero minimum at theta = (1, ..., 1). Each pair contributes a 2 x 2 Hessian block
///   [1200 a^2 - 400 b + 2, -400 a; -400 a, 200]  (a = theta_{2k}, b = theta_{2k+1}).
/// No global PL or smoothness constant is known: the bound needs --mu.
#pragma once

#include <gradflow/core/objective.hpp>

namespace gradflow {

/// The extended Rosenbrock function on R^dim, dim even (see the file comment).
class Rosenbrock final : public Objective {
 public:
  /// dim >= 2 and even; otherwise throws std::invalid_argument.
  explicit Rosenbrock(Eigen::Index dim);

  std::string name() const override { return "rosenbrock"; }
  /// p = dim.
  Eigen::Index dimension() const override { return dim_; }
  /// sum over the pairs of 100 (theta_{2k+1} - theta_{2k}^2)^2 + (1 - theta_{2k})^2.
  double loss(const ConstVectorView& theta) const override;
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  /// True: hessian_vector() multiplies by the exact block-diagonal Hessian.
  bool has_exact_hessian_vector() const override { return true; }
  bool has_hessian() const override { return true; }
  /// h = the block-diagonal Hessian of the 2 x 2 blocks above.
  void hessian(const ConstVectorView& theta, MatrixView h) const override;
  /// min_value 0 and minimizer (1, ..., 1); no mu or beta.
  KnownFacts known() const override;

 private:
  Eigen::Index dim_;
};

}  // namespace gradflow
