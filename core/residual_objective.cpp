#include <gradflow/core/residual_objective.hpp>

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace gradflow {

void ResidualObjective::gram(const ConstVectorView& /*theta*/, MatrixView /*k*/) const {
  throw std::logic_error("ResidualObjective::gram(): problem '" + name() +
                         "' has no Gram formula of its own (has_gram() is false)");
}
namespace {

// The defaults of jacobian(), jv() and jtv() call one another; a second level of defaults on one object
// in one thread means the subclass overrode none of them. Kept per thread (the objects whose default
// runs on this thread, innermost last), so that calls from other threads never count.
class DefaultGuard {
 public:
  explicit DefaultGuard(const ResidualObjective& f) {
    std::vector<const ResidualObjective*>& running = in_default();
    if (std::find(running.begin(), running.end(), &f) != running.end()) {
      throw std::logic_error("ResidualObjective '" + f.name() +
                             "' gives no Jacobian: override jacobian(), or both jv() and jtv()");
    }
    running.push_back(&f);
  }
  ~DefaultGuard() { in_default().pop_back(); }
  DefaultGuard(const DefaultGuard&) = delete;
  DefaultGuard& operator=(const DefaultGuard&) = delete;

 private:
  static std::vector<const ResidualObjective*>& in_default() {
    thread_local std::vector<const ResidualObjective*> running;
    return running;
  }
};

}  // namespace

void ResidualObjective::jacobian(const ConstVectorView& theta, MatrixView j) const {
  const DefaultGuard guard(*this);
  const Eigen::Index n = num_residuals();
  if (j.rows() != n || j.cols() != dimension()) {
    throw std::invalid_argument("ResidualObjective::jacobian(): the matrix is " + std::to_string(j.rows()) + " x " +
                                std::to_string(j.cols()) + ", expected " + std::to_string(n) + " x " +
                                std::to_string(dimension()));
  }
  Vector e = Vector::Zero(n);
  Vector row(dimension());
  for (Eigen::Index i = 0; i < n; ++i) {
    e[i] = 1.0;
    jtv(theta, e, row);
    j.row(i) = row.transpose();
    e[i] = 0.0;
  }
}

void ResidualObjective::jv(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) const {
  const DefaultGuard guard(*this);
  Matrix j(num_residuals(), dimension());
  jacobian(theta, j);
  out.noalias() = j * v;
}

void ResidualObjective::jtv(const ConstVectorView& theta, const ConstVectorView& w, VectorView out) const {
  const DefaultGuard guard(*this);
  Matrix j(num_residuals(), dimension());
  jacobian(theta, j);
  out.noalias() = j.transpose() * w;
}

std::optional<double> ResidualObjective::jacobian_lipschitz(const ConstVectorView&, double) const {
  return std::nullopt;
}

std::string ResidualObjective::jacobian_lipschitz_kind() const { return "jacobian_lipschitz() of '" + name() + "'"; }

std::optional<LipschitzBound> ResidualObjective::jacobian_lipschitz_bound(const ConstVectorView& theta0) const {
  if (!jacobian_lipschitz(theta0, 0.0)) return std::nullopt;
  const Vector center = theta0;
  LipschitzBound bound;
  bound.at = [this, center](double radius) {
    const std::optional<double> l = jacobian_lipschitz(center, radius);
    return l ? *l : std::numeric_limits<double>::infinity();
  };
  bound.kind = jacobian_lipschitz_kind();
  return bound;
}

JacobianSpectrum ResidualObjective::jacobian_spectrum(const ConstVectorView& theta) const {
  const Eigen::Index n = num_residuals(), p = dimension();
  Matrix j(n, p);
  jacobian(theta, j);
  const Eigen::BDCSVD<Matrix> svd(j);
  const Vector& s = svd.singularValues();
  JacobianSpectrum spectrum;
  spectrum.sigma_max = s.size() > 0 ? s[0] : 0.0;
  if (n <= p && s.size() == n) {
    const double tolerance =
        static_cast<double>(std::max(n, p)) * std::numeric_limits<double>::epsilon() * spectrum.sigma_max;
    spectrum.sigma_min = s[n - 1] > tolerance ? s[n - 1] : 0.0;
  }
  return spectrum;
}

std::string ResidualObjective::certificate_obstacle(const ConstVectorView&) const { return {}; }

double ResidualObjective::loss(const ConstVectorView& theta) const {
  check_dimension("ResidualObjective::loss", theta.size());
  const auto work = residual_.lease();
  Vector& r = *work;
  r.resize(num_residuals());
  residuals(theta, r);
  return 0.5 * r.squaredNorm();
}

double ResidualObjective::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("ResidualObjective::loss_and_gradient", theta.size());
  check_dimension("ResidualObjective::loss_and_gradient", grad.size());
  const auto work = residual_.lease();
  Vector& r = *work;
  r.resize(num_residuals());
  residuals(theta, r);
  jtv(theta, r, grad);
  return 0.5 * r.squaredNorm();
}

void ResidualObjective::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("ResidualObjective::hessian_vector", theta.size());
  check_dimension("ResidualObjective::hessian_vector", v.size());
  check_dimension("ResidualObjective::hessian_vector", hv.size());
  const Eigen::Index n = num_residuals();
  const double v_norm = v.norm();
  if (v_norm == 0.0) {
    hv.setZero();
    return;
  }
  Vector r(n), jv_product(n);
  residuals(theta, r);
  jv(theta, v, jv_product);
  jtv(theta, jv_product, hv);  // the Gauss-Newton term J^T J v
  // sum_i r_i grad^2 r_i v: the derivative of J^T r along v, r fixed, by a central difference (the
  // step as in Objective::hessian_vector).
  const double h = std::cbrt(std::numeric_limits<double>::epsilon()) * (1.0 + theta.norm()) / v_norm;
  Vector shifted = theta + h * v;
  Vector plus(dimension()), minus(dimension());
  jtv(shifted, r, plus);
  shifted = theta - h * v;
  jtv(shifted, r, minus);
  hv += (plus - minus) / (2.0 * h);
}

KnownFacts ResidualObjective::known() const {
  KnownFacts facts;
  facts.min_value = 0.0;
  return facts;
}

}  // namespace gradflow
