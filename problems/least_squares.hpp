/// @file
/// Linear least squares L(theta) = 1/2 ||X theta - y||^2, X n x p (rows are samples).
///
/// grad L = X^T (X theta - y), Hessian X^T X. With the thin SVD X = U S V^T over the r positive
/// singular values s_1 >= ... >= s_r:
///   mu = s_r^2 (PL on all of R^p, also when n < p and L is not strongly convex), beta = s_1^2,
///   inf L = 1/2 ||(I - U U^T) y||^2 (0 when rank X = n),
///   theta(t) = theta0 - V S^-1 (I - exp(-t S^2)) U^T r0,  r0 = X theta0 - y,
/// whose limit theta0 + X^+ (y - X theta0) is the minimizer nearest theta0.
///
/// As a ResidualObjective: r = X theta - y, J = X (constant, so l(r) = 0 in the certificate,
/// docs/theory.md §4.4), which applies when rank X = n.
#pragma once

#include <gradflow/core/residual_objective.hpp>
#include <gradflow/core/scratch_pool.hpp>

namespace gradflow {

/// L(theta) = 1/2 ||X theta - y||^2 with its exact flow and constants from the thin SVD of X (see the file
/// comment).
class LeastSquares final : public ResidualObjective {
 public:
  /// x: n x p with n, p >= 1, y: n entries, all finite; otherwise throws std::invalid_argument.
  LeastSquares(Matrix x, Vector y);

  std::string name() const override { return "least-squares"; }
  /// p, the columns of X.
  Eigen::Index dimension() const override { return x_.cols(); }
  /// 1/2 ||X theta - y||^2.
  double loss(const ConstVectorView& theta) const override;
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  /// True: hessian_vector() is X^T (X v).
  bool has_exact_hessian_vector() const override { return true; }
  bool has_hessian() const override { return true; }
  /// h = X^T X.
  void hessian(const ConstVectorView& theta, MatrixView h) const override;
  bool has_constant_hessian() const override { return true; }
  /// min_value = inf L; mu = s_r^2 and beta = s_1^2 (beta = 0, no mu, when X = 0); the minimizer X^+ y
  /// when X has full column rank.
  KnownFacts known() const override;
  bool has_exact_flow() const override { return true; }
  /// theta0 - V S^-1 (I - exp(-t S^2)) U^T (X theta0 - y).
  Vector exact_flow(const ConstVectorView& theta0, double t) const override;

  /// ResidualObjective.
  Eigen::Index num_residuals() const override { return x_.rows(); }
  void residuals(const ConstVectorView& theta, VectorView r) const override;
  void jacobian(const ConstVectorView& theta, MatrixView j) const override;
  void jv(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) const override;
  void jtv(const ConstVectorView& theta, const ConstVectorView& w, VectorView out) const override;
  std::optional<double> jacobian_lipschitz(const ConstVectorView& theta0, double radius) const override;
  std::string jacobian_lipschitz_kind() const override { return "zero (J = X is constant)"; }
  std::string certificate_obstacle(const ConstVectorView& theta0) const override;

  /// X, n x p.
  const Matrix& data() const { return x_; }
  /// y, n entries.
  const Vector& targets() const { return y_; }
  /// r, the numerical rank of X: the singular values above max(n, p) eps s_1.
  Eigen::Index rank() const { return singular_values_.size(); }
  const Vector& singular_values() const { return singular_values_; }  ///< the positive ones, descending

 private:
  Matrix x_;
  Matrix x_transposed_;  ///< X^T stored column-major, so that X^T r is a column-oriented product too
  Vector y_;
  Matrix u_;                ///< n x r
  Vector singular_values_;  ///< r
  Matrix v_;                ///< p x r
  double min_value_ = 0.0;
  ScratchPool<Vector> residual_;  ///< per-evaluation buffer: X theta - y, or X v (core/scratch_pool.hpp)
};

}  // namespace gradflow
