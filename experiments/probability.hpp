// The probabilistic corollary, estimated by Monte Carlo (docs/theory.md §6): over N seeded draws of
// an initialization scheme, the fraction of draws at which the certificate holds (a rigorous check at
// each draw) and the fraction at which gradient descent empirically reaches loss <= eps L0 within K
// steps, each with a Clopper-Pearson interval. The theorems are deterministic, so the probability of
// linear convergence to zero loss is at least the probability that the certificate holds: the first
// fraction estimates a lower bound of the second.
//
// Draws run in parallel; draw j uses the initialization seed derive_seed(seed, j) and its own copy of
// the network, so the result does not depend on the thread count or the order of execution.
#pragma once

#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/theory/clopper_pearson.hpp>
#include <gradflow/discrete/options.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

namespace gradflow {

struct ProbabilityOptions {
  long draws = 100;            // N >= 1
  double alpha = 0.05;         // 1 - confidence level, in (0, 1)
  double eps = 1e-3;           // success: loss <= eps L0; in (0, 1)
  long steps = 1000;           // K >= 1 descent steps per draw
  DescentOptions descent;      // step rule (max_iters and loss_tol are set per draw from steps and eps)
  int threads = 0;             // 0 = all cores
};

struct DrawResult {
  long draw = 0;
  std::uint64_t init_seed = 0;
  bool certified = false;      // the flow certificate holds at this draw
  double sigma0 = 0.0;
  double mu = 0.0;             // certified mu (0 when not certified)
  double loss0 = 0.0;
  bool reached = false;        // descent reached loss <= eps L0 within K steps
  long iterations = 0;
  double loss_final = 0.0;
};

struct ProbabilityResult {
  std::vector<DrawResult> draws;
  long certified = 0;
  long reached = 0;
  Interval certified_interval;
  Interval reached_interval;
  std::string why_not_applicable;  // the certificate does not apply to this problem at all (then certified = 0)
  int threads_used = 1;
  double wall_seconds = 0.0;
};

// progress (may be null) is increased by one after each finished draw.
ProbabilityResult estimate_probability(const Mlp& network, const InitOptions& init, const ProbabilityOptions& options,
                                       std::atomic<long>* progress = nullptr);

}  // namespace gradflow
