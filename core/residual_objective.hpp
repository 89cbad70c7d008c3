/// @file
/// Squared losses as a concept: L(theta) = 1/2 ||r(theta)||^2 with residuals r: R^p -> R^n and their
/// Jacobian J (n x p). A subclass gives the residuals and the Jacobian, either dense (jacobian()) or as
/// products (jv() = J v and jtv() = J^T w); the loss, the gradient J^T r and a Hessian-vector product
/// come from them:
///   H v = J^T (J v) + sum_i r_i grad^2 r_i v,
/// the Gauss-Newton term exact, the second one a central difference of J^T r along v with r held
/// fixed: (J(theta + h v)^T r - J(theta - h v)^T r) / (2 h), h = eps^(1/3) (1 + ||theta||) / ||v||.
///
/// The PL certificate (theory/certificate.hpp, docs/theory.md §4) takes a ResidualObjective: it needs
/// r(theta0), sigma_n(J(theta0)) and ||J(theta0)|| (jacobian_spectrum(), by default from the singular
/// values of the dense Jacobian) and a rigorous bound l(r) on the Lipschitz constant of J over the ball
/// B(theta0, r) (jacobian_lipschitz()). Without that bound the certificate says it is missing.
///
/// Threads: the defaults here (loss(), loss_and_gradient(), hessian_vector(), and jacobian(), jv(), jtv()
/// from one another) keep no state shared between calls, so they are safe from any number of threads at
/// once whenever the subclass's residuals() and Jacobian are (core/objective.hpp).
///
/// known() declares min_value = 0 (a squared loss is >= 0; the certificate's setting is zero loss):
/// override it when the infimum is positive, as least squares with rank X < n does.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/scratch_pool.hpp>

#include <functional>
#include <optional>
#include <string>

namespace gradflow {

/// A rigorous bound l(r) on the Lipschitz constant of J over B(theta0, r), nondecreasing in r.
struct LipschitzBound {
  std::function<double(double)> at;  ///< r -> l(r)
  std::string kind;                  ///< where the bound comes from, for reports
};

/// The extreme singular values of J at a point.
struct JacobianSpectrum {
  double sigma_min = 0.0;  ///< sigma_n(J): the n-th singular value (0 when n > p or J has rank < n)
  double sigma_max = 0.0;  ///< ||J||, the largest singular value
};

/// Abstract base of squared losses L = 1/2 ||r(theta)||^2: a subclass gives the residuals and the Jacobian,
/// and the Objective members come from them (see above).
class ResidualObjective : public Objective {
 public:
  /// n, the number of residuals.
  virtual Eigen::Index num_residuals() const = 0;
  /// r(theta), n entries.
  virtual void residuals(const ConstVectorView& theta, VectorView r) const = 0;

  /// The Jacobian: override jacobian(), or both jv() and jtv(). The defaults fill each from the other
  /// (jacobian() from n products J^T e_i; jv() and jtv() from the dense matrix); overriding none of
  /// them throws std::logic_error naming the problem.
  virtual void jacobian(const ConstVectorView& theta, MatrixView j) const;                         ///< j: n x p
  virtual void jv(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) const;   ///< out = J v
  virtual void jtv(const ConstVectorView& theta, const ConstVectorView& w, VectorView out) const;  ///< out = J^T w

  /// The Gram matrix J J^T (n x n) by a formula of the problem's own that does not form J (the network's,
  /// problems/mlp.hpp): has_gram() says whether there is one; gram() throws std::logic_error naming the
  /// problem otherwise (theory/observables.hpp then forms J J^T from the Jacobian or from products).
  virtual bool has_gram() const { return false; }
  /// Writes J(theta) J(theta)^T (n x n) into k; the default throws std::logic_error.
  virtual void gram(const ConstVectorView& theta, MatrixView k) const;

  /// A rigorous bound on the Lipschitz constant of J over B(theta0, radius), nondecreasing in radius;
  /// empty (the default) when the problem has none: the certificate then does not apply, and says so.
  virtual std::optional<double> jacobian_lipschitz(const ConstVectorView& theta0, double radius) const;
  /// How jacobian_lipschitz() is obtained, for reports. Default: "jacobian_lipschitz() of '<name>'".
  virtual std::string jacobian_lipschitz_kind() const;
  /// The bound as a function of the radius, for the certificate's searches over r. The default wraps
  /// jacobian_lipschitz() (empty when it is); a problem whose bound has a costly part that does not
  /// depend on r (norms at theta0) overrides this to compute that part once.
  virtual std::optional<LipschitzBound> jacobian_lipschitz_bound(const ConstVectorView& theta0) const;

  /// sigma_n(J(theta)) and ||J(theta)||. Default: the singular values of the dense Jacobian (from
  /// jacobian()), sigma_n taken as 0 below the numerical rank tolerance max(n, p) eps ||J||.
  virtual JacobianSpectrum jacobian_spectrum(const ConstVectorView& theta) const;
  /// Why the certificate's theory does not apply at theta0 (an activation it does not cover, dependent
  /// data, ...), or an empty string (the default).
  virtual std::string certificate_obstacle(const ConstVectorView& theta0) const;

  /// The Objective, from the residuals and the Jacobian.
  double loss(const ConstVectorView& theta) const override;                                ///< 1/2 ||r||^2
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;  ///< grad = J^T r
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  KnownFacts known() const override;  ///< min_value = 0
  const ResidualObjective* as_residual() const final { return this; }

 private:
  ScratchPool<Vector> residual_;  ///< r(theta) of loss() and loss_and_gradient(), one per concurrent call
};

}  // namespace gradflow
