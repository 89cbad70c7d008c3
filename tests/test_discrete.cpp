// discrete/: gradient descent with each step-size rule against docs/theory.md §2 and §3 (oracles §7.3,
// §7.4, §7.6, §7.10, §7.11, §7.13, §7.14, §7.20 to §7.22): closed forms, contraction factors,
// containment radii, the Polyak cycle, the Armijo step floor, agreement with the flow, divergence, and
// no allocation per step.
#include <gradflow/core/random.hpp>
#include <gradflow/discrete/armijo_step.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/discrete/fixed_step.hpp>
#include <gradflow/discrete/inverse_smoothness_step.hpp>
#include <gradflow/discrete/polyak_step.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/karimi.hpp>
#include <gradflow/problems/least_squares.hpp>
#include <gradflow/problems/quadratic.hpp>
#include <gradflow/theory/power_iteration.hpp>
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>

using namespace gradflow;
using gradflow::test::relative_error;

// Counts heap allocations in this test program, to check that a descent step allocates nothing.
// AddressSanitizer owns operator new and reports a replacement as an allocation mismatch, so the
// count (and the test that uses it) exists only in builds without it.
#if defined(__SANITIZE_ADDRESS__)
#define GRADFLOW_COUNT_ALLOCATIONS 0
#else
#define GRADFLOW_COUNT_ALLOCATIONS 1
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

Quadratic small_quadratic() {
  Vector lambda(6);
  lambda << 0.1, 0.3, 0.7, 1.2, 1.6, 2.0;  // mu = 0.1, beta = 2
  return Quadratic(test::spd_matrix(lambda, 81), Random(82).normal_vector(6));
}

LeastSquares wide_least_squares() {
  Random random(83);
  return LeastSquares(random.normal_matrix(5, 12), random.normal_vector(5));
}

DescentOptions fixed(double eta, long iters) {
  DescentOptions o;
  o.step = StepRule::fixed;
  o.lr = eta;
  o.stop.max_steps = iters;
  return o;
}

// Hides what a quadratic knows about itself, so that beta must be estimated.
class UnknownConstants final : public Objective {
 public:
  explicit UnknownConstants(const Objective& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  Eigen::Index dimension() const override { return inner_.dimension(); }
  double loss(const ConstVectorView& x) const override { return inner_.loss(x); }
  double loss_and_gradient(const ConstVectorView& x, VectorView g) const override {
    return inner_.loss_and_gradient(x, g);
  }
  void hessian_vector(const ConstVectorView& x, const ConstVectorView& v, VectorView hv) const override {
    inner_.hessian_vector(x, v, hv);
  }
  bool has_exact_hessian_vector() const override { return true; }

 private:
  const Objective& inner_;
};

}  // namespace

TEST_CASE("Fixed-step descent on a quadratic equals (I - hA)^k e0 (docs/theory.md §7.3)", "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(84).normal_vector(6);
  for (const long k : {1L, 10L, 200L}) {
    const DescentResult r = descend(q, theta0, fixed(0.4, k));
    REQUIRE(r.status == Status::reached_max_iters);
    CHECK(r.iterations == k);
    Vector e = theta0 - q.theta_star();
    const Matrix step = Matrix::Identity(6, 6) - 0.4 * q.matrix();
    for (long i = 0; i < k; ++i) e = step * e;
    CHECK(relative_error(r.theta - q.theta_star(), e) <= 100.0 * k * 2.220446049250313e-16);
    CHECK(r.t_final == Approx(0.4 * k).epsilon(1e-14));
    CHECK(r.stats.num_gradient_evals == k + 1);
    CHECK(r.stats.num_loss_evals == 0);
  }
}

