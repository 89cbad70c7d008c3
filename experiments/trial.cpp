#include <gradflow/experiments/trial.hpp>

#include <gradflow/core/random.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/discrete/run_guarantee.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/theory/observables.hpp>
#include <gradflow/theory/power_iteration.hpp>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

namespace gradflow {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<CurvePoint> thin(const std::vector<CurvePoint>& points, int keep) {
  if (static_cast<int>(points.size()) <= keep) return points;
  std::vector<CurvePoint> out;
  for (int i = 0; i < keep; ++i) {
    const std::size_t index = static_cast<std::size_t>(
        std::llround(static_cast<double>(i) * static_cast<double>(points.size() - 1) / (keep - 1)));
    out.push_back(points[index]);
  }
  return out;
}

double low(double a, double b) { return std::isnan(a) ? b : (std::isnan(b) ? a : std::min(a, b)); }
double high(double a, double b) { return std::isnan(a) ? b : (std::isnan(b) ? a : std::max(a, b)); }

// Adds one recorded row's observations (eta: the step that produced it, NaN for the flow).
void add_observed(TrialObserved& o, const Observed& row, double pl_ratio, double eta) {
  ++o.rows;
  o.ntk_min = low(o.ntk_min, row.ntk_min);
  o.ntk_max = high(o.ntk_max, row.ntk_max);
  if (!std::isnan(row.ntk_min) && !std::isnan(pl_ratio)) o.pl_margin = low(o.pl_margin, pl_ratio - row.ntk_min);
  if (o.rows == 1) o.sharpness0 = row.sharpness;
  o.sharpness_max = high(o.sharpness_max, row.sharpness);
  o.sharpness_min = low(o.sharpness_min, row.sharpness_min);
  if (!std::isnan(eta) && !std::isnan(row.sharpness))
    o.eta_sharpness_max = high(o.eta_sharpness_max, eta * row.sharpness);
}

// What the trained network is: its travel, its kernel's drift, its held-out error.
void finish_trial(const Mlp& network, const TrialSpec& spec, const Vector& theta0, const Vector& theta,
                  TrialResult& r) {
  if (theta.size() != theta0.size() || !theta.allFinite()) return;
  r.travel = (theta - theta0).norm();
  if (r.certificate.applies && std::isfinite(r.certificate.radius) && r.certificate.radius > 0.0)
    r.travel_fraction = r.travel / r.certificate.radius;
  if (spec.kernel_endpoints && network.num_samples() <= tolerances::kMaxDenseGramResiduals) {
    const Matrix k0 = network.gram(theta0);
    const Matrix kt = network.gram(theta);
    const double norm0 = k0.norm();
    if (norm0 > 0.0) r.ntk_drift = (kt - k0).norm() / norm0;
    const Eigen::SelfAdjointEigenSolver<Matrix> eigen(k0, Eigen::EigenvaluesOnly);
    if (eigen.info() == Eigen::Success && eigen.eigenvalues().size() > 0) {
      const double low = eigen.eigenvalues().minCoeff(), high = eigen.eigenvalues().maxCoeff();
      r.ntk_condition0 = low > 0.0 ? high / low : kInf;
    }
  }
  if (spec.test && spec.train) r.held_out = held_out_metrics(network.architecture(), theta, *spec.train, *spec.test);
}

}  // namespace

double initial_sharpness(const Objective& objective, const Vector& theta0, std::uint64_t seed) {
  return estimate_smoothness(objective, theta0, seed, tolerances::kSampledSmoothnessIterations,
                             tolerances::kSampledSmoothnessRtol)
      .beta;
}

