/// @file
/// Cancellation: a caller installs a cheap "should I stop?" check, and the long loops poll it: the flow
/// after every accepted step (every back end), descent after every iteration, and a grid of runs
/// (run_grid, estimate_probability) before each run and inside it. A run that the check stops ends with
/// Status::interrupted, a message saying where, and the last accepted state (its final row recorded, as
/// for time_limit); a grid stops its runs in progress and starts no other.
///
///   std::atomic<bool> stop{false};  // set by a signal handler, a button, another thread
///   gradflow::set_cancellation_check([] { return stop.load(); });  // a captureless lambda or a function
///   gradflow::DescentResult r = gradflow::descend(problem, theta0, options);  // r.status: interrupted
///   gradflow::set_cancellation_check(nullptr);
///
/// Cost and frequency: with no check installed a poll is one relaxed atomic load. With one, a poll
/// reads the steady clock and calls the check only when `interval` (default 20 ms; 0: at every poll)
/// has passed since this thread last called it, so a check may be slow (the Python module's takes the
/// GIL): a loop stops within one interval plus one step of the check first returning true.
///
/// Thread safety: set_cancellation_check may be called from any thread at any time; it is one check for
/// the process. The check is called from every thread that runs a loop, possibly several at once: it
/// must be thread-safe and must not throw (an exception from it ends the process). It is asked again at
/// the next interval, so a check that should stop everything keeps returning true until the caller
/// resets it. A check that answers only on one thread (the Python module's sees signals on the main
/// thread only) still stops a grid run on other threads: the grid's threads form a CancellationGroup,
/// the calling thread polls for them while they run, and a true on any member stops all of them.
#pragma once

#include <gradflow/core/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>

namespace gradflow {

/// What a computation that returns no status throws when the check stops it: certify() and
/// find_positive_scale() (theory/certificate.hpp) poll between evaluations of the Jacobian's Lipschitz
/// bound, which on a deep network can take seconds in all, and the network's bound (Mlp,
/// problems/mlp.hpp) polls at every layer of one evaluation. The caller that installed the check (the
/// Python module) turns it into its own interruption.
class Cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Returns true when the runs should stop. A plain function: it can be swapped atomically and never
/// dangles.
using CancellationCheck = bool (*)();

/// Installs check (nullptr: none) for the whole process; interval: at least this long between two calls
/// on one thread.
void set_cancellation_check(CancellationCheck check, std::chrono::nanoseconds interval = std::chrono::milliseconds(20));
/// The check installed by set_cancellation_check(), or nullptr when none is.
CancellationCheck cancellation_check();

namespace detail {
/// The process-wide check (nullptr: none); read by cancellation_requested().
extern std::atomic<CancellationCheck> installed_cancellation_check;
/// One poll with check installed: true at once when the calling thread's CancellationGroup is cancelled;
/// otherwise calls check only when the interval has passed since this thread last called it, and on true
/// cancels the thread's group.
bool poll_cancellation(CancellationCheck check);
}  // namespace detail

/// What a long loop calls: true when it should stop (see above for when the check is called).
inline bool cancellation_requested() {
  const CancellationCheck check = detail::installed_cancellation_check.load(std::memory_order_relaxed);
  return check != nullptr && detail::poll_cancellation(check);
}

/// The threads of one piece of work spread over threads (the runs of a grid): once one of them polls
/// true, every member's polls return true, whatever the check says on its own thread.
class CancellationGroup {
 public:
  /// True once any member has polled true or cancel() was called.
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  /// Makes every member's later polls return true; cannot be undone.
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  /// The calling thread is a member while it lives (members nest: the previous group comes back).
  class Member {
   public:
    /// Makes the calling thread a member of group until destruction.
    explicit Member(CancellationGroup& group);
    /// Restores the thread's previous group (or none).
    ~Member();
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

   private:
    CancellationGroup* previous_;
  };

 private:
  std::atomic<bool> cancelled_{false};
};

/// Runs work() as the group's work while the calling thread, a member, polls every interval until it
/// is done (run_with_progress, core/thread_pool.hpp): for a check that answers only on the calling
/// thread. work() runs on another thread, and each of its threads must be a Member of group. Without
/// a check installed, work() runs here.
template <class Work>
auto run_watched(CancellationGroup& group, Work work) -> decltype(work()) {
  if (cancellation_check() == nullptr) return work();
  const CancellationGroup::Member member(group);
  return run_with_progress(
      std::move(work), [] { (void)cancellation_requested(); }, std::chrono::milliseconds(5));
}

}  // namespace gradflow
