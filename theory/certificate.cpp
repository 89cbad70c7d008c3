#include <gradflow/theory/certificate.hpp>

#include <gradflow/core/tolerances.hpp>

#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/theory/power_iteration.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradflow {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double spectral_norm(const Matrix& m) {
  if (m.size() == 0) return 0.0;
  const Eigen::BDCSVD<Matrix> svd(m);
  return svd.singularValues().size() > 0 ? svd.singularValues()[0] : 0.0;
}

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

}  // namespace

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
  Certificate c;
  c.applies = true;
  c.loss0 = in.loss0;
  c.residual_norm = in.residual_norm;
  c.sigma0 = in.sigma0;
  c.jacobian_norm = in.jacobian_norm;
  c.lipschitz_kind = in.lipschitz.kind;
  c.criterion_lhs = in.sigma0 * in.sigma0;
  const auto& l = in.lipschitz.at;
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
  const double high = in.sigma0 / l0;  // phi < 0 beyond
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

LipschitzBound network_lipschitz_bound(const Mlp& network, const Vector& theta0) {
  const MlpArchitecture& arch = network.architecture();
  const DerivativeBounds bounds = *derivative_bounds(arch.activation);
  const auto layers = arch.layers();
  const Matrix& x = network.inputs();
  LipschitzBound bound;
  if (layers.size() == 2) {
    // One hidden layer (docs/theory.md §5.3):
    // l(r) = sqrt(2) S1 ||X|| + S2 x_max ||X||_F (||a0||_inf + r).
    const double x_norm = spectral_norm(x);
    const double x_max = x.rowwise().norm().maxCoeff();
    const double x_frobenius = x.norm();
    const auto& out = layers[1];
    const double a_inf = theta0.segment(out.weight_offset, out.cols).cwiseAbs().maxCoeff();
    const double a = std::sqrt(2.0) * bounds.s1 * x_norm;
    const double b = bounds.s2 * x_max * x_frobenius;
    bound.at = [a, b, a_inf](double r) { return a + b * (a_inf + r); };
    bound.kind = "one hidden layer (docs/theory.md §5.3)";
    return bound;
  }
  // Deeper networks: the product-of-norms bound of docs/theory.md §5.4. Per sample, the second
  // directional derivative of f along a unit direction is at most v^T F v, F built layer by layer from
  // omega_l = ||W_l^0|| + r (a bound on ||W_l|| over the ball), eta_l (a bound on ||h_l||), S1 and S2;
  // its largest eigenvalue M_i bounds the Hessian of f(x_i), and l(r) = sqrt(sum_i M_i^2).
  const std::size_t count = layers.size();
  std::vector<double> weight_norms(count);
  std::vector<double> widths(count);
  for (std::size_t l = 0; l < count; ++l) {
    const auto& layer = layers[l];
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> w(
        theta0.data() + layer.weight_offset, layer.rows, layer.cols);
    weight_norms[l] = spectral_norm(w);
    widths[l] = static_cast<double>(layer.rows);
  }
  const Vector sample_norms = x.rowwise().norm();
  const double sigma_zero = std::abs(value_at_zero(arch.activation));
  bound.at = [=](double r) {
    const Eigen::Index depth = static_cast<Eigen::Index>(count);
    double sum = 0.0;
    for (Eigen::Index i = 0; i < sample_norms.size(); ++i) {
      Vector a = Vector::Zero(depth);         // bound on ||h_dot_{l}||, linear in v
      Matrix b = Matrix::Zero(depth, depth);  // bound on ||h_ddot_{l}||, quadratic in v
      double eta = sample_norms[i];           // bound on ||h_{l-1}||
      for (Eigen::Index l = 0; l + 1 < depth; ++l) {
        const double omega = weight_norms[l] + r;
        Vector c = omega * a;  // ||z_dot_l|| <= v_l eta + omega ||h_dot||
        c[l] += eta;
        Matrix next = omega * b;
        next.row(l) += a.transpose();
        next.col(l) += a;  // 2 v_l ||h_dot_{l-1}||, symmetrised
        b = bounds.s1 * next + bounds.s2 * c * c.transpose();
        a = bounds.s1 * c;
        eta = sigma_zero * std::sqrt(widths[l]) + bounds.s1 * omega * eta;
      }
      const Eigen::Index last = depth - 1;
      Matrix f = (weight_norms[last] + r) * b;
      f.row(last) += a.transpose();
      f.col(last) += a;
      const double m = Eigen::SelfAdjointEigenSolver<Matrix>(f, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff();
      sum += m * m;
    }
    return std::sqrt(sum);
  };
  bound.kind = "product of norms (docs/theory.md §5.4)";
  return bound;
}

Certificate certify(const Objective& objective, const Vector& theta0) {
  if (const auto* ls = dynamic_cast<const LeastSquares*>(&objective)) {
    const Matrix& x = ls->data();
    if (ls->rank() < x.rows()) {
      return not_applicable("least squares with rank(X) = " + std::to_string(ls->rank()) +
                            " < n = " + std::to_string(x.rows()) + ": zero loss is not reachable in general");
    }
    CertificateInputs in;
    const Vector r0 = x * theta0 - ls->targets();
    in.loss0 = 0.5 * r0.squaredNorm();
    in.residual_norm = r0.norm();
    in.sigma0 = ls->singular_values()[ls->rank() - 1];
    in.jacobian_norm = ls->singular_values()[0];
    in.lipschitz.at = [](double) { return 0.0; };
    in.lipschitz.kind = "zero (J = X is constant)";
    return certify(in);
  }
  if (const auto* net = dynamic_cast<const Mlp*>(&objective)) {
    const MlpArchitecture& arch = net->architecture();
    if (!qualifies(arch.activation)) return not_applicable(why_not_qualified(arch.activation));
    if (arch.bias) return not_applicable("the certificate's Lipschitz bounds are derived for networks without biases");
    const IndependenceReport report = independence_report(net->inputs());
    if (!report.applies) {
      return not_applicable(
          report.n > report.d ? "n = " + std::to_string(report.n) + " > d = " + std::to_string(report.d) +
                                    ": the inputs cannot be linearly independent"
                              : "rank(X) = " + std::to_string(report.rank) + " < n: the inputs are linearly dependent");
    }
    CertificateInputs in;
    const Vector r0 = net->predict(theta0) - net->targets();
    in.loss0 = 0.5 * r0.squaredNorm();
    in.residual_norm = r0.norm();
    const Eigen::SelfAdjointEigenSolver<Matrix> gram(net->gram(theta0), Eigen::EigenvaluesOnly);
    in.sigma0 = std::sqrt(std::max(gram.eigenvalues()[0], 0.0));
    in.jacobian_norm = std::sqrt(std::max(gram.eigenvalues().maxCoeff(), 0.0));
    in.lipschitz = network_lipschitz_bound(*net, theta0);
    return certify(in);
  }
  return not_applicable("problem '" + objective.name() +
                        "' has no residual structure (L = 1/2 ||r||^2); only sampled estimates are available");
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
  const double min_value = objective.known().min_value;
  Vector grad(p);
  for (int k = 0; k <= samples; ++k) {
    Vector theta = theta0;
    if (k > 0) {  // uniform in the ball
      Vector direction = random.normal_vector(p);
      direction.normalize();
      theta += radius * std::pow(random.uniform(), 1.0 / static_cast<double>(p)) * direction;
    }
    const double loss = objective.loss_and_gradient(theta, grad);
    if (loss - min_value > 0.0)
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
