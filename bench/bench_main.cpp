// The gradflow benchmark program: the flow and descent microbenchmarks, then the ratios the project's
// targets name, computed from measurements of this same run (the machines are shared and noisy:
// absolute times alone mean little).
//
//   build/release/bench/gradflow_bench                       # everything
//   build/release/bench/gradflow_bench --benchmark_filter=Descent\|Gradient/
#include <gradflow/problems/detail/kernels.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

void register_flow_benchmarks_all();
void register_descent_benchmarks_all();
void register_mlp_benchmarks_all();
void register_problem_benchmarks_all();

namespace {

// Prints to the console as usual and keeps the time per item of every run.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) continue;
      const auto items = run.counters.find("items_per_second");
      if (items != run.counters.end() && items->second.value > 0) {
        seconds_per_item[run.benchmark_name()] = 1.0 / items->second.value;
      }
      const auto rate = run.counters.find("GFLOP/s");
      if (rate != run.counters.end()) gflops[run.benchmark_name()] = rate->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds_per_item;
  std::map<std::string, double> gflops;
};

}  // namespace

int main(int argc, char** argv) {
  register_flow_benchmarks_all();
  register_descent_benchmarks_all();
  register_mlp_benchmarks_all();
  register_problem_benchmarks_all();
  benchmark::AddCustomContext("gradflow_gemm", gradflow::kernels::gemm_instruction_set());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  bool header = false;
  for (const std::string problem : {"quadratic-1e4", "least-squares", "karimi", "mlp"}) {
    const auto gradient = reporter.seconds_per_item.find("Gradient/" + problem);
    if (gradient == reporter.seconds_per_item.end()) continue;
    for (const std::string rule : {"fixed", "inverse-smoothness", "polyak", "armijo"}) {
      const auto step = reporter.seconds_per_item.find("Descent/" + rule + "/" + problem);
      if (step == reporter.seconds_per_item.end()) continue;
      if (!header) {
        std::printf(
            "\nTime per descent step / time per gradient evaluation (same run; target <= 1.2 on the\n"
            "quadratic and least squares for the rules that need one gradient per step; armijo adds loss\n"
            "evaluations):\n");
        header = true;
      }
      const double ratio = step->second / gradient->second;
      const bool target = (problem == "quadratic-1e4" || problem == "least-squares") && rule != "armijo";
      std::printf("  %-14s %-20s %6.3f  %s\n", problem.c_str(), rule.c_str(), ratio,
                  target ? (ratio <= 1.2 ? "PASS" : "MISSED") : "(informational)");
    }
  }
  const auto gemm = reporter.gflops.find("Gemm/512");
  if (gemm != reporter.gflops.end()) {
    std::printf(
        "\nNetwork loss-and-gradient rate (6 n p flops per evaluation) / matrix-multiply rate %.2f GFLOP/s\n"
        "(same run; target >= 0.5 at the largest size):\n",
        gemm->second);
    for (const auto& [name, rate] : reporter.gflops) {
      if (name.rfind("MlpLossGradient/", 0) != 0) continue;
      const double ratio = rate / gemm->second;
      const bool largest = name == "MlpLossGradient/512x512x512x3";
      std::printf("  %-32s %6.2f GFLOP/s  %5.2f  %s\n", name.c_str(), rate, ratio,
                  largest ? (ratio >= 0.5 ? "PASS" : "MISSED") : "(informational)");
    }
  }
  benchmark::Shutdown();
  return 0;
}