TrialResult run_trial(const Mlp& network, const TrialSpec& spec) {
  TrialResult r;
  const Vector theta0 = initialize(network.architecture(), spec.init);
  r.certificate = certify(network, theta0);
  // The flow's certificate here; a descent run's is its step rule's, set after the run.
  r.certified = r.certificate.applies ? (r.certificate.holds ? 1 : 0) : -1;
  if (r.certified == 1) r.certified_travel = r.certificate.travel;
  if (spec.measure_beta0 || spec.lr_c > 0.0)
    r.beta0 = initial_sharpness(network, theta0, derive_seed(spec.init.seed, 7));
  r.loss0 = network.loss(theta0);
  r.target = spec.loss_tol ? *spec.loss_tol : spec.eps * r.loss0;
  const int keep = std::max(spec.curve_points, 0);
  const double mu = r.certified == 1 ? r.certificate.mu : kNaN;
  const auto bound = [&](double t) { return r.certified == 1 ? r.loss0 * std::exp(-2.0 * mu * t) : kNaN; };  // flow
  const auto pl = [](double loss, double grad_norm) {
    return loss > 0.0 ? grad_norm * grad_norm / (2.0 * loss) : kNaN;
  };
  std::vector<CurvePoint> points;
  Vector theta_final = theta0;
  if (spec.method.is_descent()) {
    DescentOptions o = spec.descent;
    o.step = spec.method.rule();
    o.lr = spec.lr_c > 0.0 ? spec.lr_c / r.beta0 : spec.lr;
    r.lr = o.lr;
    if (spec.gamma) o.gamma = *spec.gamma;
    o.stop.max_steps = spec.max_steps;
    o.stop.loss_tol = r.target;
    o.stop.grad_tol = 0.0;
    o.save.every_steps = keep > 0 ? std::max<long>(1, spec.max_steps / keep) : spec.max_steps;
    o.seed = spec.init.seed;
    o.observe = spec.observe;
    // Edge of stability: every iteration's loss (rises and catapults), and with observe sharpness the
    // first kDenseEdgeSteps iterates observed at every step (a catapult is over in a few steps; the
    // recorded rows come every max_steps / curve_points iterations).
    std::optional<PathObserver> dense;
    if (spec.observe.sharpness) {
      Observables sharpness_only;
      sharpness_only.sharpness = true;
      dense.emplace(network, sharpness_only);
    }
    double previous_loss = kNaN, lowest = kNaN, excursion_from = kNaN, pending_sharpness = kNaN;
    std::vector<double> edge_products;  // eta_k x sharpness(theta_k), the dense ones and the recorded rows'
    const Observer watch = [&](const Row& row, ConstVectorView theta) {
      if (row.iter > 0) {
        if (row.loss > previous_loss) ++r.loss_rises;
        // A catapult: the loss climbs more than 1% above the lowest loss so far, then falls below it.
        if (std::isnan(excursion_from) && row.loss > lowest * (1.0 + kCatapultRise)) excursion_from = lowest;
        if (!std::isnan(excursion_from) && row.loss < excursion_from) {
          ++r.catapults;
          excursion_from = kNaN;
        }
        // The step taken from theta_{k-1} at theta_{k-1}'s sharpness.
        if (!std::isnan(pending_sharpness)) {
          const double product = row.step_size * pending_sharpness;
          if (row.iter == 1) r.observed.eta_sharpness0 = product;
          edge_products.push_back(product);
          r.observed.eta_sharpness_max = high(r.observed.eta_sharpness_max, product);
        }
      }
      previous_loss = row.loss;
      lowest = std::isnan(lowest) ? row.loss : std::min(lowest, row.loss);
      pending_sharpness = dense && row.iter < kDenseEdgeSteps ? dense->at(theta).sharpness : kNaN;
      return false;
    };
    const DescentResult result = descend(network, theta0, o, watch);
    theta_final = result.theta;
    // The certificate of the step that ran: the rule's guarantee with the certificate's mu and beta_r on
    // its ball B(theta0, r*) (Theorem 2 for a fixed eta), not the 1/beta_r step's whatever ran; the
    // curve's bound is then that rule's L0 q^k.
    std::optional<double> q;
    if (r.certificate.applies) {
      StepFacts facts;
      facts.mu = r.certificate.mu;
      facts.beta = r.certificate.beta;
      facts.min_value = 0.0;
      facts.loss0 = r.loss0;
      const RateGuarantee g = run_guarantee(result, facts, r.certificate.descent_radius);
      q = g.q;
      r.certified = q ? 1 : 0;
      r.certified_travel = q && g.radius ? *g.radius : kNaN;
    }
    const auto descent_bound = [&](long k) { return q ? r.loss0 * std::pow(*q, static_cast<double>(k)) : kNaN; };
    r.reached = result.status == Status::tolerance_reached && result.loss_final <= r.target;
    r.steps = result.iterations;
    r.final_loss = result.loss_final;
    r.status = result.status;
    r.stats = result.stats;
    if (r.reached) {
      r.steps_to_eps = result.iterations;
      r.time_to_eps = result.t_final;
    }
    if (!edge_products.empty()) {
      long at_edge = 0;
      for (const double x : edge_products) at_edge += x >= kEdgeOfStability ? 1 : 0;
      r.observed.edge_fraction = static_cast<double>(at_edge) / static_cast<double>(edge_products.size());
      r.observed.edge_samples = static_cast<long>(edge_products.size());
    }
    for (const Row& row : result.rows) {
      const double pl_ratio = pl(row.loss, row.grad_norm);
      if (spec.observe.any()) {
        add_observed(r.observed, row.observed, pl_ratio, row.iter == 0 ? kNaN : row.step_size);
        // The recorded rows past the dense start sample the rest of the run.
        if (row.iter > kDenseEdgeSteps && !std::isnan(row.observed.sharpness))
          edge_products.push_back(row.step_size * row.observed.sharpness);
      }
      if (keep > 0) {
        Row point = row;
        point.pl_ratio = pl_ratio;
        point.bound = descent_bound(row.iter);
        points.push_back(point);
      }
    }
  } else {
    FlowOptions o;
    o.solver = spec.method.solver();
    o.t_end = spec.t_end;
    o.rtol = spec.rtol;
    o.atol = spec.atol;
    o.stop.loss_tol = r.target;
    o.stop.max_steps = spec.max_steps;
    o.observe = spec.observe;
    const FlowResult result = simulate_flow(network, theta0, o);
    theta_final = result.theta;
    r.reached = result.status == Status::tolerance_reached && result.loss_final <= r.target;
    r.steps = result.stats.num_steps;
    r.final_loss = result.loss_final;
    r.status = result.status;
    r.stats = result.stats;
    if (r.reached) {
      r.steps_to_eps = result.stats.num_steps;
      r.time_to_eps = result.t_final;
      r.time_rtol = o.rtol;
      // The time to the target is a property of the flow, not of the solver's tolerance: repeat the run
      // with rtol and atol divided by 10 until two successive times agree to time_accuracy (relative).
      // The work (steps, evaluations) stays the first run's; the time is the most accurate one's.
      if (spec.time_accuracy > 0.0) {
        FlowOptions tight = o;
        tight.observe = {};
        tight.save.keep_rows = false;
        for (int k = 0; k < kMaxTimeTightenings; ++k) {
          tight.rtol /= 10.0;
          tight.atol /= 10.0;
          if (tight.rtol < tolerances::kMinRelativeTolerance) break;
          const FlowResult again = simulate_flow(network, theta0, tight);
          if (again.status != Status::tolerance_reached || !(again.loss_final <= r.target)) {
            r.time_change = kInf;  // the tighter run did not reach the target: the time is not settled
            break;
          }
          r.time_change = std::abs(again.t_final - r.time_to_eps) / again.t_final;
          r.time_to_eps = again.t_final;
          r.time_rtol = tight.rtol;
          if (r.time_change <= spec.time_accuracy) break;
        }
      }
    }
    long step = 0;  // rows are recorded at every accepted step
    for (const Row& row : result.rows) {
      const double pl_ratio = pl(row.loss, row.grad_norm);
      if (spec.observe.any()) add_observed(r.observed, row.observed, pl_ratio, kNaN);
      if (keep > 0) {
        Row point = row;
        point.iter = step;
        point.pl_ratio = pl_ratio;
        point.bound = bound(row.t);
        points.push_back(point);
      }
      ++step;
    }
  }
  if (keep > 0) r.curve = thin(points, keep);
  finish_trial(network, spec, theta0, theta_final, r);
  return r;
}

}  // namespace gradflow
