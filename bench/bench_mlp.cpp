// Microbenchmarks of the network problem (Google Benchmark): loss-and-gradient evaluations at
// (n, d, width, depth) = (32, 64, 64, 1), (128, 256, 256, 2), (512, 512, 512, 3), reported in GFLOP/s
// counting 6 n p flops per evaluation, beside the machine's own double-precision matrix-multiply
// rate (512 x 512 x 512, through the same kernels::gemm the network uses: Eigen's, for AVX2 + FMA when
// the processor has them) measured in the same run. The target: at the largest size at least 50% of
// that rate.
#include <gradflow/problems/detail/kernels.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>

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

void BM_MlpLossGradient(benchmark::State& state, Size size) {
  MlpArchitecture arch;
  arch.input_dim = size.d;
  arch.widths.assign(size.depth, size.width);
  arch.activation = Activation::tanh;
  const NetworkData data = synthetic_data(size.n, size.d, 0);
  const Mlp f(arch, data.x, data.y);
  InitOptions init;
  init.scheme = InitScheme::xavier_normal;
  const Vector theta = initialize(arch, init);
  Vector grad(f.dimension());
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.loss_and_gradient(theta, grad));
    benchmark::ClobberMemory();
  }
  const double flops = 6.0 * static_cast<double>(size.n) * static_cast<double>(f.dimension());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["params"] = static_cast<double>(f.dimension());
}

}  // namespace

void register_mlp_benchmarks_all() {
  benchmark::RegisterBenchmark("Gemm", BM_Gemm)->Arg(512)->Unit(benchmark::kMillisecond);
  for (const Size& size : kSizes) {
    benchmark::RegisterBenchmark(("MlpLossGradient/" + size.label()).c_str(), BM_MlpLossGradient, size)
        ->Unit(benchmark::kMillisecond);
  }
}