TEST_CASE(
    "The flow's euler with dt = eta gives the fixed-step iterates and descent converges to the flow at first order "
    "(docs/theory.md §7.4)",
    "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(85).normal_vector(6);
  FlowOptions euler;
  euler.solver = Solver::euler;
  euler.dt = 0.25;
  euler.t_end = 40 * 0.25;
  const FlowResult flow = simulate_flow(q, theta0, euler);
  const DescentResult gd = descend(q, theta0, fixed(0.25, 40));
  REQUIRE(flow.status == Status::reached_end_time);
  REQUIRE(gd.status == Status::reached_max_iters);
  CHECK((flow.theta - gd.theta).cwiseAbs().maxCoeff() == 0.0);
  REQUIRE(flow.rows.size() == gd.rows.size());
  for (std::size_t k = 0; k < gd.rows.size(); ++k) CHECK(flow.rows[k].loss == gd.rows[k].loss);

  const Vector exact = q.exact_flow(theta0, 1.0);
  std::vector<double> errors;
  for (int j = 0; j <= 3; ++j) {
    const double h = 0.1 / std::pow(2.0, j);
    const DescentResult r = descend(q, theta0, fixed(h, std::lround(1.0 / h)));
    errors.push_back((r.theta - exact).norm());
  }
  for (int j = 0; j < 3; ++j) {
    const double order = std::log2(errors[j] / errors[j + 1]);
    INFO("j = " << j << ", observed order " << order);
    CHECK(order >= 0.9);
    CHECK(order <= 1.1);
  }
}

TEST_CASE("Fixed steps contract by q(eta) = 1 - mu eta (2 - beta eta) per iteration (docs/theory.md §7.6)",
          "[discrete]") {
  const Quadratic q = small_quadratic();
  const LeastSquares ls = wide_least_squares();
  const Karimi karimi(3);
  Vector karimi_start(3);
  karimi_start << 2.2, -1.3, 0.4;
  const std::vector<std::pair<const Objective*, Vector>> cases{
      {&q, Random(86).normal_vector(6)}, {&ls, Random(87).normal_vector(12)}, {&karimi, karimi_start}};
  for (const auto& [f, theta0] : cases) {
    const double mu = *f->known().mu, beta = *f->known().beta;
    for (const double eta_beta : {0.1, 0.5, 1.0, 1.5, 1.9}) {
      const double eta = eta_beta / beta;
      const DescentResult r = descend(*f, theta0, fixed(eta, 300));
      INFO(f->name() << ", eta beta = " << eta_beta << ": " << r.message);
      REQUIRE(r.succeeded());  // the budget, or (Karimi at eta = 1/beta) an exact zero gradient
      const double qf = 1.0 - mu * eta * (2.0 - beta * eta);
      REQUIRE(r.guarantee.q);
      CHECK(*r.guarantee.q == Approx(qf).epsilon(1e-15));
      CHECK(r.bound_holds == true);
      const double min_value = *f->known().min_value;
      const double floor = 64 * 2.2e-16 * r.loss0;  // roundoff floor, needed near L ~ 1e-23
      for (std::size_t k = 1; k < r.rows.size(); ++k) {
        CHECK(r.rows[k].loss - min_value <= qf * (r.rows[k - 1].loss - min_value) + floor);
        CHECK(r.rows[k].bound == Approx(min_value + std::pow(qf, static_cast<double>(k)) * (r.loss0 - min_value))
                                     .epsilon(1e-9)
                                     .margin(1e-300));
      }
    }
  }
}

TEST_CASE("The descent path stays within rho_eta = rho0 / (1 - beta eta / 2) (docs/theory.md §7.10)", "[discrete]") {
  const LeastSquares ls = wide_least_squares();
  const Karimi karimi(2);
  Vector karimi_start(2);
  karimi_start << 2.5, -3.0;
  const std::vector<std::pair<const Objective*, Vector>> cases{{&ls, Random(88).normal_vector(12)},
                                                               {&karimi, karimi_start}};
  for (const auto& [f, theta0] : cases) {
    const double mu = *f->known().mu, beta = *f->known().beta;
    for (const double eta_beta : {0.05, 0.3, 1.0, 1.7, 1.99}) {
      const double eta = eta_beta / beta;
      const DescentResult r = descend(*f, theta0, fixed(eta, 3000));
      const double rho_eta = std::sqrt(2 * (r.loss0 - *f->known().min_value) / mu) / (1 - beta * eta / 2);
      INFO(f->name() << ", eta beta = " << eta_beta);
      REQUIRE(r.guarantee.radius);
      CHECK(*r.guarantee.radius == Approx(rho_eta).epsilon(1e-14));
      CHECK(r.path_length <= rho_eta);
      CHECK(r.radius_holds == true);
      for (const Row& row : r.rows) CHECK(row.dist_from_init <= rho_eta);
    }
  }
}

