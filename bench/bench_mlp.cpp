// Microbenchmarks of the network problem (Google Benchmark).
//
// MlpLossGradient/<n>x<d>x<width>x<depth>/threads:<t>: loss-and-gradient evaluations at (n, d, width,
// depth) = (32, 64, 64, 1), (128, 256, 256, 2), (512, 512, 512, 3) on 1 and 2 threads
// (Mlp::set_threads; the results are the same bits on both), reported in GFLOP/s counting 6 n p flops
// per evaluation, beside the machine's own double-precision matrix-multiply rate (Gemm: 512 x 512 x 512
// through the same kernels::gemm the network uses, Eigen's, for AVX2 + FMA when the processor has them)
// measured in the same run. Targets: at the largest size on one thread at least 50% of that rate; from
// 1 to 2 threads at least 1.7x at the two larger sizes. Counters sample_blocks and weight_blocks show
// the network's fixed partition of the work (problems/mlp.hpp).
//
// Cost/gradient/{n,width,depth}:<x>: how one loss-and-gradient evaluation (one thread) grows with the
// number of samples (d = 64, width 64, depth 1; expected ~ n), the width (n = 128, d = 16, depth 2:
// the width x width layer dominates; expected ~ width^2) and the depth (n = 128, d = width = 128:
// every layer costs the same; expected ~ depth). bench/cost_laws.py fits the exponents.
//
// Observe/{sharpness,ntk}/<size>: one row of --observe (theory/observables.hpp) on the network at the
// three sizes, one thread. A descent run (xavier_normal start, step 1 / sharpness at the start) makes a
// row every 5 steps, as a run that records rows does; the descent steps are not timed, the rows are.
// The first, cold row is made before the timing, so the sharpness's Lanczos starts warm from the
// previous row's vector as it does along a run. Counters: Hessian-vector products and Gram products
// per row. The summary (bench_main.cpp) divides a row's time by one gradient's of the same size in this
// run (issue 17's target: <= 10 gradients per sharpness row after the warm start).
#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/problems/detail/gemm.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/theory/observables.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

