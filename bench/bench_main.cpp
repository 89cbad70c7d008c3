// The gradflow benchmark program: the problem, flow, bare-peer, descent and network microbenchmarks,
// then the ratios the project's targets name, computed from measurements of this same run (the
// machines are shared and noisy: absolute times alone mean little). With --benchmark_repetitions=K the
// ratios use the fastest repetition of each benchmark. The ratios between single-threaded cases use
// the CPU time of the benchmark's thread, which waiting for a core on a busy machine does not inflate
// (the wall time does, by up to 2x on a shared 2-core machine); the thread speed-ups use wall time.
//
//   build/release/bench/gradflow_bench                       # everything (about 10 minutes on 2 cores)
//   build/release/bench/gradflow_bench --benchmark_filter='Flow/(dopri5|cvode-bdf)/|Bare/|Gradient/'
//   build/release/bench/gradflow_bench --benchmark_filter=MlpLossGradient\|Gemm
//
// The summaries at the end:
//   - time per descent step / time per gradient evaluation;
//   - the network's loss-and-gradient rate / the matrix-multiply rate, and its speed-up from 1 to 2
//     threads;
//   - the cost of one --observe row (sharpness, ntk) in gradients of the same size;
//   - overhead vs bare: gradflow's wall time over the bare C++ peer's (bare_peers.hpp) on the same
//     problem, with both sides' gradient evaluations and steps, so that one sees they did the same work;
//   - the overhead factor of every flow solver: wall time / (gradient evaluations x time of one gradient
//     in this run): 1 would be a solver that costs nothing but its gradients.
#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/problems/detail/gemm.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

void register_flow_benchmarks_all();
void register_descent_benchmarks_all();
void register_mlp_benchmarks_all();
void register_problem_benchmarks_all();

