#include <gradflow/theory/certificate.hpp>

#include <gradflow/core/tolerances.hpp>

#include <gradflow/core/cancellation.hpp>

#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/theory/power_iteration.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gradflow {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Maximizes a concave function on [0, high] by golden-section search; returns the argmax.
template <class F>
double argmax_concave(F&& f, double high) {
  const double ratio = (std::sqrt(5.0) - 1.0) / 2.0;
  double a = 0.0, b = high;
  double c = b - ratio * (b - a), d = a + ratio * (b - a);
  double fc = f(c), fd = f(d);
  for (int i = 0; i < tolerances::kGoldenSectionMaxIterations && b - a > tolerances::kRadiusSearchRelative * high;
       ++i) {
    if (fc < fd) {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    } else {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    }
  }
  return 0.5 * (a + b);
}

// The crossing of an increasing (decreasing) f through level on [lo, hi], by bisection.
template <class F>
double crossing(F&& f, double lo, double hi, double level, bool increasing) {
  for (int i = 0;
       i < tolerances::kBisectionMaxIterations && hi - lo > tolerances::kRadiusSearchRelative * std::max(1.0, hi);
       ++i) {
    const double mid = 0.5 * (lo + hi);
    const bool above = f(mid) > level;
    ((above == increasing) ? hi : lo) = mid;
  }
  return 0.5 * (lo + hi);
}

Certificate not_applicable(std::string why) {
  Certificate c;
  c.applies = false;
  c.why_not = std::move(why);
  return c;
}

// Why the certificate cannot use inputs that are not finite numbers (an overflow at theta0: least
// squares at theta0 = 1e300 has L(theta0) = inf, with which every comparison "holds"), or "".
std::string non_finite_inputs(const CertificateInputs& in) {
  std::string which;
  const auto check = [&which](const char* name, double x) {
    if (!std::isfinite(x)) which += (which.empty() ? "" : ", ") + std::string(name) + " = " + format_number("%g", x);
  };
  check("L(theta0)", in.loss0);
  check("||r0||", in.residual_norm);
  check("sigma0", in.sigma0);
  check("||J0||", in.jacobian_norm);
  if (which.empty()) return which;
  return which + " at theta0: not finite, so the certificate does not apply (it needs finite values there)";
}

// A certificate that does not apply, with the inputs that were computed.
Certificate not_applicable(std::string why, const CertificateInputs& in) {
  Certificate c = not_applicable(std::move(why));
  c.loss0 = in.loss0;
  c.residual_norm = in.residual_norm;
  c.sigma0 = in.sigma0;
  c.jacobian_norm = in.jacobian_norm;
  c.lipschitz_kind = in.lipschitz.kind;
  return c;
}

}  // namespace

NamedValues Certificate::values() const {
  return {{"applies", applies},
          {"why_not", why_not},
          {"holds", holds},
          {"verdict", verdict()},
          {"loss0", loss0},
          {"residual_norm", residual_norm},
          {"sigma0", sigma0},
          {"jacobian_norm", jacobian_norm},
          {"lipschitz_kind", lipschitz_kind},
          {"phi_max", phi_max},
          {"radius", radius},
          {"lipschitz", lipschitz},
          {"radius_low", radius_low},
          {"radius_high", radius_high},
          {"mu", mu},
          {"travel", travel},
          {"rate", rate},
          {"criterion_lhs", criterion_lhs},
          {"criterion_rhs", criterion_rhs},
          {"margin", margin},
          {"descent_holds", descent_holds},
          {"descent_radius", descent_radius},
          {"beta", beta},
          {"step", step},
          {"descent_q", descent_q},
          {"descent_travel", descent_travel},
          {"descent_criterion_rhs", descent_criterion_rhs},
          {"descent_margin", descent_margin}};
}

std::string Certificate::verdict() const {
  if (!applies) return "the theory does not apply: " + why_not;
  std::string text =
      holds ? "certified: gradient flow converges linearly to zero loss (mu = " + format_number("%.6g", mu) +
                  ") within " + format_number("%.6g", travel) + " of theta0"
            : "not certified: max_r phi(r) = " + format_number("%.6g", phi_max) +
                  " <= ||r0|| = " + format_number("%.6g", residual_norm);
  text += descent_holds ? "; descent with step 1/beta_r = " + format_number("%.6g", step) +
                              " certified (q = " + format_number("%.10g", descent_q) + ")"
                        : "; descent not certified (needs max phi > 2 ||r0||)";
  return text;
}