TEST_CASE(
    "||theta_k - theta_inf|| <= sqrt(2 L_k / mu) / (1 - beta eta / 2) above the roundoff floor (docs/theory.md §7.11)",
    "[discrete]") {
  const LeastSquares ls = wide_least_squares();
  const Vector theta0 = Random(89).normal_vector(12);
  const double mu = *ls.known().mu, beta = *ls.known().beta;
  for (const double eta_beta : {0.2, 1.0, 1.8}) {
    const double eta = eta_beta / beta;
    const DescentResult r = descend(ls, theta0, fixed(eta, 20000));
    const Vector theta_inf = r.theta;
    // The library's iterates are theta - eta g (checked bit for bit against the flow's euler above);
    // replay them to see theta_k.
    Vector theta = theta0, g(12);
    for (int k = 0; k < 400; ++k) {
      const double loss = ls.loss_and_gradient(theta, g);
      if (loss < 1e-20) break;  // the roundoff floor
      INFO("eta beta = " << eta_beta << ", k = " << k);
      CHECK((theta - theta_inf).norm() <= std::sqrt(2 * loss / mu) / (1 - beta * eta / 2) * (1 + 1e-9));
      theta -= eta * g;
    }
  }
}

TEST_CASE(
    "Polyak with gamma = 1 on x^2 + 3 sin^2 x from 2.2 falls into the 2-cycle at f = 6.802470 (docs/theory.md §7.13)",
    "[discrete]") {
  const Karimi f(1);
  const Vector x0 = Vector::Constant(1, 2.2);
  DescentOptions o;
  o.step = StepRule::polyak;
  o.gamma = 1.0;
  o.stop.max_steps = 10000;
  const DescentResult r = descend(f, x0, o);
  REQUIRE(r.status == Status::reached_max_iters);
  CHECK(r.loss_final == Approx(6.802470).margin(1e-5));
  CHECK(std::abs(r.theta[0]) == Approx(2.200952).margin(1e-5));
  // gamma = 1 >= 4 mu / beta = 1/64: no guarantee is claimed.
  CHECK_FALSE(r.guarantee.q);
  CHECK_FALSE(r.bound_holds);
  o.gamma = 1.5;
  o.stop.max_steps = 1;
  CHECK(descend(f, x0, o).loss_final > 22.0);
}

TEST_CASE("Polyak's default gamma = 2 mu / beta contracts by 1 - mu / beta (docs/theory.md §7.20)", "[discrete]") {
  const Quadratic q = small_quadratic();
  DescentOptions o;
  o.step = StepRule::polyak;
  o.stop.max_steps = 500;
  const DescentResult r = descend(q, Random(90).normal_vector(6), o);
  REQUIRE(r.gamma);
  CHECK(*r.gamma == Approx(2 * 0.1 / 2.0));
  REQUIRE(r.guarantee.q);
  CHECK(*r.guarantee.q == Approx(1 - 0.1 / 2.0));
  CHECK(r.bound_holds == true);
  CHECK_FALSE(r.guarantee.radius);
}

