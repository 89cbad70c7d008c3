#include <gradflow/core/thread_pool.hpp>

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <vector>

// A function that catches abi::__forced_unwind& binds a reference to an exception that has no C++
// object (the unwinding of pthread_exit or pthread_cancel): UndefinedBehaviorSanitizer's null check
// reports that binding, which is the documented way to let forced unwinding through. Not checked there.
#if defined(__GNUC__)
#define GRADFLOW_CATCHES_FORCED_UNWIND __attribute__((no_sanitize("null")))
#else
#define GRADFLOW_CATCHES_FORCED_UNWIND
#endif

namespace gradflow {
namespace {

// How long an idle worker keeps looking for the next job before it sleeps: long enough to cover the
// gap between the parallel steps of one evaluation and between evaluations of a solver, short
// enough not to hold a core that other work needs.
constexpr auto kIdleLook = std::chrono::microseconds(200);

}  // namespace

// One job at a time. The job is published by ticket = 2 g + 1 (g counts jobs) and closed by
// ticket = 2 g + 2 once the caller has run out of items. A worker joins an open job by incrementing
// active and checking that the ticket has not changed (sequentially consistent atomics: either the
// caller's close sees the increment and waits for it, or the worker sees the close and backs out);
// the caller returns once active is 0, so the job's fields stay valid while any worker uses them.
struct ThreadPool::State {
  ThreadStarter starter;
  std::string refusal;  // why the system refused a thread ("" while none was refused): no more are tried
  std::mutex busy;      // held by the caller of the current job
  std::vector<std::thread> workers;
  std::mutex mutex;  // for sleeping and waking
  std::condition_variable wake;
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};

  std::atomic<std::uint64_t> ticket{0};
  std::atomic<int> seats{0};   // workers that may still join the open job
  std::atomic<int> active{0};  // workers inside the job
  const std::function<void(long)>* body = nullptr;
  long count = 0;
  std::atomic<long> next{0};
  std::mutex error_mutex;
  std::exception_ptr error;

  // Starts workers up to wanted; a thread the system refuses ends the attempt for good: the jobs run
  // on the workers there are (and the caller).
  // A worker starts from the ticket as it is now, before the caller opens its job: it then sees that
  // job open (reading the ticket in the new thread instead could read the open ticket and miss it).
  void start_workers(int wanted) {
    while (refusal.empty() && static_cast<int>(workers.size()) < wanted) {
      const std::uint64_t now = ticket.load();
      try {
        workers.push_back(starter ? starter([this, now] { loop(now); }) : std::thread([this, now] { loop(now); }));
      } catch (const std::system_error& e) {
        refusal = e.what();
      } catch (const std::bad_alloc&) {
        refusal = "out of memory";
      }
    }
  }

  // Runs the open job's items until none is left.
  GRADFLOW_CATCHES_FORCED_UNWIND void work() {
    for (long i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      try {
        (*body)(i);
#if defined(__GLIBCXX__)
      } catch (abi::__forced_unwind&) {
        // The thread is being ended (pthread_exit, pthread_cancel): the caller is told, the rest skipped,
        // and the unwinding goes on.
        {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) {
            error = std::make_exception_ptr(
                std::runtime_error("a thread was ended (pthread_exit or pthread_cancel) inside an item of the job"));
          }
        }
        next.store(count);
        throw;
#endif
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next.store(count);  // skip the items not yet started
      }
    }
  }

  GRADFLOW_CATCHES_FORCED_UNWIND void loop(std::uint64_t seen) {
    while (true) {
      const auto idle_since = std::chrono::steady_clock::now();
      std::uint64_t current = ticket.load();
      while (current == seen || current % 2 == 0) {
        seen = current;
        if (stop.load()) return;
        if (std::chrono::steady_clock::now() - idle_since < kIdleLook) {
          std::this_thread::yield();
        } else {
          std::unique_lock<std::mutex> lock(mutex);
          sleepers.fetch_add(1);
          wake.wait(lock, [&] { return stop.load() || ticket.load() != seen; });
          sleepers.fetch_sub(1);
        }
        current = ticket.load();
      }
      seen = current;
      if (seats.fetch_sub(1) <= 0) continue;  // enough workers on this job
      active.fetch_add(1);
#if defined(__GLIBCXX__)
      try {
        if (ticket.load() == current) work();
      } catch (abi::__forced_unwind&) {
        active.fetch_sub(1);  // out of the job before the thread ends: the caller does not wait for it
        throw;
      }
#else
      if (ticket.load() == current) work();
#endif
      active.fetch_sub(1);
    }
  }
};

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