Certificate certify(const CertificateInputs& in) {
  if (std::string why = non_finite_inputs(in); !why.empty()) return not_applicable(std::move(why), in);
  Certificate c;
  c.applies = true;
  c.loss0 = in.loss0;
  c.residual_norm = in.residual_norm;
  c.sigma0 = in.sigma0;
  c.jacobian_norm = in.jacobian_norm;
  c.lipschitz_kind = in.lipschitz.kind;
  c.criterion_lhs = in.sigma0 * in.sigma0;
  // Each evaluation of the bound can be slow (a deep network): a cancellation check stops between two.
  const auto l = [&in](double r) {
    if (cancellation_requested())
      throw Cancelled("certify(): cancelled while bounding the Jacobian's Lipschitz constant");
    return in.lipschitz.at(r);
  };
  const double r0 = in.residual_norm;
  const double l0 = l(0.0);

  if (!(in.sigma0 > 0.0)) {
    c.holds = c.descent_holds = false;
    c.phi_max = 0.0;
    c.mu = c.travel = c.rate = kNaN;
    c.why_not.clear();
    return c;
  }
  if (l0 == 0.0 && l(1.0) == 0.0 && l(1e6) == 0.0) {
    // A linear model: J is constant, PL holds everywhere with mu = sigma0^2.
    c.holds = c.descent_holds = true;
    c.phi_max = kInf;
    c.radius = kInf;
    c.lipschitz = 0.0;
    c.radius_low = r0 / in.sigma0;
    c.radius_high = kInf;
    c.mu = in.sigma0 * in.sigma0;
    c.travel = r0 / in.sigma0;
    c.rate = 2.0 * c.mu;
    c.criterion_rhs = 0.0;
    c.margin = kInf;
    c.descent_radius = kInf;
    c.beta = in.jacobian_norm * in.jacobian_norm;
    c.step = 1.0 / c.beta;
    c.descent_q = 1.0 - c.mu / c.beta;
    c.descent_travel = 2.0 * c.travel;
    c.descent_criterion_rhs = 0.0;
    c.descent_margin = kInf;
    return c;
  }
  const auto phi = [&](double r) { return r * (in.sigma0 - l(r) * r); };
  // phi < 0 beyond high: sigma0 / l(0) bounds it when l(0) > 0 (l is nondecreasing); with l(0) = 0 (a
  // bound that vanishes at the centre), double r until l(r) r reaches sigma0 (it does: l is not 0
  // everywhere, or the model would be linear above).
  double high = l0 > 0.0 ? in.sigma0 / l0 : 1.0;
  for (int i = 0; l0 == 0.0 && i < 2 * tolerances::kScaleDoublings && l(high) * high < in.sigma0; ++i) high *= 2.0;
  const double best = argmax_concave(phi, high);
  c.radius = best;
  c.phi_max = phi(best);
  c.lipschitz = l(best);
  c.criterion_rhs = 4.0 * c.lipschitz * r0;
  c.descent_criterion_rhs = 8.0 * c.lipschitz * r0;
  c.holds = c.phi_max > r0;
  c.descent_holds = c.phi_max > 2.0 * r0;
  c.margin = r0 > 0.0 ? c.phi_max / r0 - 1.0 : kInf;
  c.descent_margin = r0 > 0.0 ? c.phi_max / (2.0 * r0) - 1.0 : kInf;
  const double slack = in.sigma0 - c.lipschitz * best;  // sigma_n(J) >= slack on the ball
  c.mu = slack * slack;
  c.rate = 2.0 * c.mu;
  c.travel = r0 / slack;
  c.descent_radius = best;
  c.beta = std::pow(in.jacobian_norm + c.lipschitz * best, 2) +
           c.lipschitz * (r0 + in.jacobian_norm * best + c.lipschitz * best * best / 2.0);
  c.step = 1.0 / c.beta;
  c.descent_q = 1.0 - c.mu / c.beta;
  c.descent_travel = 2.0 * c.travel;
  if (c.holds) {
    c.radius_low = r0 > 0.0 ? crossing(phi, 0.0, best, r0, true) : 0.0;
    c.radius_high = crossing(phi, best, high, r0, false);
  } else {
    c.radius_low = c.radius_high = kNaN;
  }
  return c;
}

Certificate certify(const ResidualObjective& objective, const Vector& theta0) {
  if (theta0.size() != objective.dimension()) {
    throw std::invalid_argument("certify(): theta0 has " + std::to_string(theta0.size()) +
                                " entries, the problem has dimension " + std::to_string(objective.dimension()));
  }
  if (const std::string why = objective.certificate_obstacle(theta0); !why.empty()) return not_applicable(why);
  const Eigen::Index n = objective.num_residuals(), p = objective.dimension();
  if (n > p) {
    return not_applicable("n = " + std::to_string(n) + " residuals > p = " + std::to_string(p) +
                          " parameters: sigma_n(J) = 0, so the PL inequality for zero loss cannot hold");
  }
  CertificateInputs in;
  Vector r0(n);
  objective.residuals(theta0, r0);
  in.loss0 = 0.5 * r0.squaredNorm();
  in.residual_norm = r0.norm();
  const JacobianSpectrum spectrum = objective.jacobian_spectrum(theta0);
  in.sigma0 = spectrum.sigma_min;
  in.jacobian_norm = spectrum.sigma_max;
  if (std::string why = non_finite_inputs(in); !why.empty()) return not_applicable(std::move(why), in);
  if (cancellation_requested()) throw Cancelled("certify(): cancelled");
  std::optional<LipschitzBound> bound = objective.jacobian_lipschitz_bound(theta0);
  if (!bound) {
    return not_applicable(
        "problem '" + objective.name() +
            "' gives no Lipschitz bound of its Jacobian on a ball (ResidualObjective::jacobian_lipschitz()): the "
            "rigorous certificate needs one; sigma0 = " +
            format_number("%.6g", in.sigma0) + " and ||r0|| = " + format_number("%.6g", in.residual_norm) +
            " alone prove nothing beyond theta0",
        in);
  }
  in.lipschitz = std::move(*bound);
  return certify(in);
}

