/// @file
/// The classic nonconvex PL example (Karimi, Nutini & Schmidt 2016), summed over coordinates:
///   L(theta) = sum_j theta_j^2 + 3 sin^2(theta_j),
///   grad_j = 2 theta_j + 3 sin(2 theta_j),  Hessian diag(2 + 6 cos(2 theta_j)) in [-4, 8].
/// The only minimizer is 0 with L = 0; mu = 1/32 and beta = 8 hold on all of R^p (the tight PL
/// constant is about 0.175531, docs/theory.md §3.3).
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/scratch_pool.hpp>

namespace gradflow {

/// L(theta) = sum_j theta_j^2 + 3 sin^2(theta_j) on R^dim (see the file comment).
class Karimi final : public Objective {
 public:
  /// dim >= 1; otherwise throws std::invalid_argument.
  explicit Karimi(Eigen::Index dim);

  std::string name() const override { return "karimi"; }
  /// p = dim.
  Eigen::Index dimension() const override { return dim_; }
  /// sum_j theta_j^2 + 3 sin^2(theta_j).
  double loss(const ConstVectorView& theta) const override;
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  /// True: hessian_vector() multiplies by the exact diagonal Hessian.
  bool has_exact_hessian_vector() const override { return true; }
  bool has_hessian() const override { return true; }
  /// h = diag(2 + 6 cos(2 theta_j)).
  void hessian(const ConstVectorView& theta, MatrixView h) const override;
  /// min_value 0, minimizer 0, mu = 1/32, beta = 8.
  KnownFacts known() const override;

 private:
  Eigen::Index dim_;
  /// Per-evaluation buffers: sin theta and cos theta, kept to avoid an allocation per evaluation
  /// (core/scratch_pool.hpp).
  struct Work {
    Vector sin, cos;
  };
  ScratchPool<Work> scratch_;
};

}  // namespace gradflow
