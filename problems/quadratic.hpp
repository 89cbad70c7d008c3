/// @file
/// The quadratic L(theta) = 1/2 (theta - theta*)^T A (theta - theta*), A symmetric positive semidefinite.
///
/// grad L = A (theta - theta*), Hessian A. With A = V diag(lambda) V^T the flow is exact:
///   theta(t) = theta* + V exp(-t diag(lambda)) V^T (theta0 - theta*),
/// mu = the smallest positive eigenvalue (PL on all of R^p), beta = the largest.
#pragma once

#include <gradflow/core/objective.hpp>
#include <gradflow/core/scratch_pool.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace gradflow {

/// L(theta) = 1/2 (theta - theta*)^T A (theta - theta*) with its exact flow (see the file comment).
class Quadratic final : public Objective {
 public:
  /// A must be square, symmetric and positive semidefinite, theta_star of matching size; otherwise
  /// throws std::invalid_argument with the reason (see check_matrix).
  Quadratic(Matrix a, Vector theta_star);
  /// The quadratic of A with theta* = 0.
  explicit Quadratic(Matrix a) : Quadratic(a, Vector::Zero(a.rows())) {}

  /// A = Q diag(lambda) Q^T with Q a seeded random orthogonal matrix and the eigenvalues log-spaced
  /// from 1/cond (= mu) to 1 (= beta). dim >= 1, cond >= 1, and cond == 1 when dim == 1.
  static Quadratic generated(Eigen::Index dim, double cond, std::uint64_t seed);

  /// Why A cannot define a quadratic (not square, not finite, not symmetric, indefinite), or nullopt.
  static std::optional<std::string> check_matrix(const Matrix& a);

  std::string name() const override { return "quadratic"; }
  /// p, the size of A.
  Eigen::Index dimension() const override { return a_.rows(); }
  /// 1/2 (theta - theta*)^T A (theta - theta*).
  double loss(const ConstVectorView& theta) const override;
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  /// True: hessian_vector() is A v.
  bool has_exact_hessian_vector() const override { return true; }
  bool has_hessian() const override { return true; }
  /// h = A.
  void hessian(const ConstVectorView& theta, MatrixView h) const override;
  bool has_constant_hessian() const override { return true; }
  /// min_value 0; mu = the smallest eigenvalue above round-off (empty when there is none), beta = the
  /// largest; the minimizer theta* when A is positive definite (then it is unique).
  KnownFacts known() const override;
  bool has_exact_flow() const override { return true; }
  /// theta* + V exp(-t diag(lambda)) V^T (theta0 - theta*).
  Vector exact_flow(const ConstVectorView& theta0, double t) const override;

  /// A, as stored: symmetrized exactly, (A + A^T) / 2.
  const Matrix& matrix() const { return a_; }
  /// theta*, a minimizer (the only one when A is positive definite).
  const Vector& theta_star() const { return theta_star_; }
  /// lambda, the eigenvalues of A, ascending (round-off below 0 set to 0).
  const Vector& eigenvalues() const { return eigenvalues_; }
  /// V, the orthonormal eigenvectors of A, column i for eigenvalues()[i].
  const Matrix& eigenvectors() const { return eigenvectors_; }

 private:
  Matrix a_;
  Vector theta_star_;
  /// Per-evaluation buffers, kept to avoid an allocation per evaluation (core/scratch_pool.hpp).
  struct Work {
    Vector difference;  ///< theta - theta*
    Vector product;     ///< A (theta - theta*), for loss()
  };
  ScratchPool<Work> scratch_;
  Vector eigenvalues_;
  Matrix eigenvectors_;
  std::optional<double> mu_;
  double beta_ = 0.0;
};

}  // namespace gradflow