TEST_CASE("Armijo steps stay above eta_min and contract by 1 - 2 c mu eta_min within rho0 / c (docs/theory.md §7.14)",
          "[discrete]") {
  const Karimi karimi(3);
  Vector theta0(3);
  theta0 << 2.9, -1.7, 0.8;
  const LeastSquares ls = wide_least_squares();
  const std::vector<std::pair<const Objective*, Vector>> cases{{&karimi, theta0}, {&ls, Random(91).normal_vector(12)}};
  for (const auto& [f, start] : cases) {
    for (const auto& [eta_bar, b, c] :
         {std::tuple{1.0, 0.5, 0.5}, std::tuple{10.0, 0.3, 0.1}, std::tuple{0.05, 0.5, 0.9}}) {
      DescentOptions o;
      o.step = StepRule::armijo;
      o.lr = eta_bar;
      o.armijo_b = b;
      o.armijo_c = c;
      o.stop.max_steps = 500;
      const DescentResult r = descend(*f, start, o);
      INFO(f->name() << " eta_bar " << eta_bar << " b " << b << " c " << c << ": " << r.message);
      REQUIRE(r.succeeded());
      const double mu = *f->known().mu, beta = *f->known().beta;
      const double eta_min = std::min(eta_bar, 2 * b * (1 - c) / beta);
      const double qa = 1 - 2 * c * mu * eta_min;
      REQUIRE(r.guarantee.q);
      CHECK(*r.guarantee.q == Approx(qa));
      const double floor = 64 * 2.2e-16 * r.loss0;
      const double min_value = *f->known().min_value;
      for (std::size_t k = 1; k < r.rows.size(); ++k) {
        // Above the roundoff floor (at L ~ 1e-30 rounding can make a tiny step pass the test).
        if (r.rows[k - 1].loss - min_value > 1e-20 * r.loss0) CHECK(r.rows[k].step_size >= eta_min * (1 - 1e-12));
        CHECK(r.rows[k].loss - min_value <= qa * (r.rows[k - 1].loss - min_value) + floor);
      }
      const double rho0 = std::sqrt(2 * (r.loss0 - min_value) / mu);
      CHECK(r.path_length <= rho0 / c);
      CHECK(r.radius_holds == true);
      CHECK(r.stats.num_loss_evals >= r.iterations);
    }
  }
}

TEST_CASE("A fixed step above 2/beta diverges on a quadratic and is reported with the step size (docs/theory.md §7.21)",
          "[discrete]") {
  const Quadratic q = small_quadratic();  // beta = 2
  const Vector theta0 = Random(92).normal_vector(6);
  const DescentResult r = descend(q, theta0, fixed(1.05, 100000));
  CHECK(r.status == Status::diverged);
  CHECK_FALSE(r.succeeded());
  CHECK_THAT(r.message, Catch::Contains("eta = 1.05"));
  CHECK(r.theta.allFinite());
  CHECK(std::isfinite(r.loss_final));
  CHECK(r.loss_final <= 1e10 * r.loss0);
  CHECK_FALSE(r.guarantee.q);  // eta beta >= 2: no guarantee was claimed
}

TEST_CASE(
    "inverse-smoothness uses the exact beta and otherwise a power-iteration estimate labelled as such (docs/theory.md "
    "§7.22)",
    "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(93).normal_vector(6);
  DescentOptions o;
  o.step = StepRule::inverse_smoothness;
  o.stop.max_steps = 50;
  DescentResult r = descend(q, theta0, o);
  REQUIRE(r.step_size);
  CHECK(*r.step_size == Approx(0.5).epsilon(1e-14));
  CHECK_FALSE(r.facts.beta_estimated);
  CHECK(*r.guarantee.q == Approx(1 - 0.1 / 2.0));
  const UnknownConstants hidden(q);
  o.mu = 0.1;
  r = descend(hidden, theta0, o);
  REQUIRE(r.facts.beta);
  CHECK(r.facts.beta_estimated);
  CHECK(*r.facts.beta == Approx(2.0).epsilon(1e-6));
  CHECK_THAT(r.guarantee.note, Catch::Contains("estimate"));
  CHECK(r.stats.num_hessian_vector_evals > 0);
  CHECK(estimate_smoothness(q, theta0, 1).converged);
}

