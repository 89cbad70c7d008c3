/// @file
/// The one pool of worker threads of the process: the network's evaluations (problems/mlp.hpp) and the
/// experiments' trials (sweeps, compare-inits, the probability estimate) all run their parallel loops on
/// it, so that two pools never fight for the cores.
///
/// - plan_threads() turns a requested count (0 = all cores) into the count to start: at most 4x the
///   machine's cores (more is capped, with a warning) and at most the number of work items.
/// - parallel_for(count, threads, body) runs body(i) for 0 <= i < count on up to `threads` threads, the
///   calling thread one of them, and returns when all have run. Which thread runs which item is not
///   fixed: a caller whose results must not depend on the thread count gives every item its own outputs.
/// - The workers persist between jobs: an idle worker looks for the next job for a short while,
///   yielding the processor between looks, and then sleeps until woken. (Spinning alone, OpenMP's
///   default, made a 2-thread evaluation 10 to 30 times slower than a 1-thread one on a machine whose
///   cores were busy with other work; sleeping at once costs a wake-up, tens of microseconds, per job.)
/// - One job at a time: a second caller, on another thread, while the pool is busy runs its items on its
///   own thread (the same results, since they do not depend on the thread count). A job inside a job
///   (an evaluation inside a trial) therefore runs on the thread that asks.
/// - A thread the system refuses (the process or user limit on threads, no memory for its stack) is done
///   without, with a warning; the pool never ends the process. An exception thrown by an item is caught,
///   the items not yet started are skipped, and the first exception is rethrown on the calling thread.
/// - A thread ended inside an item by pthread_exit or pthread_cancel (forced unwinding, which a
///   catch (...) must let through: abi::__forced_unwind) goes on unwinding; the items not yet started
///   are skipped and the job still closes: the calling thread waits for the workers before it unwinds,
///   and a worker leaves the job before it ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace gradflow {

/// What plan_threads() decides: the threads to start and a warning when the request was capped.
struct ThreadPlan {
  int threads = 1;      ///< threads to use, >= 1: at most 4x the cores and at most the work items
  std::string warning;  ///< non-empty when the request was capped
};

/// requested: 0 = all cores divided by share (MPI ranks on one machine); cores: 0 = the machine's.
ThreadPlan plan_threads(long requested, long work_items, int share = 1, unsigned cores = 0);

/// Starts a thread running body, or throws std::system_error (as std::thread does). Replaceable for tests.
using ThreadStarter = std::function<std::thread(std::function<void()>)>;

/// What one job on the pool got: its threads, and a warning when fewer could be created.
struct PoolOutcome {
  int threads = 1;      ///< the threads that could run the job, the calling thread included
  std::string warning;  ///< non-empty when fewer threads than asked could be created
};

/// A pool of persistent worker threads that runs one parallel loop at a time (see above).
class ThreadPool {
 public:
  /// starter starts each worker (empty: std::thread); workers start when a job or prepare() needs them.
  explicit ThreadPool(ThreadStarter starter = {});
  /// Stops and joins every worker.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// body(i) for 0 <= i < count on up to `threads` threads (see above). warn (may be empty) receives the
  /// warning when fewer threads than asked could be created.
  PoolOutcome run(int threads, long count, const std::function<void(long)>& body,
                  const std::function<void(const std::string&)>& warn = {});
  /// Starts the workers of a threads-thread job now; returns the threads a job can use (at least 1).
  int prepare(int threads);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The process's pool.
ThreadPool& shared_pool();

/// shared_pool().run(threads, count, body, warn).
PoolOutcome parallel_for(long count, int threads, const std::function<void(long)>& body,
                         const std::function<void(const std::string&)>& warn = {});

namespace detail {
/// body()'s exception (null when it returned), as catch (...) gives it; but a forced unwinding of the
/// thread (pthread_exit, pthread_cancel: abi::__forced_unwind, which must not be swallowed) calls
/// ended() and goes on.
std::exception_ptr exception_of(const std::function<void()>& body, const std::function<void()>& ended);
}  // namespace detail

/// Runs work on a new thread while the calling thread calls tick() every period until work is done;
/// when no thread can be created, runs work on the calling thread (without ticks). Rethrows work's
/// exception on the calling thread.
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
      const auto finish = [&] {
        const std::lock_guard<std::mutex> lock(mutex);
        done = true;
        done_signal.notify_all();
      };
      failure = detail::exception_of(
          [&] { result = work(); },
          [&] {  // the thread is being ended: the caller is told
            failure = std::make_exception_ptr(std::runtime_error("the thread of the work was ended"));
            finish();
          });
      finish();
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
