// Microbenchmarks of the flow solvers (Google Benchmark). Speed is measured here, not in tests.
//
// Flow/<solver>/<problem>: every solver on the quadratic gradient flow with p = 200 and condition
// numbers 1e2, 1e4, 1e6 (eigenvalues log-spaced in [1/kappa, 1]) to t = 5000, on least squares
// (n = 100, p = 200) to t = 2000, on the Karimi example (p = 200) to t = 20 and on the network (32
// samples x 64 features, width 64, tanh, 4160 parameters) to t = 50, at rtol 1e-8, atol 1e-10
// (fixed-step solvers: dt = 1 on the quadratics, inside their stability limit 2 / beta = 2, and
// dt = 0.01 elsewhere), recording only the final row. Not cvode-bdf on the network: without a dense
// Hessian at p = 4160 it forms difference-quotient Jacobians and dense LUs (minutes per run, and it
// warns; flow_vs_scipy.py measures it once).
// Counters per run: gradient evaluations, Hessian-vector products, Jacobians, steps, and the relative
// error against the exact solution where there is one.
//
// Bare/<peer>/<problem>: the bare C++ peers of bare_peers.hpp on the same problems, times and
// tolerances: odeint-dopri5 (integrate_adaptive, the peer of dopri5) and cvode-bdf (one CVode call with
// SUNDIALS' dense LU and the exact Hessian, the peer of cvode-bdf; on the network BDF + GMRES with exact
// Hessian-vector products, the peer of cvode-bdf-krylov). Counters: the same, and diff_vs_gradflow =
// ||theta_bare - theta_gradflow|| / ||theta0|| at t_end (gradflow's run made once, untimed; relative to
// theta0 because theta(t_end) is near 0 on several problems), which shows that both sides computed the
// same thing to within the tolerances.
//
// Cost/flow/<solver>/kappa:<k>: the flow's cost against the condition number, dopri5 and cvode-bdf on
// the quadratic with p = 200 and kappa = 1e1 ... 1e5 to t = 5 kappa (the slowest mode decays by e^-5,
// its loss by e^-10): dopri5's steps grow like kappa (stability), cvode-bdf's like log kappa.
//
//   build/release/bench/gradflow_bench --benchmark_filter='Flow/|Bare/|Gradient/'
#include <gradflow/flow/simulate_flow.hpp>
#include "bare_peers.hpp"
#include "bench_problems.hpp"

#include <benchmark/benchmark.h>

#include <cmath>
#include <string>