TEST_CASE("Descent stops at the tolerance or the iteration budget and validates its options", "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(94).normal_vector(6);
  DescentOptions o = fixed(0.5, 100000);
  o.stop.loss_tol = 1e-12;
  DescentResult r = descend(q, theta0, o);
  CHECK(r.status == Status::tolerance_reached);
  CHECK(r.loss_final <= 1e-12);
  CHECK(r.rows[r.rows.size() - 2].loss > 1e-12);  // the iterate before did not meet it
  o.stop.max_steps = 3;
  r = descend(q, theta0, o);
  CHECK(r.status == Status::max_steps);
  CHECK(r.iterations == 3);
  o = fixed(0.5, 10);
  o.save.every_steps = 4;
  r = descend(q, theta0, o);
  REQUIRE(r.rows.size() == 4);  // iterations 0, 4, 8 and the last, 10
  CHECK(r.rows[1].iter == 4);
  CHECK(r.rows.back().iter == 10);
  CHECK(r.rows.back().t == Approx(5.0));
  const auto message_for = [&](auto&& change) {
    DescentOptions bad;
    change(bad);
    const DescentResult result = descend(q, theta0, bad);
    CHECK(result.status == Status::invalid_options);
    CHECK(result.stats.num_gradient_evals == 0);
    return result.message;
  };
  CHECK_THAT(message_for([](DescentOptions& d) { d.lr = 0; }), Catch::StartsWith("lr = 0"));
  CHECK_THAT(message_for([](DescentOptions& d) { d.gamma = -1.0; }), Catch::StartsWith("gamma = -1"));
  CHECK_THAT(message_for([](DescentOptions& d) { d.armijo_b = 1.0; }), Catch::StartsWith("armijo_b = 1"));
  CHECK_THAT(message_for([](DescentOptions& d) { d.armijo_c = 0.0; }), Catch::StartsWith("armijo_c = 0"));
  CHECK_THAT(message_for([](DescentOptions& d) { d.stop.max_steps = 0; }), Catch::StartsWith("stop.max_steps = 0"));
  CHECK_THAT(message_for([](DescentOptions& d) { d.save.every_steps = 0; }), Catch::StartsWith("save.every_steps = 0"));
  CHECK_THAT(message_for([](DescentOptions& d) { d.divergence_factor = 1.0; }),
             Catch::StartsWith("divergence_factor = 1"));
  CHECK_THROWS_AS(descend(q, Vector::Ones(3), DescentOptions{}), std::invalid_argument);
  CHECK(step_rule_from_string(to_string(StepRule::inverse_smoothness)) == StepRule::inverse_smoothness);
}

TEST_CASE("DescentResult's brief report is one line with status, rule and iterations, the full one adds the verdicts",
          "[discrete]") {
  const Quadratic q = small_quadratic();  // mu = 0.1, beta = 2
  const Vector theta0 = Random(95).normal_vector(6);
  DescentResult r = descend(q, theta0, fixed(0.5, 37));
  REQUIRE(r.status == Status::reached_max_iters);
  REQUIRE(r.bound_holds == true);
  REQUIRE(r.radius_holds == true);
  const std::string brief = r.brief_report();
  CHECK(brief.find('\n') == std::string::npos);
  CHECK_THAT(brief, Catch::StartsWith("reached_max_iters: fixed on ") && Catch::Contains("37 iterations") &&
                        Catch::Contains("38 gradient evals") && Catch::Contains("0 loss evals"));
  std::string full = r.full_report();
  CHECK_THAT(full, Catch::StartsWith("status          reached_max_iters") && Catch::Contains("iterations      37") &&
                       Catch::Contains("rate bound") && Catch::Contains(": holds") && Catch::Contains("radius") &&
                       Catch::Contains("38 gradient, 0 loss, 0 Hessian-vector") && Catch::Contains("wall time"));
  CHECK_FALSE(Catch::Contains("VIOLATED").match(full));
  // A mu ten times too large claims a contraction the run cannot meet.
  DescentOptions o = fixed(0.5, 37);
  o.mu = 1.0;
  r = descend(q, theta0, o);
  REQUIRE(r.bound_holds == false);
  full = r.full_report();
  CHECK_THAT(full,
             Catch::Contains("VIOLATED (first at iteration " + std::to_string(*r.first_bound_violation_iter) + ")"));
  o.stop.max_steps = 3;
  o.stop.loss_tol = 1e-30;
  r = descend(q, theta0, o);
  REQUIRE(r.status == Status::max_steps);
  CHECK_THAT(r.brief_report(), Catch::StartsWith("max_steps: fixed on ") && Catch::Contains("3 iterations"));
}