namespace {

struct Measured {
  double seconds = 0.0;       // CPU time of the benchmark's thread per iteration, the fastest repetition
  double wall_seconds = 0.0;  // real time per iteration, the fastest repetition
  std::map<std::string, double> counters;
};

// Prints to the console as usual and keeps, per benchmark, the CPU and real time per iteration of its
// fastest repetitions and its counters.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration || run.iterations <= 0) continue;
      const double seconds = run.cpu_accumulated_time / static_cast<double>(run.iterations);
      const double wall = run.real_accumulated_time / static_cast<double>(run.iterations);
      // The function and its arguments ("MlpLossGradient/512x512x512x3/threads:2", "Gemm/512"), without
      // the suffixes for real time or repetitions.
      const std::string name = run.run_name.function_name + (run.run_name.args.empty() ? "" : "/" + run.run_name.args);
      auto found = measured.find(name);
      Measured m;
      m.seconds = seconds;
      m.wall_seconds = wall;
      if (found != measured.end()) {
        m.seconds = std::min(seconds, found->second.seconds);
        m.wall_seconds = std::min(wall, found->second.wall_seconds);
      }
      for (const auto& [key, counter] : run.counters) m.counters[key] = counter.value;
      measured[name] = m;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const Measured* find(const std::string& name) const {
    const auto it = measured.find(name);
    return it == measured.end() ? nullptr : &it->second;
  }
  std::optional<double> counter(const std::string& name, const std::string& key) const {
    const Measured* m = find(name);
    if (!m) return std::nullopt;
    const auto it = m->counters.find(key);
    if (it == m->counters.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, Measured> measured;
};

const char* verdict(bool target, bool met) {
  if (!target) return "(informational)";
  return met ? "PASS" : "MISSED";
}

void print_descent_ratios(const CollectingReporter& r) {
  bool header = false;
  for (const std::string problem : {"quadratic-1e4", "least-squares", "karimi", "mlp"}) {
    const Measured* gradient = r.find("Gradient/" + problem);
    if (!gradient) continue;
    for (const std::string rule : {"fixed", "inverse-smoothness", "polyak", "armijo"}) {
      const Measured* descent = r.find("Descent/" + rule + "/" + problem);
      const auto steps = r.counter("Descent/" + rule + "/" + problem, "steps_per_run");
      if (!descent || !steps || *steps <= 0) continue;
      if (!header) {
        std::printf(
            "\nTime per descent step / time per gradient evaluation (same run; target <= 1.2 on the\n"
            "quadratic and least squares for the rules that need one gradient per step; armijo adds loss\n"
            "evaluations):\n");
        header = true;
      }
      const double ratio = (descent->seconds / *steps) / gradient->seconds;
      const bool target = (problem == "quadratic-1e4" || problem == "least-squares") && rule != "armijo";
      std::printf("  %-14s %-20s %6.3f  %s\n", problem.c_str(), rule.c_str(), ratio, verdict(target, ratio <= 1.2));
    }
  }
}

void print_network_rates(const CollectingReporter& r) {
  const Measured* gemm = r.find("Gemm/512");
  const auto sizes = {"32x64x64x1", "128x256x256x2", "512x512x512x3"};
  if (gemm) {
    const double gemm_rate = 2.0 * 512.0 * 512.0 * 512.0 / gemm->seconds * 1e-9;
    std::printf(
        "\nNetwork loss-and-gradient rate on one thread (6 n p flops per evaluation, CPU time) / matrix-multiply rate\n"
        "%.2f GFLOP/s (same run; target >= 0.5 at the largest size):\n",
        gemm_rate);
    for (const std::string size : sizes) {
      const std::string name = "MlpLossGradient/" + size + "/threads:1";
      const Measured* m = r.find(name);
      const auto params = r.counter(name, "params");
      if (!m || !params) continue;
      const std::size_t n = std::stoul(size.substr(0, size.find('x')));
      const double rate = 6.0 * static_cast<double>(n) * *params / m->seconds * 1e-9;
      const double ratio = rate / gemm_rate;
      const bool largest = size == std::string("512x512x512x3");
      std::printf("  %-16s %6.2f GFLOP/s  %5.2f  %s\n", size.c_str(), rate, ratio, verdict(largest, ratio >= 0.5));
    }
  }
  bool header = false;
  for (const std::string size : sizes) {
    const Measured* one = r.find("MlpLossGradient/" + size + "/threads:1");
    const Measured* two = r.find("MlpLossGradient/" + size + "/threads:2");
    if (!one || !two) continue;
    if (!header) {
      std::printf(
          "\nNetwork loss-and-gradient, speed-up from 1 to 2 threads (wall time, same run, the same bits on\n"
          "both; target >= 1.7 at the two larger sizes):\n"
          "  %-16s %12s %12s %8s %14s\n",
          "size", "1 thread ms", "2 threads ms", "speed-up", "sample/weight blocks");
      header = true;
    }
    const double speedup = one->wall_seconds / two->wall_seconds;
    const bool target = size != std::string("32x64x64x1");
    const auto blocks = [&](const char* key) {
      return static_cast<int>(r.counter("MlpLossGradient/" + size + "/threads:2", key).value_or(0.0));
    };
    std::printf("  %-16s %12.3f %12.3f %8.2f %8d / %-4d %s\n", size.c_str(), 1e3 * one->wall_seconds,
                1e3 * two->wall_seconds, speedup, blocks("sample_blocks"), blocks("weight_blocks"),
                verdict(target, speedup >= 1.7));
  }
}

void print_observe_costs(const CollectingReporter& r) {
  bool header = false;
  for (const std::string size : {"32x64x64x1", "128x256x256x2", "512x512x512x3"}) {
    const Measured* gradient = r.find("MlpLossGradient/" + size + "/threads:1");
    if (!gradient) continue;
    for (const std::string what : {"sharpness", "ntk"}) {
      const std::string name = "Observe/" + what + "/" + size;
      const Measured* row = r.find(name);
      if (!row) continue;
      if (!header) {
        std::printf(
            "\nCost of one --observe row on the network / one loss-and-gradient of the same size (CPU time, one "
            "thread,\n"
            "same run; rows every 5 descent steps, warm Lanczos; target <= 10 gradients per sharpness row):\n"
            "  %-10s %-16s %10s %12s %10s %10s %10s\n",
            "observe", "size", "row ms", "gradient ms", "gradients", "hvp/row", "gram/row");
        header = true;
      }
      const double ratio = row->seconds / gradient->seconds;
      const bool target = what == "sharpness";
      std::printf("  %-10s %-16s %10.3f %12.3f %10.2f %10.1f %10.1f  %s\n", what.c_str(), size.c_str(),
                  1e3 * row->seconds, 1e3 * gradient->seconds, ratio, r.counter(name, "hvp_per_row").value_or(-1.0),
                  r.counter(name, "gram_products_per_row").value_or(0.0) +
                      r.counter(name, "gram_matrices_per_row").value_or(0.0),
                  verdict(target, ratio <= 10.0));
    }
  }
}

const std::vector<std::string> kFlowProblems{"quadratic-1e2", "quadratic-1e4", "quadratic-1e6",
                                             "least-squares", "karimi",        "mlp"};

void print_overhead_vs_bare(const CollectingReporter& r) {
  struct Pair {
    std::string gradflow, bare, label;
    double target;
  };
  bool header = false;
  for (const std::string& problem : kFlowProblems) {
    const bool network = problem == "mlp";
    for (const Pair& pair :
         {Pair{"dopri5", "odeint-dopri5", "dopri5 / odeint integrate_adaptive", 1.05},
          Pair{network ? "cvode-bdf-krylov" : "cvode-bdf", "cvode-bdf",
               network ? "cvode-bdf-krylov / bare CVODE BDF+GMRES" : "cvode-bdf / bare CVODE BDF", 1.10}}) {
      const std::string gf = "Flow/" + pair.gradflow + "/" + problem, bare = "Bare/" + pair.bare + "/" + problem;
      const Measured* a = r.find(gf);
      const Measured* b = r.find(bare);
      if (!a || !b) continue;
      if (!header) {
        std::printf(
            "\nOverhead vs bare: gradflow's time / the bare C++ peer's on the same problem (CPU time, same run; "
            "targets:\n"
            "dopri5 within 5%% of odeint's integrate_adaptive, cvode-bdf within 10%% of a bare CVODE driver). The\n"
            "counters of both sides show that they did the same work (evals: gradient evaluations; jac: dense\n"
            "Hessians; hvp: Hessian-vector products; diff: ||theta_bare - theta_gradflow|| / ||theta0|| at t_end):\n"
            "  %-40s %-14s %10s %10s %6s  %-15s %-13s %-11s %-11s %8s\n",
            "pair", "problem", "gradflow ms", "bare ms", "ratio", "evals gf/bare", "steps gf/bare", "jac gf/bare",
            "hvp gf/bare", "diff");
        header = true;
      }
      const auto count = [&](const std::string& name, const char* key) {
        return static_cast<long>(r.counter(name, key).value_or(-1.0));
      };
      const auto both = [&](const char* key) {
        return std::to_string(count(gf, key)) + "/" + std::to_string(count(bare, key));
      };
      const double ratio = a->seconds / b->seconds;
      std::printf("  %-40s %-14s %10.3f %10.3f %6.3f  %-15s %-13s %-11s %-11s %8.1e  %s\n", pair.label.c_str(),
                  problem.c_str(), 1e3 * a->seconds, 1e3 * b->seconds, ratio, both("grad_evals").c_str(),
                  both("steps").c_str(), both("jac_evals").c_str(), both("hvp_evals").c_str(),
                  r.counter(bare, "diff_vs_gradflow").value_or(-1.0), verdict(true, ratio <= pair.target));
    }
  }
}

void print_overhead_factors(const CollectingReporter& r) {
  bool header = false;
  for (const std::string& problem : kFlowProblems) {
    const Measured* gradient = r.find("Gradient/" + problem);
    if (!gradient) continue;
    for (const auto& [name, m] : r.measured) {
      const bool flow = name.rfind("Flow/", 0) == 0, bare = name.rfind("Bare/", 0) == 0;
      if (!(flow || bare) || name.size() <= problem.size() ||
          name.compare(name.size() - problem.size() - 1, std::string::npos, "/" + problem) != 0)
        continue;
      const auto evals = r.counter(name, "grad_evals");
      if (!evals || *evals <= 0) continue;
      if (!header) {
        std::printf(
            "\nOverhead factor = time / (gradient evaluations x time of one gradient), CPU time, same run (1 = a "
            "solver\n"
            "that costs nothing but its gradients; target <= 1.10 for the explicit solvers on the network and the\n"
            "quadratic; the implicit solvers also pay for Hessians and linear algebra, and the bare peers are\n"
            "listed for reference):\n"
            "  %-30s %-14s %10s %11s %12s %8s\n",
            "solver", "problem", "cpu ms", "grad evals", "gradient us", "factor");
        header = true;
      }
      const std::string solver = name.substr(0, name.size() - problem.size() - 1);
      const double factor = m.seconds / (*evals * gradient->seconds);
      static const std::vector<std::string> explicit_solvers{
          "Flow/dopri5", "Flow/cash-karp54", "Flow/fehlberg78", "Flow/bulirsch-stoer", "Flow/euler", "Flow/rk4"};
      const bool target =
          std::find(explicit_solvers.begin(), explicit_solvers.end(), solver) != explicit_solvers.end() &&
          (problem == "mlp" || problem.rfind("quadratic", 0) == 0);
      std::printf("  %-30s %-14s %10.3f %11.0f %12.3f %8.3f  %s\n", solver.c_str(), problem.c_str(), 1e3 * m.seconds,
                  *evals, 1e6 * gradient->seconds, factor, verdict(target, factor <= 1.10));
    }
  }
}

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

  print_descent_ratios(reporter);
  print_network_rates(reporter);
  print_observe_costs(reporter);
  print_overhead_vs_bare(reporter);
  print_overhead_factors(reporter);
  benchmark::Shutdown();
  return 0;
}
