// The cancellation check (core/cancellation.hpp): descent, every back end of the flow and the grids of
// runs stop when it asks, with Status::interrupted and the last accepted state; the certificate's
// Lipschitz bound of a deep network throws Cancelled between two of its layers.
#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/function_objective.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/compare_inits.hpp>
#include <gradflow/experiments/probability.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/theory/certificate.hpp>

#include "mlp_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>

using namespace gradflow;
using gradflow::test::mlp_architecture;

namespace {

// The checks of these tests: true from the (limit + 1)-th call on, or once stop_now is set.
std::atomic<long> polls{0};
std::atomic<long> limit{0};
std::atomic<bool> stop_now{false};
bool stop_after_limit() { return polls.fetch_add(1) + 1 > limit.load(); }
bool stop_when_told() { return stop_now.load(); }

// Installs a check for a test (interval 0: called at every poll) and removes it after.
struct InstalledCheck {
  explicit InstalledCheck(long n, std::chrono::nanoseconds interval = std::chrono::nanoseconds(0)) {
    polls = 0;
    limit = n;
    set_cancellation_check(&stop_after_limit, interval);
  }
  explicit InstalledCheck(CancellationCheck check) {
    stop_now = false;
    set_cancellation_check(check, std::chrono::nanoseconds(0));
  }
  ~InstalledCheck() { set_cancellation_check(nullptr); }
  InstalledCheck(const InstalledCheck&) = delete;
  InstalledCheck& operator=(const InstalledCheck&) = delete;
};

// L = 1/2 ||theta||^2: descent with lr 1/2 halves theta exactly; the flow is theta0 exp(-t).
FunctionObjective half_square() {
  auto f = FunctionObjective(3, [](ConstVectorView x, VectorView g) {
             g = x;
             return 0.5 * x.squaredNorm();
           }).with_known({.min_value = 0.0, .mu = 1.0});
  f.with_hessian_vector([](ConstVectorView, ConstVectorView v, VectorView hv) { hv = v; });
  return f;
}

const Vector kTheta0{{1.0, -2.0, 0.5}};

}  // namespace

TEST_CASE("Without a cancellation check nothing is cancelled, and interrupted is a named failure", "[cancellation]") {
  set_cancellation_check(nullptr);
  CHECK(cancellation_check() == nullptr);
  CHECK_FALSE(cancellation_requested());
  CHECK(to_string(Status::interrupted) == "interrupted");
  CHECK(status_from_string("interrupted") == Status::interrupted);
  CHECK_FALSE(succeeded(Status::interrupted));
  DescentOptions options;
  options.lr = 0.5;
  options.stop.max_steps = 50;
  CHECK(descend(half_square(), kTheta0, options).status == Status::reached_max_iters);
}

TEST_CASE("The cancellation check ends descent with interrupted at the iteration it asked, keeping the last iterate",
          "[cancellation]") {
  const long n = 5;
  const InstalledCheck installed(n);
  DescentOptions options;
  options.lr = 0.5;
  options.stop.max_steps = 100000;
  const DescentResult r = descend(half_square(), kTheta0, options);
  CHECK(polls == n + 1);  // polled once per iteration, and not again once it said stop
  REQUIRE(r.status == Status::interrupted);
  CHECK_FALSE(r.succeeded());
  CHECK(r.message.find("interrupted at iteration 6") != std::string::npos);
  CHECK(r.iterations == n + 1);
  CHECK(r.stats.num_steps == n + 1);
  CHECK((r.theta - kTheta0 * std::pow(0.5, n + 1)).norm() == 0.0);  // halving is exact
  CHECK(r.loss_final == 0.5 * r.theta.squaredNorm());
  // Every iterate is a row (save every 1), the last one the final state.
  REQUIRE(r.rows.size() == static_cast<std::size_t>(n + 2));
  CHECK(r.rows.back().iter == n + 1);
  CHECK(r.rows.back().loss == r.loss_final);
  CHECK(r.rows.back().t == r.t_final);
}

TEST_CASE("The cancellation check ends every back end of the flow with interrupted after the step it asked",
          "[cancellation]") {
  const long n = 3;
  for (const std::string& solver_name : solver_names()) {
    for (const bool every_step : {true, false}) {
      CAPTURE(solver_name, every_step);
      const auto solver = solver_from_string(solver_name);
      REQUIRE(solver);
      FlowOptions options;
      options.solver = *solver;
      options.t_end = 1000.0;
      options.dt = 0.01;
      // Rows on a time grid instead: CVODE then leaves the end points unevaluated until the run ends.
      if (!every_step) options.save.every_t = 100.0;
      const InstalledCheck installed(n);
      const FlowResult r = simulate_flow(half_square(), kTheta0, options);
      CHECK(polls == n + 1);
      REQUIRE(r.status == Status::interrupted);
      CHECK(r.message.find("interrupted at t = ") != std::string::npos);
      CHECK(r.stats.num_steps == n + 1);
      CHECK(r.t_final > 0.0);
      CHECK(r.t_final < options.t_end);
      if (*solver == Solver::euler || *solver == Solver::rk4) CHECK(r.t_final == Approx((n + 1) * options.dt));
      // The last accepted state, on the exact flow, with its loss; the final row is that state.
      CHECK((r.theta - kTheta0 * std::exp(-r.t_final)).norm() <= 1e-2 * kTheta0.norm());
      CHECK(r.loss_final == Approx(0.5 * r.theta.squaredNorm()));
      REQUIRE_FALSE(r.rows.empty());
      CHECK(r.rows.back().t == r.t_final);
      CHECK(r.rows.back().loss == r.loss_final);
      if (every_step) CHECK(r.rows.size() == static_cast<std::size_t>(n + 2));
    }
  }
}

