#include <gradflow/problems/detail/parallel_for.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace gradflow::detail {
namespace {

// How long an idle worker keeps looking for the next job before it sleeps: long enough to cover the
// gap between the parallel steps of one evaluation and between evaluations of a solver, short
// enough not to hold a core that other work needs.
constexpr auto kIdleLook = std::chrono::microseconds(200);

// One job at a time. The job is published by ticket_ = 2 g + 1 (g counts jobs) and closed by
// ticket_ = 2 g + 2 once the caller has run out of tasks. A worker joins an open job by incrementing
// active_ and checking that the ticket has not changed (sequentially consistent atomics: either the
// caller's close sees the increment and waits for it, or the worker sees the close and backs out);
// the caller returns once active_ is 0, so the job's fields stay valid while any worker uses them.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  // False when another caller holds the pool.
  bool run(int threads, long count, const std::function<void(long)>& task) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    start_workers(threads - 1);
    task_ = &task;
    count_ = count;
    next_.store(0);
    error_ = nullptr;
    seats_.store(threads - 1);
    const std::uint64_t open = ticket_.load() + 1;  // ticket_ is even between jobs
    ticket_.store(open);
    if (sleepers_.load() > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      wake_.notify_all();
    }
    work();
    ticket_.store(open + 1);
    while (active_.load() != 0) std::this_thread::yield();
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  // Starts workers up to wanted; a thread the system refuses (a process limit, no address space) ends
  // the attempt for good: the jobs run on the workers there are (and the caller).
  void start_workers(int wanted) {
    while (!refused_ && static_cast<int>(workers_.size()) < wanted) {
      try {
        workers_.emplace_back([this] { loop(); });
      } catch (const std::system_error&) {
        refused_ = true;
      }
    }
  }

 public:
  // Starts the workers of a threads-thread job now; returns the threads a job can use (caller included).
  int prepare(int threads) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return threads;  // in use: its next job starts them
    start_workers(threads - 1);
    return std::min(threads, static_cast<int>(workers_.size()) + 1);
  }

 private:
  // Runs the open job's tasks until none is left.
  void work() {
    for (long i = next_.fetch_add(1); i < count_; i = next_.fetch_add(1)) {
      try {
        (*task_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(count_);  // skip the tasks not yet started
      }
    }
  }

  void loop() {
    std::uint64_t seen = ticket_.load();
    while (true) {
      const auto idle_since = std::chrono::steady_clock::now();
      std::uint64_t ticket = ticket_.load();
      while (ticket == seen || ticket % 2 == 0) {
        seen = ticket;
        if (stop_.load()) return;
        if (std::chrono::steady_clock::now() - idle_since < kIdleLook) {
          std::this_thread::yield();
        } else {
          std::unique_lock<std::mutex> lock(mutex_);
          sleepers_.fetch_add(1);
          wake_.wait(lock, [&] { return stop_.load() || ticket_.load() != seen; });
          sleepers_.fetch_sub(1);
        }
        ticket = ticket_.load();
      }
      seen = ticket;
      if (seats_.fetch_sub(1) <= 0) continue;  // enough workers on this job
      active_.fetch_add(1);
      if (ticket_.load() == ticket) work();
      active_.fetch_sub(1);
    }
  }

  bool refused_ = false;  // the system refused a thread: no more are tried
  std::mutex busy_;       // held by the caller of the current job
  std::vector<std::thread> workers_;
  std::mutex mutex_;  // for sleeping and waking
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};

  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<int> seats_{0};   // workers that may still join the open job
  std::atomic<int> active_{0};  // workers inside the job
  const std::function<void(long)>* task_ = nullptr;
  long count_ = 0;
  std::atomic<long> next_{0};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

void run_here(long count, const std::function<void(long)>& task) {
  for (long i = 0; i < count; ++i) task(i);
}

}  // namespace

int prepare_parallel_for(int threads) { return threads <= 1 ? 1 : pool().prepare(threads); }

void parallel_for(int threads, long count, const std::function<void(long)>& task) {
  if (threads <= 1 || count <= 1 || !pool().run(threads, count, task)) run_here(count, task);
}

}  // namespace gradflow::detail