namespace {

using namespace gradflow;

constexpr double kRtol = 1e-8;
constexpr double kAtol = 1e-10;

FlowOptions flow_options(Solver solver, double t_end, double dt) {
  FlowOptions options;
  options.solver = solver;
  options.t_end = t_end;
  options.rtol = kRtol;
  options.atol = kAtol;
  options.dt = dt;
  options.save.times = {t_end};
  options.stop.max_steps = 100000000;
  return options;
}

void flow_counters(benchmark::State& state, const Objective& f, const Vector& theta0, double t_end,
                   const FlowResult& result) {
  state.counters["grad_evals"] = static_cast<double>(result.stats.num_gradient_evals);
  state.counters["hvp_evals"] = static_cast<double>(result.stats.num_hessian_vector_evals);
  state.counters["jac_evals"] = static_cast<double>(result.stats.num_jacobian_evals);
  state.counters["steps"] = static_cast<double>(result.stats.num_steps);
  state.counters["rejected"] = static_cast<double>(result.stats.num_rejected_steps);
  if (f.has_exact_flow()) {
    const Vector exact = f.exact_flow(theta0, t_end);
    state.counters["rel_error"] = (result.theta - exact).norm() / exact.norm();
  }
  state.counters["loss_final"] = result.loss_final;
}

void BM_Flow(benchmark::State& state, Solver solver, std::string name, double t_end, double dt) {
  const Objective& f = bench::problem(name);
  const Vector theta0 = bench::start(name);
  const FlowOptions options = flow_options(solver, t_end, dt);
  FlowResult result;
  for (auto _ : state) {
    result = simulate_flow(f, theta0, options);
    benchmark::DoNotOptimize(result.theta.data());
  }
  if (!result.succeeded()) {
    state.SkipWithError(("solver failed: " + result.message).c_str());
    return;
  }
  flow_counters(state, f, theta0, t_end, result);
}

enum class Peer { odeint_dopri5, cvode_bdf };

void BM_Bare(benchmark::State& state, Peer peer, std::string name, double t_end) {
  const Objective& f = bench::problem(name);
  const Vector theta0 = bench::start(name);
  const bool krylov = peer == Peer::cvode_bdf && !f.has_hessian();
  bench::BareResult result;
  for (auto _ : state) {
    result = peer == Peer::odeint_dopri5 ? bench::bare_odeint_dopri5(f, theta0, t_end, kRtol, kAtol)
                                         : bench::bare_cvode_bdf(f, theta0, t_end, kRtol, kAtol, krylov);
    benchmark::DoNotOptimize(result.theta.data());
  }
  if (!result.ok) {
    state.SkipWithError(("bare peer failed: " + result.message).c_str());
    return;
  }
  state.counters["grad_evals"] = static_cast<double>(result.grad_evals);
  state.counters["hvp_evals"] = static_cast<double>(result.hvp_evals);
  state.counters["jac_evals"] = static_cast<double>(result.jac_evals);
  state.counters["steps"] = static_cast<double>(result.steps);
  if (result.rejected >= 0) state.counters["rejected"] = static_cast<double>(result.rejected);
  if (f.has_exact_flow()) {
    const Vector exact = f.exact_flow(theta0, t_end);
    state.counters["rel_error"] = (result.theta - exact).norm() / exact.norm();
  }
  // gradflow's paired solver on the same problem, once and untimed: did both compute the same thing?
  const Solver paired =
      peer == Peer::odeint_dopri5 ? Solver::dopri5 : (krylov ? Solver::cvode_bdf_krylov : Solver::cvode_bdf);
  const FlowResult gradflow_result = simulate_flow(f, theta0, flow_options(paired, t_end, 0.01));
  if (gradflow_result.succeeded()) {
    state.counters["diff_vs_gradflow"] =
        (result.theta - gradflow_result.theta).norm() / std::max(theta0.norm(), 1e-300);
  }
}

void BM_FlowVsKappa(benchmark::State& state, Solver solver) {
  const double kappa = std::pow(10.0, static_cast<double>(state.range(0)));
  const Quadratic q = Quadratic::generated(200, kappa, 0);
  const Vector theta0 = default_theta0(q.dimension(), 0);
  const double t_end = 5.0 * kappa;
  const FlowOptions options = flow_options(solver, t_end, 0.01);
  FlowResult result;
  for (auto _ : state) {
    result = simulate_flow(q, theta0, options);
    benchmark::DoNotOptimize(result.theta.data());
  }
  if (!result.succeeded()) {
    state.SkipWithError(("solver failed: " + result.message).c_str());
    return;
  }
  state.counters["kappa"] = kappa;
  flow_counters(state, q, theta0, t_end, result);
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
      if (solver == Solver::cvode_bdf && c.name == "mlp") continue;  // see the comment at the top
      const std::string label = "Flow/" + solver_name + "/" + c.name;
      benchmark::RegisterBenchmark(label.c_str(), BM_Flow, solver, c.name, c.t_end, c.dt)
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark(("Bare/odeint-dopri5/" + c.name).c_str(), BM_Bare, Peer::odeint_dopri5, c.name,
                                 c.t_end)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("Bare/cvode-bdf/" + c.name).c_str(), BM_Bare, Peer::cvode_bdf, c.name, c.t_end)
        ->Unit(benchmark::kMillisecond);
  }
  for (const Solver solver : {Solver::dopri5, Solver::cvode_bdf}) {
    benchmark::RegisterBenchmark(("Cost/flow/" + std::string(to_string(solver))).c_str(), BM_FlowVsKappa, solver)
        ->ArgName("log10_kappa")
        ->DenseRange(1, 5)
        ->Unit(benchmark::kMillisecond);
  }
}