Certificate certify(const Objective& objective, const Vector& theta0) {
  if (const ResidualObjective* residual = objective.as_residual()) return certify(*residual, theta0);
  return not_applicable("problem '" + objective.name() +
                        "' has no residual structure (it is not a ResidualObjective, L = 1/2 ||r||^2); only sampled "
                        "estimates are available");
}

ScaleSearch find_positive_scale(const Mlp& network, const InitOptions& positive, bool for_descent) {
  ScaleSearch search;
  const MlpArchitecture& arch = network.architecture();
  if (positive.scheme != InitScheme::positive) {
    search.why_not = "the scale search is for the positive initialization (--init positive)";
    return search;
  }
  const double at_zero = value_at_zero(arch.activation);
  if (at_zero != 0.0) {
    search.why_not = std::string(to_string(arch.activation)) + " has sigma(0) = " + format_number("%.6g", at_zero) +
                     " != 0: at the positive initialization every output equals s times a constant, so ||r0|| grows "
                     "with s as fast as sigma0 and no scale certifies convergence; centre the activation (sigma - "
                     "sigma(0), e.g. --activation softplus-centered)";
    return search;
  }
  const auto at_scale = [&](double s) {
    if (cancellation_requested()) throw Cancelled("find_positive_scale(): cancelled");
    InitOptions init = positive;
    init.output_scale = s;
    return certify(network, initialize(arch, init));
  };
  const auto holds = [for_descent](const Certificate& c) { return for_descent ? c.descent_holds : c.holds; };
  const Certificate first = at_scale(1.0);
  if (!first.applies) {
    search.why_not = first.why_not;
    return search;
  }
  double high = 1.0;
  Certificate at_high = first;
  for (int i = 0; i < tolerances::kScaleDoublings && !holds(at_high); ++i) {
    high *= 2.0;
    at_high = at_scale(high);
  }
  if (!holds(at_high)) {
    search.why_not = "no scale up to " + format_number("%.3g", high) + " certifies convergence";
    return search;
  }
  double low = high / 2.0;
  for (int i = 0; i < tolerances::kScaleDoublings && holds(at_scale(low)); ++i) {
    high = low;
    low /= 2.0;
  }
  // holds at high, not at low: bisect.
  for (int i = 0; i < tolerances::kBisectionMaxIterations && high - low > tolerances::kScaleSearchRelative * high;
       ++i) {
    const double mid = 0.5 * (low + high);
    (holds(at_scale(mid)) ? high : low) = mid;
  }
  search.found = true;
  search.scale = high;
  search.certificate = at_scale(high);
  return search;
}

LocalEstimate estimate_local_constants(const Objective& objective, const Vector& theta0, double radius, int samples,
                                       std::uint64_t seed) {
  LocalEstimate e;
  e.radius = radius;
  e.samples = samples;
  e.mu_estimate = kInf;
  Random random(derive_seed(seed, 3));
  const Eigen::Index p = objective.dimension();
  // The PL quotient is relative to inf L: without it there is no mu estimate (NaN), only beta.
  const std::optional<double> known_min = objective.known().min_value;
  if (!known_min) e.mu_estimate = kNaN;
  const double min_value = known_min.value_or(0.0);
  Vector grad(p);
  for (int k = 0; k <= samples; ++k) {
    Vector theta = theta0;
    if (k > 0) {  // uniform in the ball
      Vector direction = random.normal_vector(p);
      direction.normalize();
      theta += radius * std::pow(random.uniform(), 1.0 / static_cast<double>(p)) * direction;
    }
    const double loss = objective.loss_and_gradient(theta, grad);
    if (known_min && loss - min_value > 0.0)
      e.mu_estimate = std::min(e.mu_estimate, grad.squaredNorm() / (2.0 * (loss - min_value)));
    e.beta_estimate =
        std::max(e.beta_estimate,
                 estimate_smoothness(objective, theta, seed + static_cast<std::uint64_t>(k),
                                     tolerances::kSampledSmoothnessIterations, tolerances::kSampledSmoothnessRtol)
                     .beta);
  }
  return e;
}

}  // namespace gradflow
