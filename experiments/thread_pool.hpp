// Worker threads that never end the process: the one pool that sweeps, compare-inits and the
// probability estimate run on.
//
// - plan_threads() turns a requested count (0 = all cores) into the count to start: at most 4x the
//   machine's cores (more is capped, with a warning) and at most the number of work items.
// - run_on_threads() starts the workers; a thread that cannot be created (the process or user limit
//   on threads, no memory for its stack) is reported in a warning and the pool goes on with the
//   threads it has. The calling thread is always one of the workers, so there is at least one.
// - An exception thrown by a worker (std::bad_alloc included) is caught, the other workers finish,
//   and the first one is rethrown on the calling thread: no path ends in std::terminate.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace gradflow {

struct ThreadPlan {
  int threads = 1;
  std::string warning;  // non-empty when the request was capped
};

// requested: 0 = all cores divided by share (MPI ranks on one machine); cores: 0 = the machine's.
ThreadPlan plan_threads(long requested, long work_items, int share = 1, unsigned cores = 0);

// Starts a thread running body, or throws std::system_error (as std::thread does). Replaceable for tests.
using ThreadStarter = std::function<std::thread(std::function<void()>)>;

struct PoolOutcome {
  int threads = 1;      // the threads that ran workers, the calling thread included
  std::string warning;  // non-empty when fewer threads than asked could be created
};

// warn (may be empty) receives the warning as soon as the threads are started.
PoolOutcome run_on_threads(int threads, const std::function<void()>& worker, const ThreadStarter& starter = {},
                           const std::function<void(const std::string&)>& warn = {});

// The one loop that sweeps, compare-inits and the probability estimate run their trials with:
// body(i) for every i in [0, count), handed out in order to `threads` workers (run_on_threads above:
// the threads that cannot be created are done without, and the first exception a body throws is
// rethrown here after the others finish). Which thread runs an item never changes its result as long
// as body(i) depends only on i.
PoolOutcome parallel_for(long count, int threads, const std::function<void(long)>& body,
                         const std::function<void(const std::string&)>& warn = {});

// Runs work on a new thread while the calling thread calls tick() every period until work is done;
// when no thread can be created, runs work on the calling thread (without ticks). Rethrows work's
// exception on the calling thread.
template <class Work, class Tick>
auto run_with_progress(Work work, Tick tick, std::chrono::milliseconds period) -> decltype(work()) {
  using Result = decltype(work());
  Result result{};
  std::exception_ptr failure;
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;
  std::thread thread;
  try {
    thread = std::thread([&] {
      try {
        result = work();
      } catch (...) {
        failure = std::current_exception();
      }
      const std::lock_guard<std::mutex> lock(mutex);
      done = true;
      done_signal.notify_all();
    });
  } catch (const std::system_error&) {
    return work();  // no thread for the progress: run here
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (!done_signal.wait_for(lock, period, [&] { return done; })) {
      lock.unlock();
      tick();
      lock.lock();
    }
  }
  thread.join();
  if (failure) std::rethrow_exception(failure);
  return result;
}

}  // namespace gradflow