TEST_CASE("The cancellation check is called at most once per interval on a thread", "[cancellation]") {
  const InstalledCheck installed(1000000, std::chrono::hours(1));
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(cancellation_requested());
  CHECK(polls <= 1);
}

TEST_CASE("A cancellation group stops all its members once one of them polls true", "[cancellation]") {
  const InstalledCheck installed(1000000);
  CancellationGroup group;
  bool member_sees = false, outsider_sees = true;
  {
    const CancellationGroup::Member member(group);
    CHECK_FALSE(cancellation_requested());
    group.cancel();
    std::thread outsider([&] { outsider_sees = cancellation_requested(); });
    outsider.join();
    member_sees = cancellation_requested();
  }
  CHECK(member_sees);
  CHECK_FALSE(outsider_sees);
  CHECK_FALSE(cancellation_requested());  // no longer a member
}

TEST_CASE("The cancellation check stops a grid of runs inside a run and between runs, keeping the finished ones",
          "[cancellation]") {
  CompareInitsSpec compare;
  compare.inits = {InitScheme::xavier_normal, InitScheme::lecun_normal};
  compare.widths = {4};
  compare.seeds = 3;
  compare.eps = 1e-14;
  compare.max_steps = 3000;
  const SweepSpec sweep = compare.to_sweep();
  const std::vector<RunSpec> runs = enumerate_runs(sweep);
  REQUIRE(runs.size() == 6);
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    std::mutex mutex;
    long finished = 0;
    const auto count = [&](const RunRecord& record, const std::vector<CurvePoint>&) {
      const std::lock_guard<std::mutex> lock(mutex);
      CHECK(record.status != "interrupted");
      ++finished;
      stop_now = true;
    };
    {
      // True at the third poll: the first run stops at its second iteration (or none starts), and is
      // dropped with the runs not started.
      const InstalledCheck installed(2L);
      const std::vector<RunRecord> records = run_grid(runs, sweep, threads, count);
      CHECK(records.empty());
      CHECK(finished == 0);
    }
    {
      // True once a run has finished: on one thread no other starts; on two the other run in progress
      // stops or finishes. The finished ones are kept, in the order of runs.
      const InstalledCheck installed(&stop_when_told);
      const std::vector<RunRecord> records = run_grid(runs, sweep, threads, count);
      CHECK(static_cast<long>(records.size()) == finished);
      CHECK(!records.empty());
      CHECK(records.size() <= static_cast<std::size_t>(threads));
      for (const RunRecord& r : records) CHECK(r.status != "interrupted");
      if (threads == 1) CHECK(records.front().run.key() == runs.front().key());
    }
  }
  // Without a check, the same grid runs whole.
  CompareInitsSpec small = compare;
  small.max_steps = 10;
  const SweepSpec quick = small.to_sweep();
  CHECK(run_grid(enumerate_runs(quick), quick, 2, {}).size() == 6);
}

TEST_CASE("The cancellation check stops the probability estimate, whose counts are then the finished draws'",
          "[cancellation]") {
  const NetworkData data = synthetic_data(5, 10, 91);
  MlpArchitecture arch;
  arch.input_dim = 10;
  arch.widths = {8};
  const Mlp network(arch, data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  ProbabilityOptions o;
  o.draws = 8;
  o.steps = 100000;
  o.eps = 1e-12;
  o.threads = 2;
  const InstalledCheck installed(0L);  // true at once: no draw starts
  const ProbabilityResult r = estimate_probability(network, init, o);
  CHECK(r.status == Status::interrupted);
  CHECK(r.draws.empty());
  CHECK(r.certified == 0);
  CHECK(r.reached == 0);
  CHECK(r.message.find("interrupted after 0 of 8 draws") != std::string::npos);
}

TEST_CASE("A deep network's Lipschitz bound polls at every layer and throws Cancelled when told to stop",
          "[cancellation]") {
  // Five samples, four hidden layers (depth 5): one evaluation polls at each of its 5 x 4 layer steps.
  const NetworkData data = synthetic_data(5, 8, 31);
  const MlpArchitecture arch = mlp_architecture(8, {3, 3, 3, 3});
  const Mlp network(arch, data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::positive;
  init.output_scale = 2.0;
  const Vector theta0 = initialize(arch, init);
  set_cancellation_check(nullptr);
  const double unchecked = network.jacobian_lipschitz_bound(theta0)->at(0.5);
  {
    const InstalledCheck check(1000);
    CHECK(network.jacobian_lipschitz_bound(theta0)->at(0.5) == unchecked);  // polling does not change it
    CHECK(polls.load() == 5 * 4);
  }
  {
    const InstalledCheck check(7);  // stops in the second sample
    CHECK_THROWS_AS(network.jacobian_lipschitz_bound(theta0)->at(0.5), Cancelled);
    CHECK(polls.load() == 8);
  }
  {
    const InstalledCheck check(0L);
    CHECK_THROWS_AS(certify(network, theta0), Cancelled);
  }
}
