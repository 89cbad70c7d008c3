#include <gradflow/core/cancellation.hpp>

#include <algorithm>
#include <cstdint>

namespace gradflow {
namespace {

std::atomic<std::int64_t> interval_ns{std::chrono::nanoseconds(std::chrono::milliseconds(20)).count()};

// Per thread: the group it is a member of, and when it last called the check.
thread_local CancellationGroup* current_group = nullptr;
thread_local std::chrono::steady_clock::time_point last_call{};

}  // namespace

namespace detail {

std::atomic<CancellationCheck> installed_cancellation_check{nullptr};

bool poll_cancellation(CancellationCheck check) {
  CancellationGroup* const group = current_group;
  if (group != nullptr && group->cancelled()) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_call < std::chrono::nanoseconds(interval_ns.load(std::memory_order_relaxed))) return false;
  last_call = now;
  if (!check()) return false;
  if (group != nullptr) group->cancel();
  return true;
}

}  // namespace detail

void set_cancellation_check(CancellationCheck check, std::chrono::nanoseconds interval) {
  interval_ns.store(std::max<std::int64_t>(0, interval.count()), std::memory_order_relaxed);
  detail::installed_cancellation_check.store(check, std::memory_order_release);
}

CancellationCheck cancellation_check() { return detail::installed_cancellation_check.load(std::memory_order_acquire); }

CancellationGroup::Member::Member(CancellationGroup& group) : previous_(current_group) { current_group = &group; }

CancellationGroup::Member::~Member() { current_group = previous_; }

}  // namespace gradflow
