#include <gradflow/problems/least_squares.hpp>

#include <gradflow/core/detail/kernels.hpp>

#include <Eigen/SVD>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace gradflow {
namespace {

void check_residual_size(const char* function, Eigen::Index size, Eigen::Index n) {
  if (size != n) {
    throw std::invalid_argument(std::string(function) + "(): vector has " + std::to_string(size) + " entries, " +
                                std::to_string(n) + " residuals expected");
  }
}

}  // namespace

LeastSquares::LeastSquares(Matrix x, Vector y) : x_(std::move(x)), y_(std::move(y)) {
  if (x_.rows() < 1 || x_.cols() < 1)
    throw std::invalid_argument("LeastSquares(): X must have at least one row and one column");
  if (y_.size() != x_.rows()) {
    throw std::invalid_argument("LeastSquares(): y has " + std::to_string(y_.size()) + " entries, X has " +
                                std::to_string(x_.rows()) + " rows");
  }
  if (!x_.allFinite() || !y_.allFinite()) throw std::invalid_argument("LeastSquares(): X or y has a non-finite entry");
  const Eigen::BDCSVD<Matrix> svd(x_, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Vector& s = svd.singularValues();
  const double tol = static_cast<double>(std::max(x_.rows(), x_.cols())) * std::numeric_limits<double>::epsilon() *
                     (s.size() > 0 ? s[0] : 0.0);
  Eigen::Index r = 0;
  while (r < s.size() && s[r] > tol) ++r;
  singular_values_ = s.head(r);
  u_ = svd.matrixU().leftCols(r);
  v_ = svd.matrixV().leftCols(r);
  // The part of y outside the range of X cannot be fitted.
  min_value_ = 0.5 * (y_ - u_ * (u_.transpose() * y_)).squaredNorm();
  if (r == x_.rows()) min_value_ = 0.0;  // y is in the range; the formula above would only leave roundoff
  x_transposed_ = x_.transpose();
}

double LeastSquares::loss(const ConstVectorView& theta) const {
  check_dimension("LeastSquares::loss", theta.size());
  const auto work = residual_.lease();
  Vector& r = *work;
  r.resize(x_.rows());
  kernels::matvec(x_.data(), x_.rows(), x_.cols(), theta.data(), r.data());
  r -= y_;
  return 0.5 * r.squaredNorm();
}

double LeastSquares::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("LeastSquares::loss_and_gradient", theta.size());
  check_dimension("LeastSquares::loss_and_gradient", grad.size());
  const auto work = residual_.lease();
  Vector& r = *work;
  r.resize(x_.rows());
  kernels::matvec(x_.data(), x_.rows(), x_.cols(), theta.data(), r.data());
  r -= y_;
  kernels::matvec(x_transposed_.data(), x_transposed_.rows(), x_transposed_.cols(), r.data(), grad.data());
  return 0.5 * r.squaredNorm();
}

void LeastSquares::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("LeastSquares::hessian_vector", theta.size());
  check_dimension("LeastSquares::hessian_vector", v.size());
  check_dimension("LeastSquares::hessian_vector", hv.size());
  const auto work = residual_.lease();
  Vector& xv = *work;
  xv.resize(x_.rows());
  kernels::matvec(x_.data(), x_.rows(), x_.cols(), v.data(), xv.data());
  kernels::matvec(x_transposed_.data(), x_transposed_.rows(), x_transposed_.cols(), xv.data(), hv.data());
}

void LeastSquares::hessian(const ConstVectorView& theta, MatrixView h) const {
  check_dimension("LeastSquares::hessian", theta.size());
  h.noalias() = x_.transpose() * x_;
}

KnownFacts LeastSquares::known() const {
  KnownFacts facts;
  facts.min_value = min_value_;
  if (rank() > 0) {
    facts.mu = singular_values_[rank() - 1] * singular_values_[rank() - 1];
    facts.beta = singular_values_[0] * singular_values_[0];
  } else {
    facts.beta = 0.0;
  }
  if (rank() == x_.cols()) {
    // Full column rank: the minimizer is unique, X^+ y.
    facts.minimizer = v_ * (u_.transpose() * y_).cwiseQuotient(singular_values_);
  }
  return facts;
}

void LeastSquares::residuals(const ConstVectorView& theta, VectorView r) const {
  check_dimension("LeastSquares::residuals", theta.size());
  check_residual_size("LeastSquares::residuals", r.size(), x_.rows());
  kernels::matvec(x_.data(), x_.rows(), x_.cols(), theta.data(), r.data());
  r -= y_;
}

void LeastSquares::jacobian(const ConstVectorView& theta, MatrixView j) const {
  check_dimension("LeastSquares::jacobian", theta.size());
  if (j.rows() != x_.rows() || j.cols() != x_.cols()) {
    throw std::invalid_argument("LeastSquares::jacobian(): the matrix must be n x p = " + std::to_string(x_.rows()) +
                                " x " + std::to_string(x_.cols()));
  }
  j = x_;
}

void LeastSquares::jv(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) const {
  check_dimension("LeastSquares::jv", theta.size());
  check_dimension("LeastSquares::jv", v.size());
  check_residual_size("LeastSquares::jv", out.size(), x_.rows());
  kernels::matvec(x_.data(), x_.rows(), x_.cols(), v.data(), out.data());
}

void LeastSquares::jtv(const ConstVectorView& theta, const ConstVectorView& w, VectorView out) const {
  check_dimension("LeastSquares::jtv", theta.size());
  check_dimension("LeastSquares::jtv", out.size());
  check_residual_size("LeastSquares::jtv", w.size(), x_.rows());
  kernels::matvec(x_transposed_.data(), x_transposed_.rows(), x_transposed_.cols(), w.data(), out.data());
}

std::optional<double> LeastSquares::jacobian_lipschitz(const ConstVectorView&, double) const { return 0.0; }

std::string LeastSquares::certificate_obstacle(const ConstVectorView&) const {
  if (rank() < x_.rows()) {
    return "least squares with rank(X) = " + std::to_string(rank()) + " < n = " + std::to_string(x_.rows()) +
           ": zero loss is not reachable in general";
  }
  return {};
}

Vector LeastSquares::exact_flow(const ConstVectorView& theta0, double t) const {
  check_dimension("LeastSquares::exact_flow", theta0.size());
  const Vector r0 = x_ * theta0 - y_;
  const Vector coefficients =
      (u_.transpose() * r0).array() * -(-t * singular_values_.array().square()).expm1() / singular_values_.array();
  return theta0 - v_ * coefficients;
}

}  // namespace gradflow
