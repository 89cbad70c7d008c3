#include <gradflow/experiments/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace gradflow {

ThreadPlan plan_threads(long requested, long work_items, int share, unsigned cores) {
  if (cores == 0) cores = std::max(1u, std::thread::hardware_concurrency());
  const long cap = 4L * static_cast<long>(cores);
  ThreadPlan plan;
  long threads = requested > 0 ? requested : std::max(1L, static_cast<long>(cores) / std::max(1, share));
  if (threads > cap) {
    plan.warning = "--threads " + std::to_string(requested) + " is more than 4 x the " + std::to_string(cores) +
                   " cores of this machine: using " + std::to_string(cap) + " threads";
    threads = cap;
  }
  threads = std::min(threads, std::max(1L, work_items));
  plan.threads = static_cast<int>(std::max(1L, threads));
  return plan;
}

PoolOutcome run_on_threads(int threads, const std::function<void()>& worker, const ThreadStarter& starter,
                           const std::function<void(const std::string&)>& warn) {
  std::mutex mutex;
  std::exception_ptr failure;
  const auto guarded = [&] {
    try {
      worker();
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  PoolOutcome outcome;
  std::vector<std::thread> pool;
  std::string why;
  try {
    pool.reserve(static_cast<std::size_t>(std::max(threads, 1)));
  } catch (const std::bad_alloc&) {
    threads = 1;
    why = "out of memory";
  }
  for (int t = 1; t < threads; ++t) {
    try {
      pool.push_back(starter ? starter(guarded) : std::thread(guarded));
    } catch (const std::system_error& e) {
      why = e.what();
      break;
    } catch (const std::bad_alloc&) {
      why = "out of memory";
      break;
    }
  }
  outcome.threads = static_cast<int>(pool.size()) + 1;
  if (outcome.threads < threads) {
    outcome.warning = "could create only " + std::to_string(outcome.threads) + " of " + std::to_string(threads) +
                      " threads (" + why + "): going on with " + std::to_string(outcome.threads);
    if (warn) warn(outcome.warning);
  }
  guarded();
  for (std::thread& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  return outcome;
}

PoolOutcome parallel_for(long count, int threads, const std::function<void(long)>& body,
                         const std::function<void(const std::string&)>& warn) {
  std::atomic<long> next{0};
  const auto worker = [&] {
    while (true) {
      const long i = next.fetch_add(1);
      if (i >= count) return;
      body(i);
    }
  };
  return run_on_threads(threads, worker, {}, warn);
}

}  // namespace gradflow