TEST_CASE("A descent step allocates nothing", "[discrete]") {
#if !GRADFLOW_COUNT_ALLOCATIONS
  WARN("not checked under AddressSanitizer (it owns operator new); the release and debug builds check it");
  return;
#else
  const Quadratic q = Quadratic::generated(50, 100, 1);
  const LeastSquares ls = wide_least_squares();
  for (const Objective* f : {static_cast<const Objective*>(&q), static_cast<const Objective*>(&ls)}) {
    for (const StepRule rule : {StepRule::fixed, StepRule::polyak, StepRule::armijo}) {
      const Vector theta0 = Vector::Ones(f->dimension());
      const auto allocations_for = [&](long iterations) {
        DescentOptions o = fixed(0.01, iterations);
        o.step = rule;
        o.gamma = 0.01;
        o.save.every_steps = 1000000;
        const long before = g_allocations.load();
        const DescentResult r = descend(*f, theta0, o);
        REQUIRE(r.iterations == iterations);
        return g_allocations.load() - before;
      };
      INFO(f->name() << " " << to_string(rule));
      CHECK(allocations_for(2000) == allocations_for(1000));  // same-length messages: only the steps differ
    }
  }
#endif
}

namespace {

// A step rule of one's own: a step-decay schedule eta_k = eta0 * factor^floor(k / every), written only
// against the StepRule concept (discrete/step_rule.hpp). It claims no guarantee.
struct StepDecay {
  double eta0;
  double factor;
  long every;
  std::string name() const { return "step-decay"; }
  StepProposal propose(const StepInput& in, Vector& /*trial*/) const {
    return {eta0 * std::pow(factor, static_cast<double>(in.iter / every)), false, 0.0, 0};
  }
  RateGuarantee guarantee(const StepFacts&) const { return {{}, {}, "a schedule: no guarantee"}; }
};

// A rule without name() and with a mutable state: it counts its calls.
struct Counting {
  double eta;
  long calls = 0;
  StepProposal propose(const StepInput&, Vector&) {
    ++calls;
    return {eta, false, 0.0, 0};
  }
  RateGuarantee guarantee(const StepFacts&) const { return {}; }
};

static_assert(StepSizeRule<FixedStep> && StepSizeRule<InverseSmoothnessStep> && StepSizeRule<PolyakStep> &&
              StepSizeRule<ArmijoStep> && StepSizeRule<StepDecay> && StepSizeRule<Counting>);
static_assert(!StepSizeRule<int> && !StepSizeRule<DescentOptions>);

}  // namespace

