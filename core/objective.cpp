// Defaults of the objective interface: the central-difference Hessian-vector product and the
// errors for what a problem does not provide.
#include <gradflow/core/objective.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace gradflow {

KnownFacts resolved_facts(const Objective& objective) {
  KnownFacts facts = objective.known();
  if (!facts.min_value && facts.minimizer && facts.minimizer->size() == objective.dimension()) {
    const double value = objective.loss(*facts.minimizer);
    if (std::isfinite(value)) facts.min_value = value;
  }
  return facts;
}

int Objective::set_threads(int threads) {
  if (threads < 0)
    throw std::invalid_argument(name() + ": set_threads(): threads must be >= 0, got " + std::to_string(threads));
  return 1;
}

void Objective::gradient(const ConstVectorView& theta, VectorView grad) const { loss_and_gradient(theta, grad); }

void Objective::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("Objective::hessian_vector", theta.size());
  check_dimension("Objective::hessian_vector", v.size());
  check_dimension("Objective::hessian_vector", hv.size());
  const double v_norm = v.norm();
  if (v_norm == 0.0) {
    hv.setZero();
    return;
  }
  // The step balances truncation error O(h^2) against cancellation O(eps / h): h ~ eps^(1/3),
  // scaled to the size of theta and normalised by ||v||.
  const double h = std::cbrt(std::numeric_limits<double>::epsilon()) * (1.0 + theta.norm()) / v_norm;
  Vector shifted = theta + h * v;
  Vector g_plus(theta.size());
  gradient(shifted, g_plus);
  shifted = theta - h * v;
  gradient(shifted, hv);
  hv = (g_plus - hv) / (2.0 * h);
}

void Objective::hessian(const ConstVectorView&, MatrixView) const {
  throw std::logic_error("Objective::hessian(): problem '" + name() + "' has no dense Hessian");
}

Vector Objective::exact_flow(const ConstVectorView&, double) const {
  throw std::logic_error("Objective::exact_flow(): problem '" + name() + "' has no exact flow");
}

void Objective::check_dimension(const char* function, Eigen::Index size) const {
  if (size != dimension()) {
    throw std::invalid_argument(std::string(function) + "(): vector has " + std::to_string(size) +
                                " entries, the problem has dimension " + std::to_string(dimension()));
  }
}

}  // namespace gradflow
