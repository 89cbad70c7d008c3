// Microbenchmarks of the problems' derivatives (Google Benchmark): a loss-and-gradient evaluation and
// a Hessian-vector product for every problem family over a range of sizes. items/s counts
// evaluations; the network's GFLOP/s use 6 n p flops per gradient.
#include "bench_problems.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace {

using namespace gradflow;

std::unique_ptr<Objective> make(const std::string& family, long size) {
  Random random(3);
  if (family == "quadratic") return std::make_unique<Quadratic>(Quadratic::generated(size, 1e3, 0));
  if (family == "least-squares") {
    return std::make_unique<LeastSquares>(random.normal_matrix(size / 2, size), random.normal_vector(size / 2));
  }
  if (family == "karimi") return std::make_unique<Karimi>(size);
  if (family == "rosenbrock") return std::make_unique<Rosenbrock>(size);
  // mlp: size = width, with n = width / 2 samples of d = width features, one hidden layer
  MlpArchitecture arch;
  arch.input_dim = size;
  arch.widths = {size};
  const NetworkData data = synthetic_data(size / 2, size, 0);
  return std::make_unique<Mlp>(arch, data.x, data.y);
}

void BM_Evaluate(benchmark::State& state, const std::string& family, bool hvp) {
  const auto f = make(family, state.range(0));
  const Vector theta = 0.1 * Random(4).normal_vector(f->dimension());
  const Vector v = Random(5).normal_vector(f->dimension());
  Vector out(f->dimension());
  for (auto _ : state) {
    if (hvp) {
      f->hessian_vector(theta, v, out);
    } else {
      benchmark::DoNotOptimize(f->loss_and_gradient(theta, out));
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["p"] = static_cast<double>(f->dimension());
}

}  // namespace

void register_problem_benchmarks_all() {
  const std::vector<std::pair<std::string, std::vector<long>>> families{{"quadratic", {50, 200, 800}},
                                                                        {"least-squares", {100, 400, 1600}},
                                                                        {"karimi", {100, 10000}},
                                                                        {"rosenbrock", {100, 10000}},
                                                                        {"mlp", {32, 128, 256}}};
  for (const auto& [family, sizes] : families) {
    for (const bool hvp : {false, true}) {
      auto* b = benchmark::RegisterBenchmark(("Eval/" + std::string(hvp ? "hvp/" : "gradient/") + family).c_str(),
                                             BM_Evaluate, family, hvp);
      for (const long size : sizes) b->Arg(size);
    }
  }
}
