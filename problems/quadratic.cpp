#include <gradflow/problems/quadratic.hpp>

#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace gradflow {
namespace {

// Eigenvalues within this distance of 0 count as 0: the matrix is singular, not indefinite.
double eigenvalue_tolerance(const Vector& eigenvalues) {
  const double scale = eigenvalues.size() > 0 ? eigenvalues.cwiseAbs().maxCoeff() : 0.0;
  return 16.0 * static_cast<double>(eigenvalues.size()) * std::numeric_limits<double>::epsilon() * scale;
}

}  // namespace

std::optional<std::string> Quadratic::check_matrix(const Matrix& a) {
  if (a.rows() == 0 || a.rows() != a.cols()) {
    return "the matrix is " + std::to_string(a.rows()) + " x " + std::to_string(a.cols()) +
           ", it must be square and non-empty";
  }
  if (!a.allFinite()) return "the matrix has a non-finite entry";
  const double scale = std::max(1.0, a.cwiseAbs().maxCoeff());
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    for (Eigen::Index i = j + 1; i < a.rows(); ++i) {
      if (std::abs(a(i, j) - a(j, i)) > 1e-12 * scale) {
        return "the matrix is not symmetric: entry (" + std::to_string(i + 1) + "," + std::to_string(j + 1) +
               ") = " + full_precision(a(i, j)) + " but (" + std::to_string(j + 1) + "," + std::to_string(i + 1) +
               ") = " + full_precision(a(j, i));
      }
    }
  }
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(a, Eigen::EigenvaluesOnly);
  if (eig.info() != Eigen::Success) return "the eigenvalue computation did not converge";
  const Vector& lambda = eig.eigenvalues();
  if (lambda[0] < -eigenvalue_tolerance(lambda)) {
    return "the matrix is indefinite: its smallest eigenvalue is " + full_precision(lambda[0]) +
           " < 0 (a quadratic objective needs a positive semidefinite matrix)";
  }
  return std::nullopt;
}

Quadratic::Quadratic(Matrix a, Vector theta_star) : a_(std::move(a)), theta_star_(std::move(theta_star)) {
  if (const auto why = check_matrix(a_)) throw std::invalid_argument("Quadratic(): " + *why);
  if (theta_star_.size() != a_.rows()) {
    throw std::invalid_argument("Quadratic(): the minimizer has " + std::to_string(theta_star_.size()) +
                                " entries, the matrix is " + std::to_string(a_.rows()) + " x " +
                                std::to_string(a_.rows()));
  }
  if (!theta_star_.allFinite()) throw std::invalid_argument("Quadratic(): the minimizer has a non-finite entry");
  // Symmetrise exactly, so that the eigendecomposition and the gradient describe the same matrix.
  a_ = (0.5 * (a_ + a_.transpose())).eval();
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(a_);
  eigenvalues_ = eig.eigenvalues();
  eigenvectors_ = eig.eigenvectors();
  const double tol = eigenvalue_tolerance(eigenvalues_);
  for (Eigen::Index i = 0; i < eigenvalues_.size(); ++i) {
    if (eigenvalues_[i] <= tol) {
      eigenvalues_[i] = std::max(eigenvalues_[i], 0.0);  // roundoff below zero on a singular matrix
    } else if (!mu_) {
      mu_ = eigenvalues_[i];
    }
  }
  beta_ = eigenvalues_.maxCoeff();
}

Quadratic Quadratic::generated(Eigen::Index dim, double cond, std::uint64_t seed) {
  if (dim < 1) throw std::invalid_argument("Quadratic::generated(): dim must be >= 1");
  if (!(cond >= 1.0) || !std::isfinite(cond)) throw std::invalid_argument("Quadratic::generated(): cond must be >= 1");
  if (dim == 1 && cond != 1.0) {
    throw std::invalid_argument("Quadratic::generated(): a condition number other than 1 needs dim >= 2");
  }
  Random random(derive_seed(seed, 0));
  const Matrix gaussian = random.normal_matrix(dim, dim);
  const Eigen::HouseholderQR<Matrix> qr(gaussian);
  Matrix q = qr.householderQ();
  // Fix the signs (R with a positive diagonal) so that Q is the Haar-distributed factor.
  const Matrix r = qr.matrixQR().triangularView<Eigen::Upper>();
  for (Eigen::Index j = 0; j < dim; ++j)
    if (r(j, j) < 0) q.col(j) = -q.col(j);
  Vector lambda(dim);
  for (Eigen::Index i = 0; i < dim; ++i) {
    const double fraction = dim == 1 ? 1.0 : static_cast<double>(i) / static_cast<double>(dim - 1);
    lambda[i] = std::pow(cond, fraction - 1.0);  // 1/cond ... 1
  }
  lambda[dim - 1] = 1.0;
  Matrix a = q * lambda.asDiagonal() * q.transpose();
  return Quadratic(std::move(a), Vector::Zero(dim));
}

double Quadratic::loss(const ConstVectorView& theta) const {
  check_dimension("Quadratic::loss", theta.size());
  const auto work = scratch_.lease();
  work->difference = theta - theta_star_;
  work->product.resize(a_.rows());
  kernels::matvec(a_.data(), a_.rows(), a_.cols(), work->difference.data(), work->product.data());
  return 0.5 * work->difference.dot(work->product);
}

double Quadratic::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("Quadratic::loss_and_gradient", theta.size());
  check_dimension("Quadratic::loss_and_gradient", grad.size());
  // A (theta - theta*) rather than A theta - A theta*: the latter loses the gradient's relative
  // accuracy near a minimizer far from the origin.
  const auto work = scratch_.lease();
  work->difference = theta - theta_star_;
  kernels::matvec(a_.data(), a_.rows(), a_.cols(), work->difference.data(), grad.data());
  return 0.5 * work->difference.dot(grad);
}

void Quadratic::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("Quadratic::hessian_vector", theta.size());
  check_dimension("Quadratic::hessian_vector", v.size());
  check_dimension("Quadratic::hessian_vector", hv.size());
  kernels::matvec(a_.data(), a_.rows(), a_.cols(), v.data(), hv.data());
}

void Quadratic::hessian(const ConstVectorView& theta, MatrixView h) const {
  check_dimension("Quadratic::hessian", theta.size());
  h = a_;
}

KnownFacts Quadratic::known() const {
  KnownFacts facts;
  facts.min_value = 0.0;
  facts.mu = mu_;
  facts.beta = beta_;
  if (mu_ && eigenvalues_[0] > 0.0) facts.minimizer = theta_star_;
  return facts;
}

Vector Quadratic::exact_flow(const ConstVectorView& theta0, double t) const {
  check_dimension("Quadratic::exact_flow", theta0.size());
  const Vector modes = eigenvectors_.transpose() * (theta0 - theta_star_);
  const Vector decay = (-t * eigenvalues_.array()).exp().matrix();
  return theta_star_ + eigenvectors_ * modes.cwiseProduct(decay);
}

}  // namespace gradflow
