#include <gradflow/problems/karimi.hpp>

#include <gradflow/core/detail/kernels.hpp>

#include <cmath>
#include <stdexcept>

namespace gradflow {

Karimi::Karimi(Eigen::Index dim) : dim_(dim) {
  if (dim < 1) throw std::invalid_argument("Karimi(): dim must be >= 1");
}

double Karimi::loss(const ConstVectorView& theta) const {
  check_dimension("Karimi::loss", theta.size());
  const auto work = scratch_.lease();
  work->sin.resize(dim_);
  work->cos.resize(dim_);
  kernels::sin_cos(theta.data(), work->sin.data(), work->cos.data(), dim_);
  const Vector& sin_theta = work->sin;
  double sum = 0.0;
  for (Eigen::Index j = 0; j < dim_; ++j) sum += theta[j] * theta[j] + 3.0 * sin_theta[j] * sin_theta[j];
  return sum;
}

double Karimi::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("Karimi::loss_and_gradient", theta.size());
  check_dimension("Karimi::loss_and_gradient", grad.size());
  const auto work = scratch_.lease();
  work->sin.resize(dim_);
  work->cos.resize(dim_);
  kernels::sin_cos(theta.data(), work->sin.data(), work->cos.data(), dim_);
  const Vector &sin_theta = work->sin, &cos_theta = work->cos;
  double sum = 0.0;
  for (Eigen::Index j = 0; j < dim_; ++j) {
    const double s = sin_theta[j];
    sum += theta[j] * theta[j] + 3.0 * s * s;
    grad[j] = 2.0 * theta[j] + 6.0 * s * cos_theta[j];
  }
  return sum;
}

void Karimi::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("Karimi::hessian_vector", theta.size());
  check_dimension("Karimi::hessian_vector", v.size());
  for (Eigen::Index j = 0; j < dim_; ++j) hv[j] = (2.0 + 6.0 * std::cos(2.0 * theta[j])) * v[j];
}

void Karimi::hessian(const ConstVectorView& theta, MatrixView h) const {
  check_dimension("Karimi::hessian", theta.size());
  h.setZero();
  for (Eigen::Index j = 0; j < dim_; ++j) h(j, j) = 2.0 + 6.0 * std::cos(2.0 * theta[j]);
}

KnownFacts Karimi::known() const {
  KnownFacts facts;
  facts.min_value = 0.0;
  facts.mu = 1.0 / 32.0;
  facts.beta = 8.0;
  facts.minimizer = Vector::Zero(dim_);
  return facts;
}

}  // namespace gradflow
