// Microbenchmarks of gradient descent (Google Benchmark): the cost of one descent step against the
// cost of one gradient evaluation, measured in the same run (a step should cost one gradient and
// nothing else: target <= 1.2x), on the quadratic with p = 200, least squares (n = 100, p = 200), the
// Karimi example (p = 200) and the network (32 x 64, width 64, tanh). Each rule runs 1000 iterations
// per benchmark iteration; items/s counts descent steps. Gradient/<problem> times one loss-and-gradient
// evaluation of every flow and descent problem (also the unit of the flow overhead factors).
#include <gradflow/discrete/descend.hpp>
#include "bench_problems.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

using namespace gradflow;

constexpr long kSteps = 1000;

void BM_Gradient(benchmark::State& state, const std::string& name) {
  const Objective& f = bench::problem(name);
  const Vector theta = bench::start(name);
  Vector grad(f.dimension());
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.loss_and_gradient(theta, grad));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Descent(benchmark::State& state, const std::string& name, StepRule rule) {
  const Objective& f = bench::problem(name);
  const Vector theta0 = bench::start(name);
  DescentOptions options;
  options.step = rule;
  options.stop.max_steps = kSteps;
  options.save.every_steps = kSteps;
  options.gamma = 0.1;
  const auto beta = f.known().beta;
  options.lr = beta ? 0.5 / *beta : 1e-3;
  if (rule == StepRule::armijo) options.lr = 1.0;
  DescentResult result;
  for (auto _ : state) {
    result = descend(f, theta0, options);
    benchmark::DoNotOptimize(result.theta.data());
  }
  if (result.iterations != kSteps && result.status != Status::tolerance_reached) {
    state.SkipWithError(("descent stopped early: " + result.message).c_str());
  }
  state.SetItemsProcessed(state.iterations() * std::max<long>(result.iterations, 1));
  state.counters["grad_evals_per_step"] = static_cast<double>(result.stats.num_gradient_evals - 1) /
                                          static_cast<double>(std::max<long>(result.iterations, 1));
  state.counters["loss_evals_per_step"] =
      static_cast<double>(result.stats.num_loss_evals) / static_cast<double>(std::max<long>(result.iterations, 1));
  state.counters["steps_per_run"] = static_cast<double>(std::max<long>(result.iterations, 1));
  state.counters["loss_final"] = result.loss_final;
}

}  // namespace

void register_descent_benchmarks_all() {
  // One gradient of every flow and descent problem: the unit of the overhead factors (bench_main.cpp).
  for (const std::string name : {"quadratic-1e2", "quadratic-1e4", "quadratic-1e6", "least-squares", "karimi", "mlp"}) {
    benchmark::RegisterBenchmark(("Gradient/" + name).c_str(), BM_Gradient, name)->Unit(benchmark::kMicrosecond);
  }
  for (const std::string name : {"quadratic-1e4", "least-squares", "karimi", "mlp"}) {
    for (const StepRule rule : {StepRule::fixed, StepRule::inverse_smoothness, StepRule::polyak, StepRule::armijo}) {
      benchmark::RegisterBenchmark(("Descent/" + std::string(to_string(rule)) + "/" + name).c_str(), BM_Descent, name,
                                   rule)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}
