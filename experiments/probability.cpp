#include <gradflow/experiments/probability.hpp>

#include <gradflow/discrete/descend.hpp>
#include <gradflow/theory/certificate.hpp>
#include <gradflow/core/random.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace gradflow {

ProbabilityResult estimate_probability(const Mlp& network, const InitOptions& init, const ProbabilityOptions& options,
                                       std::atomic<long>* progress) {
  if (options.draws < 1) throw std::invalid_argument("estimate_probability(): draws must be >= 1");
  if (options.steps < 1) throw std::invalid_argument("estimate_probability(): steps must be >= 1");
  if (!(options.eps > 0.0 && options.eps < 1.0)) throw std::invalid_argument("estimate_probability(): eps must be in (0, 1)");
  const auto start = std::chrono::steady_clock::now();
  ProbabilityResult result;
  result.draws.resize(static_cast<std::size_t>(options.draws));
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = static_cast<int>(std::min<long>(options.threads > 0 ? options.threads : cores, options.draws));
  result.threads_used = threads;
  std::atomic<long> next{0};
  const auto worker = [&]() {
    const Mlp local = network;  // each thread evaluates its own copy (the network keeps scratch space)
    while (true) {
      const long j = next.fetch_add(1);
      if (j >= options.draws) return;
      DrawResult& draw = result.draws[static_cast<std::size_t>(j)];
      draw.draw = j;
      draw.init_seed = derive_seed(init.seed, static_cast<std::uint64_t>(j));
      InitOptions options_j = init;
      options_j.seed = draw.init_seed;
      const Vector theta0 = initialize(local.architecture(), options_j);
      const Certificate certificate = certify(local, theta0);
      draw.certified = certificate.applies && certificate.holds;
      draw.sigma0 = certificate.sigma0;
      draw.mu = draw.certified ? certificate.mu : 0.0;
      const double loss0 = local.loss(theta0);
      draw.loss0 = loss0;
      DescentOptions descent = options.descent;
      descent.max_iters = options.steps;
      descent.loss_tol = options.eps * loss0;
      descent.grad_tol = 0.0;
      descent.save_every = options.steps;
      const DescentResult run = descend(local, theta0, descent);
      draw.reached = run.status == Status::tolerance_reached && run.loss_final <= options.eps * loss0;
      draw.iterations = run.iterations;
      draw.loss_final = run.loss_final;
      if (progress) ++*progress;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();

  for (const DrawResult& draw : result.draws) {
    result.certified += draw.certified ? 1 : 0;
    result.reached += draw.reached ? 1 : 0;
  }
  result.certified_interval = clopper_pearson(result.certified, options.draws, options.alpha);
  result.reached_interval = clopper_pearson(result.reached, options.draws, options.alpha);
  const Certificate probe = certify(network, initialize(network.architecture(), init));
  if (!probe.applies) result.why_not_applicable = probe.why_not;
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace gradflow
