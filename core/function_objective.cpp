#include <gradflow/core/function_objective.hpp>

#include <stdexcept>

namespace gradflow {

FunctionObjective::FunctionObjective(Eigen::Index p, LossAndGradient loss_and_gradient, int)
    : p_(p), loss_and_gradient_(std::move(loss_and_gradient)) {
  if (p_ < 1) throw std::invalid_argument("FunctionObjective(): p = " + std::to_string(p_) + " (must be >= 1)");
  if (!loss_and_gradient_) throw std::invalid_argument("FunctionObjective(): the loss-and-gradient callable is empty");
}

FunctionObjective& FunctionObjective::with_hessian_vector(HessianVector hessian_vector) & {
  hessian_vector_ = std::move(hessian_vector);
  return *this;
}
FunctionObjective&& FunctionObjective::with_hessian_vector(HessianVector hessian_vector) && {
  return std::move(with_hessian_vector(std::move(hessian_vector)));
}
FunctionObjective& FunctionObjective::with_known(KnownFacts facts) & {
  if (facts.minimizer && facts.minimizer->size() != p_) {
    throw std::invalid_argument("FunctionObjective::with_known(): the minimizer has " +
                                std::to_string(facts.minimizer->size()) + " entries, p = " + std::to_string(p_));
  }
  facts_ = std::move(facts);
  return *this;
}
FunctionObjective&& FunctionObjective::with_known(KnownFacts facts) && {
  return std::move(with_known(std::move(facts)));
}
FunctionObjective& FunctionObjective::with_name(std::string name) & {
  name_ = std::move(name);
  return *this;
}
FunctionObjective&& FunctionObjective::with_name(std::string name) && { return std::move(with_name(std::move(name))); }

double FunctionObjective::loss(const ConstVectorView& theta) const {
  check_dimension("FunctionObjective::loss", theta.size());
  const auto gradient = scratch_.lease();
  gradient->resize(p_);
  return loss_and_gradient_(theta, *gradient);
}

double FunctionObjective::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("FunctionObjective::loss_and_gradient", theta.size());
  check_dimension("FunctionObjective::loss_and_gradient", grad.size());
  return loss_and_gradient_(theta, grad);
}

void FunctionObjective::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  if (!hessian_vector_) {
    Objective::hessian_vector(theta, v, hv);
    return;
  }
  check_dimension("FunctionObjective::hessian_vector", theta.size());
  check_dimension("FunctionObjective::hessian_vector", v.size());
  check_dimension("FunctionObjective::hessian_vector", hv.size());
  hessian_vector_(theta, v, hv);
}

}  // namespace gradflow