ThreadPool::ThreadPool(ThreadStarter starter) : state_(std::make_unique<State>()) {
  state_->starter = std::move(starter);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stop = true;
  }
  state_->wake.notify_all();
  for (std::thread& worker : state_->workers) worker.join();
}

int ThreadPool::prepare(int threads) {
  if (threads <= 1) return 1;
  State& s = *state_;
  std::unique_lock<std::mutex> busy(s.busy, std::try_to_lock);
  if (!busy.owns_lock()) return threads;  // in use: its next job starts them
  s.start_workers(threads - 1);
  return std::min(threads, static_cast<int>(s.workers.size()) + 1);
}

GRADFLOW_CATCHES_FORCED_UNWIND PoolOutcome ThreadPool::run(int threads, long count,
                                                           const std::function<void(long)>& body,
                                                           const std::function<void(const std::string&)>& warn) {
  PoolOutcome outcome;
  State& s = *state_;
  std::unique_lock<std::mutex> busy(s.busy, std::defer_lock);
  if (threads <= 1 || count <= 1 || !busy.try_lock()) {
    // One thread, one item, or the pool is busy with another caller's job: here, on this thread.
    for (long i = 0; i < count; ++i) body(i);
    return outcome;
  }
  s.start_workers(threads - 1);
  const int available = static_cast<int>(s.workers.size()) + 1;
  outcome.threads = std::min(threads, available);
  if (outcome.threads < threads) {
    outcome.warning = "could create only " + std::to_string(outcome.threads) + " of " + std::to_string(threads) +
                      " threads (" + s.refusal + "): going on with " + std::to_string(outcome.threads);
    if (warn) warn(outcome.warning);
  }
  s.body = &body;
  s.count = count;
  s.next.store(0);
  s.error = nullptr;
  s.seats.store(outcome.threads - 1);
  const std::uint64_t open = s.ticket.load() + 1;  // the ticket is even between jobs
  s.ticket.store(open);
  if (s.sleepers.load() > 0) {
    { std::lock_guard<std::mutex> lock(s.mutex); }
    s.wake.notify_all();
  }
  const auto close = [&s, open] {  // no worker uses the job (body lives in the caller's frame) after this
    s.ticket.store(open + 1);
    while (s.active.load() != 0) std::this_thread::yield();
    s.body = nullptr;
  };
#if defined(__GLIBCXX__)
  try {
    s.work();
  } catch (abi::__forced_unwind&) {
    close();  // the calling thread is being ended: the job closes first, then it goes on unwinding
    throw;
  }
#else
  s.work();
#endif
  close();
  if (s.error) std::rethrow_exception(s.error);
  return outcome;
}

namespace detail {

GRADFLOW_CATCHES_FORCED_UNWIND std::exception_ptr exception_of(const std::function<void()>& body,
                                                               const std::function<void()>& ended) {
  try {
    body();
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    ended();
    throw;
#endif
  } catch (...) {
    return std::current_exception();
  }
  (void)ended;
  return nullptr;
}

}  // namespace detail

ThreadPool& shared_pool() {
  static ThreadPool pool;
  return pool;
}

PoolOutcome parallel_for(long count, int threads, const std::function<void(long)>& body,
                         const std::function<void(const std::string&)>& warn) {
  return shared_pool().run(threads, count, body, warn);
}

}  // namespace gradflow
