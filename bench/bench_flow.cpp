// Microbenchmarks of the flow solvers (Google Benchmark). Speed is measured here, not in tests.
//
// Every solver on the quadratic gradient flow with p = 200 and condition numbers 1e2, 1e4, 1e6
// (eigenvalues log-spaced in [1/kappa, 1]), integrated to t = 5000 at rtol 1e-8, atol 1e-10 (the
// fixed-step solvers with dt = 1, inside their stability limit 2 / beta = 2), recording only the final
// row. Counters per run: gradient evaluations, Hessian-vector products, Jacobians, steps, and the
// relative error against the exact solution. BM_QuadraticGradient times one gradient evaluation in
// the same run, so the solvers' cost can be read as gradient evaluations' worth.
//
//   build/release/bench/gradflow_bench --benchmark_filter='Flow|QuadraticGradient'
#include "flow/simulate_flow.hpp"
#include "problems/problem_factory.hpp"
#include "problems/quadratic.hpp"

#include <benchmark/benchmark.h>

#include <map>
#include <memory>

namespace {

using namespace gradflow;

constexpr Eigen::Index kDim = 200;
constexpr double kEndTime = 5000.0;

const Quadratic& problem(double kappa) {
  static std::map<double, std::unique_ptr<Quadratic>> cache;
  auto& slot = cache[kappa];
  if (!slot) slot = std::make_unique<Quadratic>(Quadratic::generated(kDim, kappa, 0));
  return *slot;
}

void BM_QuadraticGradient(benchmark::State& state) {
  const Quadratic& q = problem(1e4);
  const Vector theta = default_theta0(kDim, 0);
  Vector grad(kDim);
  for (auto _ : state) {
    benchmark::DoNotOptimize(q.loss_and_gradient(theta, grad));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_QuadraticGradient);

void BM_Flow(benchmark::State& state, Solver solver, double kappa) {
  const Quadratic& q = problem(kappa);
  const Vector theta0 = default_theta0(kDim, 0);
  FlowOptions options;
  options.solver = solver;
  options.t_end = kEndTime;
  options.rtol = 1e-8;
  options.atol = 1e-10;
  options.dt = 1.0;
  options.times = {kEndTime};
  FlowResult result;
  for (auto _ : state) {
    result = simulate_flow(q, theta0, options);
    benchmark::DoNotOptimize(result.theta.data());
  }
  if (!result.succeeded()) {
    state.SkipWithError(("solver failed: " + result.message).c_str());
    return;
  }
  const Vector exact = q.exact_flow(theta0, kEndTime);
  state.counters["grad_evals"] = static_cast<double>(result.stats.num_gradient_evals);
  state.counters["hvp_evals"] = static_cast<double>(result.stats.num_hessian_vector_evals);
  state.counters["jac_evals"] = static_cast<double>(result.stats.num_jacobian_evals);
  state.counters["steps"] = static_cast<double>(result.stats.num_steps);
  state.counters["rel_error"] = (result.theta - exact).norm() / exact.norm();
}

void register_flow_benchmarks() {
  for (const double kappa : {1e2, 1e4, 1e6}) {
    for (const std::string& name : solver_names()) {
      const Solver solver = *solver_from_string(name);
      const std::string label = "Flow/" + name + "/kappa:" + (kappa == 1e2 ? "1e2" : kappa == 1e4 ? "1e4" : "1e6");
      benchmark::RegisterBenchmark(label.c_str(), BM_Flow, solver, kappa)->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace

// Called from bench_main.cpp.
void register_flow_benchmarks_all() { register_flow_benchmarks(); }
