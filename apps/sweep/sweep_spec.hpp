// What a sweep runs: the grid (initialization schemes x widths x depths x activations x seeds x
// methods x data sets) and the settings shared by every run, read from a TOML file or set by
// compare-inits. Each run is named by its coordinates, and its seeds are derived from them, so results
// do not depend on the order of execution or the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gradflow::cli {

struct SweepSpec {
  std::vector<std::string> inits{"positive", "xavier_normal"};
  std::vector<long> widths{32};
  std::vector<long> depths{1};
  std::vector<std::string> activations{"tanh"};
  std::vector<long> seeds{0, 1, 2, 3, 4};
  // A descent step rule (fixed, inverse-smoothness, polyak, armijo) or a flow solver (dopri5, cvode-bdf, ...).
  std::vector<std::string> methods{"armijo"};
  // "synthetic:NxD" (x ~ N(0, I/d), targets N(0, 1), data seed 0) or "file:PATH" (CSV as --data).
  std::vector<std::string> datasets{"synthetic:16x32"};
  double eps = 1e-3;            // a run converges when loss <= eps L0
  long max_steps = 5000;        // budget: descent iterations, or accepted flow steps
  double t_end = 1e6;           // flow methods: end time
  double lr = 1.0;              // fixed: the step; armijo: the first trial step
  double gamma = 0.0;           // polyak: 0 = 2 mu / beta is not available for networks, so required
  std::string output_scale = "auto";  // positive: "auto" = 1.05 s* (certified), or a number; others use 1
  bool teacher = false;         // synthetic targets from a teacher network
  int curve_points = 200;       // rows kept per run for the plots
  std::string out = "results/sweep";
};

// One run of the grid.
struct RunSpec {
  std::string init;
  long width = 0;
  long depth = 0;
  std::string activation;
  long seed = 0;
  std::string method;
  std::string dataset;
  std::string key() const;                 // "init=...;width=...;..." (unique per run)
  std::uint64_t init_seed() const;         // from the coordinates except the method (methods share inits)
};

std::vector<RunSpec> enumerate_runs(const SweepSpec& spec);

// Reads a sweep file: keys are the SweepSpec fields (inits, widths, depths, activations, seeds,
// methods, datasets, eps, max-steps, t-end, lr, gamma, output-scale, teacher, curve-points, out); seeds
// may be a list or a count (seeds = 20 means 0..19). Throws InputError naming --config on bad input.
SweepSpec read_sweep_file(const std::string& path);

// Checks names and ranges; throws InputError naming the key.
void validate(const SweepSpec& spec, const std::string& option);

std::uint64_t fnv1a(const std::string& text);

}  // namespace gradflow::cli