TEST_CASE("A custom step rule runs through descend<Rule> without touching the library (docs/theory.md §7.35)",
          "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(96).normal_vector(6);
  DescentOptions o;
  o.stop.max_steps = 60;
  const DescentResult r = descend(q, theta0, StepDecay{0.8, 0.5, 20}, o);
  REQUIRE(r.status == Status::reached_max_iters);
  CHECK(r.rule == "step-decay");
  CHECK_THAT(r.brief_report(), Catch::StartsWith("reached_max_iters: step-decay on "));
  CHECK_FALSE(r.guarantee.q);
  CHECK(r.guarantee.note == "a schedule: no guarantee");
  // Every iterate is theta_k - eta_k grad L(theta_k) with the schedule's eta_k, computed here.
  Vector theta = theta0, g(6);
  for (long k = 0; k < 60; ++k) {
    const double eta = 0.8 * std::pow(0.5, static_cast<double>(k / 20));
    CHECK(r.rows[static_cast<std::size_t>(k + 1)].step_size == eta);
    q.loss_and_gradient(theta, g);
    theta = theta - eta * g;
  }
  CHECK(r.theta == theta);
  CHECK(r.t_final == Approx(20 * (0.8 + 0.4 + 0.2)).epsilon(1e-14));
  // With factor 1 it is the built-in fixed step, bit for bit; the built-in rules through the template
  // give what descend(options) gives.
  CHECK(descend(q, theta0, StepDecay{0.8, 1.0, 20}, o).theta == descend(q, theta0, fixed(0.8, 60)).theta);
  DescentOptions armijo = fixed(1.0, 60);
  armijo.step = StepRule::armijo;
  const DescentResult by_options = descend(q, theta0, armijo);
  const DescentResult by_template = descend(q, theta0, ArmijoStep{1.0, 0.5, 0.5}, armijo);
  CHECK(by_template.theta == by_options.theta);
  CHECK(by_template.stats.num_loss_evals == by_options.stats.num_loss_evals);
  CHECK(*by_template.guarantee.q == *by_options.guarantee.q);
  CHECK(by_template.rule == "armijo");
  // A rule with state and without a name.
  const DescentResult counted = descend(q, theta0, Counting{0.5}, fixed(0.5, 9));
  CHECK(counted.rule == "custom");
  CHECK(counted.theta == descend(q, theta0, fixed(0.5, 9)).theta);
}

TEST_CASE("A descent row's pl_ratio is ||g||^2 / (2 (L - L_min)) and at least mu on a quadratic", "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(97).normal_vector(6);
  const DescentResult r = descend(q, theta0, fixed(0.5, 30));
  for (const Row& row : r.rows) {
    CHECK(row.pl_ratio == Approx(row.grad_norm * row.grad_norm / (2 * row.loss)).epsilon(1e-13));
    CHECK(row.pl_ratio >= 0.1 * (1 - 1e-12));
  }
}

TEST_CASE("Descent events are checked at the iterates: a terminal one stops at the first iterate past it",
          "[discrete]") {
  const Quadratic q = small_quadratic();
  const Vector theta0 = Random(98).normal_vector(6);
  const DescentResult plain = descend(q, theta0, fixed(0.5, 200));
  const double level = 1e-3 * plain.loss0;
  long first = -1;
  for (const Row& row : plain.rows) {
    if (first < 0 && row.loss <= level) first = row.iter;
  }
  REQUIRE(first > 0);
  DescentOptions o = fixed(0.5, 200);
  o.events = {
      Event{"level", [level](double, ConstVectorView, const Row& row) { return row.loss - level; }, -1, true},
      Event{"never rises", [level](double, ConstVectorView, const Row& row) { return row.loss - level; }, +1, false}};
  const DescentResult r = descend(q, theta0, o);
  REQUIRE(r.status == Status::event_stop);
  CHECK(r.succeeded());
  CHECK(r.iterations == first);
  REQUIRE(r.event_hits.size() == 1);
  CHECK(r.event_hits[0].name == "level");
  CHECK(r.event_hits[0].event == 0);
  CHECK(r.event_hits[0].iter == first);
  CHECK(r.event_hits[0].theta == r.theta);
  CHECK(r.rows.back().iter == first);
  CHECK_THAT(r.message, Catch::Contains("level") && Catch::Contains(std::to_string(first)));
  // Non-terminal: recorded, and the run goes on to its budget.
  o.events[0].terminal = false;
  const DescentResult goes_on = descend(q, theta0, o);
  CHECK(goes_on.status == Status::reached_max_iters);
  REQUIRE(goes_on.event_hits.size() == 1);
  CHECK(goes_on.event_hits[0].iter == first);
  CHECK(goes_on.theta == plain.theta);
}
