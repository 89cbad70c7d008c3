#include <gradflow/problems/rosenbrock.hpp>

#include <stdexcept>

namespace gradflow {

Rosenbrock::Rosenbrock(Eigen::Index dim) : dim_(dim) {
  if (dim < 2 || dim % 2 != 0) throw std::invalid_argument("Rosenbrock(): dim must be even and >= 2");
}

double Rosenbrock::loss(const ConstVectorView& theta) const {
  check_dimension("Rosenbrock::loss", theta.size());
  double sum = 0.0;
  for (Eigen::Index k = 0; k < dim_; k += 2) {
    const double a = theta[k];
    const double b = theta[k + 1];
    const double valley = b - a * a;
    sum += 100.0 * valley * valley + (1.0 - a) * (1.0 - a);
  }
  return sum;
}

double Rosenbrock::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("Rosenbrock::loss_and_gradient", theta.size());
  check_dimension("Rosenbrock::loss_and_gradient", grad.size());
  double sum = 0.0;
  for (Eigen::Index k = 0; k < dim_; k += 2) {
    const double a = theta[k];
    const double b = theta[k + 1];
    const double valley = b - a * a;
    sum += 100.0 * valley * valley + (1.0 - a) * (1.0 - a);
    grad[k] = -400.0 * a * valley - 2.0 * (1.0 - a);
    grad[k + 1] = 200.0 * valley;
  }
  return sum;
}

void Rosenbrock::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("Rosenbrock::hessian_vector", theta.size());
  check_dimension("Rosenbrock::hessian_vector", v.size());
  for (Eigen::Index k = 0; k < dim_; k += 2) {
    const double a = theta[k];
    const double b = theta[k + 1];
    const double haa = 1200.0 * a * a - 400.0 * b + 2.0;
    const double hab = -400.0 * a;
    hv[k] = haa * v[k] + hab * v[k + 1];
    hv[k + 1] = hab * v[k] + 200.0 * v[k + 1];
  }
}

void Rosenbrock::hessian(const ConstVectorView& theta, MatrixView h) const {
  check_dimension("Rosenbrock::hessian", theta.size());
  h.setZero();
  for (Eigen::Index k = 0; k < dim_; k += 2) {
    const double a = theta[k];
    const double b = theta[k + 1];
    h(k, k) = 1200.0 * a * a - 400.0 * b + 2.0;
    h(k, k + 1) = h(k + 1, k) = -400.0 * a;
    h(k + 1, k + 1) = 200.0;
  }
}

KnownFacts Rosenbrock::known() const {
  KnownFacts facts;
  facts.min_value = 0.0;
  facts.minimizer = Vector::Ones(dim_);
  return facts;
}

}  // namespace gradflow
