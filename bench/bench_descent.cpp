// Microbenchmarks of gradient descent (Google Benchmark): the cost of one descent step against the
// cost of one gradient evaluation, measured in the same run (a step should cost one gradient and
// nothing else: target <= 1.2x), on the quadratic with p = 200 and on least squares with n = 200,
// p = 400. Each rule runs 1000 iterations per benchmark iteration; items/s counts descent steps.
#include "discrete/descend.hpp"
#include "problems/least_squares.hpp"
#include "problems/problem_factory.hpp"
#include "problems/quadratic.hpp"
#include "problems/random.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

namespace {

using namespace gradflow;

constexpr long kSteps = 1000;

const Objective& problem(const std::string& name) {
  static const Quadratic quadratic = Quadratic::generated(200, 1e4, 0);
  static const LeastSquares least_squares = [] {
    Random random(7);
    return LeastSquares(random.normal_matrix(200, 400), random.normal_vector(200));
  }();
  return name == "quadratic" ? static_cast<const Objective&>(quadratic) : least_squares;
}

void BM_Gradient(benchmark::State& state, const std::string& name) {
  const Objective& f = problem(name);
  const Vector theta = default_theta0(f.dimension(), 0);
  Vector grad(f.dimension());
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.loss_and_gradient(theta, grad));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Descent(benchmark::State& state, const std::string& name, StepRule rule) {
  const Objective& f = problem(name);
  const Vector theta0 = default_theta0(f.dimension(), 0);
  DescentOptions options;
  options.step = rule;
  options.lr = 0.5 / *f.known().beta;
  options.max_iters = kSteps;
  options.save_every = kSteps;
  DescentResult result;
  for (auto _ : state) {
    result = descend(f, theta0, options);
    benchmark::DoNotOptimize(result.theta.data());
  }
  if (result.iterations != kSteps) state.SkipWithError(("descent stopped early: " + result.message).c_str());
  state.SetItemsProcessed(state.iterations() * kSteps);
  state.counters["grad_evals_per_step"] =
      static_cast<double>(result.stats.num_gradient_evals - 1) / static_cast<double>(kSteps);
  state.counters["loss_evals_per_step"] = static_cast<double>(result.stats.num_loss_evals) / static_cast<double>(kSteps);
}

}  // namespace

void register_descent_benchmarks_all() {
  for (const std::string name : {"quadratic", "least-squares"}) {
    benchmark::RegisterBenchmark(("Gradient/" + name).c_str(), BM_Gradient, name);
    for (const StepRule rule : {StepRule::fixed, StepRule::inverse_smoothness, StepRule::polyak, StepRule::armijo}) {
      benchmark::RegisterBenchmark(("Descent/" + std::string(to_string(rule)) + "/" + name).c_str(), BM_Descent, name,
                                   rule)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}
