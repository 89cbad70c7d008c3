#include <gradflow/discrete/modified_flow.hpp>

#include <gradflow/core/text.hpp>

#include <cmath>
#include <stdexcept>

namespace gradflow {

ModifiedLoss::ModifiedLoss(const Objective& base, double eta) : base_(base), eta_(eta) {
  if (!(eta >= 0.0) || !std::isfinite(eta)) {
    throw std::invalid_argument("ModifiedLoss: eta = " + full_precision(eta) + ": must be finite and >= 0");
  }
}

double ModifiedLoss::loss(const ConstVectorView& theta) const {
  check_dimension("ModifiedLoss::loss", theta.size());
  Vector g(theta.size());
  const double l = base_.loss_and_gradient(theta, g);
  return l + 0.25 * eta_ * g.squaredNorm();
}

double ModifiedLoss::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("ModifiedLoss::loss_and_gradient", theta.size());
  check_dimension("ModifiedLoss::loss_and_gradient", grad.size());
  Vector g(theta.size());
  Vector hg(theta.size());
  const double l = base_.loss_and_gradient(theta, g);
  base_.hessian_vector(theta, g, hg);
  grad = g + (0.5 * eta_) * hg;
  return l + 0.25 * eta_ * g.squaredNorm();
}

}  // namespace gradflow
