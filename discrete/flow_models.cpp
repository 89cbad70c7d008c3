#include <gradflow/discrete/flow_models.hpp>

#include <gradflow/core/text.hpp>
#include <gradflow/discrete/modified_flow.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gradflow {

namespace {

constexpr NameTable<FlowModel, 4> kFlowModelNames{{{
    {FlowModel::plain, "plain"},
    {FlowModel::modified, "modified"},
    {FlowModel::central, "central"},
    {FlowModel::edge, "edge"},
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

EdgeOfStabilityFlow::EdgeOfStabilityFlow(const Objective& base, double eta, const char* who) : base_(base), eta_(eta) {
  if (!(std::isfinite(eta) && eta > 0.0))
    throw std::invalid_argument(std::string(who) + ": eta = " + full_precision(eta) + ": must be finite and > 0");
  if (!base.has_exact_hessian_vector())
    throw std::invalid_argument(std::string(who) +
                                ": the objective has no exact Hessian-vector products (the sharpness "
                                "and its derivatives need them)");
}

double EdgeOfStabilityFlow::loss_and_gradient(const ConstVectorView& z, VectorView grad) const {
  check_dimension(where_field_.c_str(), z.size());
  check_dimension(where_field_.c_str(), grad.size());
  Vector field;
  const ModelState s = evaluate(z, &field);
  grad = field;
  return reported_loss(s);
}

ModelState EdgeOfStabilityFlow::state(const ConstVectorView& z) const {
  check_dimension(where_state_.c_str(), z.size());
  return evaluate(z, nullptr);
}

CentralFlow::CentralFlow(const Objective& base, double eta, double gamma)
    : EdgeOfStabilityFlow(base, eta, "CentralFlow"), gamma_(std::isnan(gamma) ? 1.0 / eta : gamma) {
  if (!(std::isfinite(gamma_) && gamma_ >= 0.0))
    throw std::invalid_argument("CentralFlow: gamma = " + full_precision(gamma_) + ": must be finite and >= 0");
}

ModelState CentralFlow::evaluate(const ConstVectorView& theta, Vector* field) const {
  const Eigen::Index p = base_.dimension();
  ModelState s;
  Vector g(p);
  s.loss = base_.loss_and_gradient(theta, g);
  Vector warm;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    warm = warm_;
  }
  const TopEigenpair top = top_eigenpair(base_, theta, warm);
  s.sharpness = top.value;
  if (top.u.size() == p && top.u.allFinite()) {
    const std::lock_guard<std::mutex> lock(mutex_);
    warm_ = top.u;
  }
  const double edge = 2.0 / eta_;
  if (std::isfinite(s.sharpness) && s.sharpness >= edge && top.u.size() == p) {
    const Vector grad_s = sharpness_gradient(base_, theta, top.u);
    const double norm2 = grad_s.squaredNorm();
    if (norm2 > 0.0 && std::isfinite(norm2)) {
      s.sigma2 = std::max(0.0, 2.0 * (gamma_ * (s.sharpness - edge) - grad_s.dot(g)) / norm2);
      if (field) g += (0.5 * s.sigma2) * grad_s;
    }
  }
  s.average_loss = s.loss + 0.5 * s.sigma2 * s.sharpness;
  s.center = theta;
  if (field) *field = std::move(g);
  return s;
}

EdgeFlow::EdgeFlow(const Objective& base, double eta) : EdgeOfStabilityFlow(base, eta, "EdgeFlow") {}

Vector EdgeFlow::start(const ConstVectorView& theta0) const {
  const Eigen::Index p = base_.dimension();
  if (theta0.size() != p)
    throw std::invalid_argument("EdgeFlow::start: theta0 has " + std::to_string(theta0.size()) + " entries, not " +
                                std::to_string(p));
  Vector z(2 * p + 1);
  z.head(p) = theta0;
  const TopEigenpair top = top_eigenpair(base_, theta0);
  Vector u = top.u.size() == p && top.u.allFinite() && top.u.norm() > 0.0 ? Vector(top.u.normalized())
                                                                          : Vector(Vector::Unit(p, 0));
  Vector g(p);
  base_.loss_and_gradient(theta0, g);
  z.segment(p, p) = u;
  z[2 * p] = 0.5 * eta_ * std::abs(u.dot(g));
  return z;
}

ModelState EdgeFlow::evaluate(const ConstVectorView& z, Vector* field) const {
  const Eigen::Index p = base_.dimension();
  const auto c = z.head(p);  // views: no copies
  const auto v = z.segment(p, p);
  const double a = z[2 * p];
  const double v_norm = v.norm();
  const Vector u = v_norm > 0.0 && std::isfinite(v_norm) ? Vector(v / v_norm) : Vector(Vector::Zero(p));
  const double amplitude = std::abs(a);
  ModelState s;
  // The field needs the gradients at c +- a u (two), the state the losses there and at c.
  Vector g_plus(p), g_minus(p);
  double l_plus = 0.0, l_minus = 0.0;
  if (amplitude > 0.0 && v_norm > 0.0) {
    if (field) {
      l_plus = base_.loss_and_gradient(c + amplitude * u, g_plus);
      l_minus = base_.loss_and_gradient(c - amplitude * u, g_minus);
    } else {
      l_plus = base_.loss(c + amplitude * u);
      l_minus = base_.loss(c - amplitude * u);
      s.loss = base_.loss(c);
    }
  } else {
    l_plus = l_minus = s.loss = field ? base_.loss_and_gradient(c, g_plus) : base_.loss(c);
    g_minus = g_plus;
  }
  Vector hu(p);
  base_.hessian_vector(c, u, hu);
  const double rho = u.dot(hu);
  s.sharpness = rho;
  s.sigma2 = amplitude * amplitude;
  s.average_loss = 0.5 * (l_plus + l_minus);
  s.center = c;
  s.offset = amplitude * u;
  if (field) {
    const Vector g_bar = 0.5 * (g_plus + g_minus);
    Vector hg(p);
    base_.hessian_vector(c, g_bar, hg);
    // The curvature across the oscillation: the secant of the gradient along u, which holds the quartic
    // and higher terms that stabilize the amplitude; the Rayleigh quotient where the secant would be
    // rounding error.
    const double lambda =
        amplitude > 1e-8 * std::max(1.0, c.norm()) ? u.dot(g_plus - g_minus) / (2.0 * amplitude) : rho;
    const double growth = std::log(std::max(eta_ * lambda - 1.0, std::exp(-2.0))) / eta_;
    field->resize(2 * p + 1);
    // The Objective's "gradient": minus the field.
    field->head(p) = g_bar + (0.5 * eta_) * hg;
    field->segment(p, p) = -(hu - rho * u);
    (*field)[2 * p] = -a * growth;
  }
  return s;
}

double EdgeFlow::loss(const ConstVectorView& z) const {
  check_dimension("EdgeFlow::loss", z.size());
  return evaluate(z, nullptr).average_loss;
}

std::unique_ptr<EdgeOfStabilityFlow> edge_of_stability_flow(const Objective& base, FlowModel model, double eta) {
  switch (model) {
    case FlowModel::central:
      return std::make_unique<CentralFlow>(base, eta);
    case FlowModel::edge:
      return std::make_unique<EdgeFlow>(base, eta);
    case FlowModel::plain:
    case FlowModel::modified:
      break;
  }
  throw std::invalid_argument("the " + std::string(to_string(model)) +
                              " flow is not a model of the edge of stability (central, edge)");
}

std::unique_ptr<Objective> flow_model_objective(const Objective& base, FlowModel model, double eta) {
  switch (model) {
    case FlowModel::plain:
      return nullptr;
    case FlowModel::modified:
      return std::make_unique<ModifiedLoss>(base, eta);
    case FlowModel::central:
    case FlowModel::edge:
      return edge_of_stability_flow(base, model, eta);
  }
  return nullptr;
}

Vector flow_model_start(const Objective& base, FlowModel model, double eta, const ConstVectorView& theta0) {
  if (model == FlowModel::edge) return EdgeFlow(base, eta).start(theta0);
  return theta0;
}

}  // namespace gradflow
