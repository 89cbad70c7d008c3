// Microbenchmarks of the flow solvers (Google Benchmark). Speed is measured here, not in tests.
//
// Every solver on the quadratic gradient flow with p = 200 and condition numbers 1e2, 1e4, 1e6
// (eigenvalues log-spaced in [1/kappa, 1]) to t = 5000, on least squares (n = 100, p = 200) to
// t = 2000, on the Karimi example (p = 200) to t = 20 and on the network (32 samples x 64 features,
// width 64, tanh) to t = 50, at rtol 1e-8, atol 1e-10 (fixed-step solvers: dt = 1 on the quadratics,
// inside their stability limit 2 / beta = 2, and dt = 0.01 elsewhere), recording only the final row.
// Counters per run: gradient evaluations, Hessian-vector products, Jacobians, steps, and the relative
// error against the exact solution where there is one. BM_QuadraticGradient times one gradient
// evaluation in the same run, so the solvers' cost can be read in gradient evaluations.
//
//   build/release/bench/gradflow_bench --benchmark_filter='Flow|QuadraticGradient'
#include <gradflow/flow/simulate_flow.hpp>
#include "bench_problems.hpp"

#include <benchmark/benchmark.h>

namespace {

using namespace gradflow;

void BM_QuadraticGradient(benchmark::State& state) {
  const Objective& q = bench::problem("quadratic-1e4");
  const Vector theta = bench::start("quadratic-1e4");
  Vector grad(q.dimension());
  for (auto _ : state) {
    benchmark::DoNotOptimize(q.loss_and_gradient(theta, grad));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_QuadraticGradient);

void BM_Flow(benchmark::State& state, Solver solver, std::string name, double t_end, double dt) {
  const Objective& f = bench::problem(name);
  const Vector theta0 = bench::start(name);
  FlowOptions options;
  options.solver = solver;
  options.t_end = t_end;
  options.rtol = 1e-8;
  options.atol = 1e-10;
  options.dt = dt;
  options.times = {t_end};
  FlowResult result;
  for (auto _ : state) {
    result = simulate_flow(f, theta0, options);
    benchmark::DoNotOptimize(result.theta.data());
  }
  if (!result.succeeded()) {
    state.SkipWithError(("solver failed: " + result.message).c_str());
    return;
  }
  state.counters["grad_evals"] = static_cast<double>(result.stats.num_gradient_evals);
  state.counters["hvp_evals"] = static_cast<double>(result.stats.num_hessian_vector_evals);
  state.counters["jac_evals"] = static_cast<double>(result.stats.num_jacobian_evals);
  state.counters["steps"] = static_cast<double>(result.stats.num_steps);
  if (f.has_exact_flow()) {
    const Vector exact = f.exact_flow(theta0, t_end);
    state.counters["rel_error"] = (result.theta - exact).norm() / exact.norm();
  }
  state.counters["loss_final"] = result.loss_final;
}

}  // namespace

void register_flow_benchmarks_all() {
  struct Case {
    std::string name;
    double t_end, dt;
  };
  for (const Case& c :
       {Case{"quadratic-1e2", 5000.0, 1.0}, Case{"quadratic-1e4", 5000.0, 1.0}, Case{"quadratic-1e6", 5000.0, 1.0},
        Case{"least-squares", 2000.0, 0.01}, Case{"karimi", 20.0, 0.01}, Case{"mlp", 50.0, 0.01}}) {
    for (const std::string& solver_name : solver_names()) {
      const Solver solver = *solver_from_string(solver_name);
      const std::string label = "Flow/" + solver_name + "/" + c.name;
      benchmark::RegisterBenchmark(label.c_str(), BM_Flow, solver, c.name, c.t_end, c.dt)
          ->Unit(benchmark::kMillisecond);
    }
  }
}