namespace {

using namespace gradflow;

struct Size {
  Eigen::Index n, d, width, depth;
  std::string label() const {
    return std::to_string(n) + "x" + std::to_string(d) + "x" + std::to_string(width) + "x" + std::to_string(depth);
  }
};

const std::vector<Size> kSizes{{32, 64, 64, 1}, {128, 256, 256, 2}, {512, 512, 512, 3}};

// The benchmarks' tanh network of a size, without biases, on synthetic data (seed 0).
MlpArchitecture architecture(const Size& size) {
  MlpArchitecture arch;
  arch.input_dim = size.d;
  arch.widths.assign(size.depth, size.width);
  arch.activation = Activation::tanh;
  return arch;
}

Mlp network(const Size& size) {
  const NetworkData data = synthetic_data(size.n, size.d, 0);
  return Mlp(architecture(size), data.x, data.y);
}

void BM_Gemm(benchmark::State& state) {
  const Eigen::Index m = state.range(0);
  const Matrix a = Matrix::Random(m, m), b = Matrix::Random(m, m);
  Matrix c(m, m);
  for (auto _ : state) {
    kernels::gemm(false, false, m, m, m, a.data(), b.data(), false, c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(m * m * m) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_MlpLossGradient(benchmark::State& state, Size size, int threads) {
  const MlpArchitecture arch = architecture(size);
  Mlp f = network(size);
  f.set_threads(threads);
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  const Vector theta = initialize(arch, init);
  Vector grad(f.dimension());
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.loss_and_gradient(theta, grad));
    benchmark::ClobberMemory();
  }
  const double flops = 6.0 * static_cast<double>(size.n) * static_cast<double>(f.dimension());
  state.SetItemsProcessed(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["params"] = static_cast<double>(f.dimension());
  state.counters["threads"] = static_cast<double>(f.threads());
  state.counters["sample_blocks"] = static_cast<double>(f.partition().sample_blocks);
  state.counters["weight_blocks"] = static_cast<double>(f.partition().weight_blocks);
}

void BM_Observe(benchmark::State& state, Size size, bool sharpness) {
  const MlpArchitecture arch = architecture(size);
  Mlp f = network(size);
  f.set_threads(1);
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  Vector theta = initialize(arch, init);
  Vector grad(f.dimension());
  Observables what;
  what.sharpness = sharpness;
  what.ntk = !sharpness;
  PathObserver observer(f, what);
  // The cold row, and the step: 1 / sharpness at the start (a stable step, below 2 / sharpness).
  Observables cold_what;
  cold_what.sharpness = true;
  const double sharpness0 = PathObserver(f, cold_what).at(theta).sharpness;
  const double eta = 1.0 / sharpness0;
  benchmark::DoNotOptimize(observer.at(theta));
  const ObserveCounts before = observer.counts();
  double last = 0.0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int k = 0; k < 5; ++k) {
      f.loss_and_gradient(theta, grad);
      theta -= eta * grad;
    }
    state.ResumeTiming();
    const Observed o = observer.at(theta);
    last = sharpness ? o.sharpness : o.ntk_min;
    benchmark::DoNotOptimize(last);
  }
  const double rows = static_cast<double>(state.iterations());
  state.counters["hvp_per_row"] = static_cast<double>(observer.counts().hessian_vector - before.hessian_vector) / rows;
  state.counters["gram_products_per_row"] =
      static_cast<double>(observer.counts().gram_products - before.gram_products) / rows;
  state.counters["gram_matrices_per_row"] =
      static_cast<double>(observer.counts().gram_matrices - before.gram_matrices) / rows;
  state.counters[sharpness ? "sharpness" : "ntk_min"] = last;
  state.counters["params"] = static_cast<double>(f.dimension());
}

}  // namespace

void register_mlp_benchmarks_all() {
  benchmark::RegisterBenchmark("Gemm", BM_Gemm)->Arg(512)->Unit(benchmark::kMillisecond);
  for (const Size& size : kSizes) {
    for (const int threads : {1, 2}) {
      const std::string name = "MlpLossGradient/" + size.label() + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), BM_MlpLossGradient, size, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  for (const Size& size : kSizes) {
    for (const bool sharpness : {true, false}) {
      const std::string name = std::string("Observe/") + (sharpness ? "sharpness/" : "ntk/") + size.label();
      // A few rows at the largest size (a row there is about a second of Hessian-vector products).
      const long rows = size.n >= 512 ? 6 : size.n >= 128 ? 20 : 200;
      benchmark::RegisterBenchmark(name.c_str(), BM_Observe, size, sharpness)
          ->Unit(benchmark::kMillisecond)
          ->Iterations(rows);
    }
  }
  for (const Eigen::Index n : {64, 128, 256, 512, 1024, 2048}) {
    benchmark::RegisterBenchmark(("Cost/gradient/n:" + std::to_string(n)).c_str(), BM_MlpLossGradient,
                                 Size{n, 64, 64, 1}, 1)
        ->Unit(benchmark::kMicrosecond);
  }
  for (const Eigen::Index width : {64, 128, 256, 512, 1024}) {
    benchmark::RegisterBenchmark(("Cost/gradient/width:" + std::to_string(width)).c_str(), BM_MlpLossGradient,
                                 Size{128, 16, width, 2}, 1)
        ->Unit(benchmark::kMicrosecond);
  }
  for (const Eigen::Index depth : {1, 2, 4, 8, 16}) {
    benchmark::RegisterBenchmark(("Cost/gradient/depth:" + std::to_string(depth)).c_str(), BM_MlpLossGradient,
                                 Size{128, 128, 128, depth}, 1)
        ->Unit(benchmark::kMicrosecond);
  }
}
