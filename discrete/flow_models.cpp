#include <gradflow/discrete/flow_models.hpp>

#include <gradflow/core/text.hpp>
#include <gradflow/discrete/modified_flow.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gradflow {

namespace {

constexpr NameTable<FlowModel, 3> kFlowModelNames{{{
    {FlowModel::plain, "plain"},
    {FlowModel::modified, "modified"},
    {FlowModel::central, "central"},
}}};

}  // namespace

std::string_view to_string(FlowModel model) { return kFlowModelNames.name(model); }

std::optional<FlowModel> flow_model_from_string(std::string_view name) { return kFlowModelNames.value(name); }

const std::vector<std::string>& flow_model_names() { return kFlowModelNames.cached_names(); }

TopEigenpair top_eigenpair(const Objective& objective, const ConstVectorView& theta, const Vector& warm) {
  const Eigen::Index p = objective.dimension();
  const Vector point = theta;
  const auto apply = [&](const Vector& v, Vector& out) {
    out.resize(p);
    objective.hessian_vector(point, v, out);
  };
  LanczosOptions options;
  options.want_min = false;
  options.want_max = true;
  options.rtol = 1e-10;
  options.min_iterations = std::min<int>(static_cast<int>(p), 3);
  const Vector start = warm.size() == p ? warm : Vector::Ones(p);
  const LanczosResult r = lanczos_extremes(apply, p, start, options);
  TopEigenpair e;
  e.value = r.max;
  e.u = r.v_max;
  e.products = r.products;
  e.converged = r.converged;
  return e;
}

Vector sharpness_gradient(const Objective& objective, const ConstVectorView& theta, const Vector& u) {
  const Eigen::Index p = objective.dimension();
  if (u.size() != p) throw std::invalid_argument("sharpness_gradient: u has the wrong size");
  const double h = std::cbrt(std::numeric_limits<double>::epsilon()) * std::max(1.0, Vector(theta).norm());
  Vector plus(p), minus(p);
  const Vector up = theta + h * u;
  const Vector down = theta - h * u;
  objective.hessian_vector(up, u, plus);
  objective.hessian_vector(down, u, minus);
  return (plus - minus) / (2.0 * h);
}

CentralFlow::CentralFlow(const Objective& base, double eta, double gamma)
    : base_(base), eta_(eta), gamma_(std::isnan(gamma) ? 1.0 / eta : gamma) {
  if (!(std::isfinite(eta) && eta > 0.0))
    throw std::invalid_argument("CentralFlow: eta = " + full_precision(eta) + ": must be finite and > 0");
  if (!(std::isfinite(gamma_) && gamma_ >= 0.0))
    throw std::invalid_argument("CentralFlow: gamma = " + full_precision(gamma_) + ": must be finite and >= 0");
  if (!base.has_exact_hessian_vector())
    throw std::invalid_argument(
        "CentralFlow: the objective has no exact Hessian-vector products (the sharpness "
        "and its gradient need them)");
}

CentralState CentralFlow::evaluate(const ConstVectorView& theta, Vector* field) const {
  const Eigen::Index p = base_.dimension();
  CentralState s;
  Vector g(p);
  s.loss = base_.loss_and_gradient(theta, g);
  Vector warm;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    warm = warm_;
  }
  const TopEigenpair top = top_eigenpair(base_, theta, warm);
  hvps_ += top.products;
  s.sharpness = top.value;
  if (top.u.size() == p && top.u.allFinite()) {
    const std::lock_guard<std::mutex> lock(mutex_);
    warm_ = top.u;
  }
  const double edge = 2.0 / eta_;
  if (std::isfinite(s.sharpness) && s.sharpness >= edge && top.u.size() == p) {
    const Vector grad_s = sharpness_gradient(base_, theta, top.u);
    hvps_ += 2;
    const double norm2 = grad_s.squaredNorm();
    if (norm2 > 0.0 && std::isfinite(norm2)) {
      s.sigma2 = std::max(0.0, 2.0 * (gamma_ * (s.sharpness - edge) - grad_s.dot(g)) / norm2);
      if (field) g += (0.5 * s.sigma2) * grad_s;
    }
  }
  if (field) *field = std::move(g);
  return s;
}

double CentralFlow::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("CentralFlow::loss_and_gradient", theta.size());
  check_dimension("CentralFlow::loss_and_gradient", grad.size());
  Vector field;
  const CentralState s = evaluate(theta, &field);
  grad = field;
  return s.loss;
}

CentralState CentralFlow::state(const ConstVectorView& theta) const { return evaluate(theta, nullptr); }

std::unique_ptr<Objective> flow_model_objective(const Objective& base, FlowModel model, double eta) {
  switch (model) {
    case FlowModel::plain:
      return nullptr;
    case FlowModel::modified:
      return std::make_unique<ModifiedLoss>(base, eta);
    case FlowModel::central:
      return std::make_unique<CentralFlow>(base, eta);
  }
  return nullptr;
}

}  // namespace gradflow
