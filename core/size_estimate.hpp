/// @file
/// Sizes checked before they are allocated: a sum of products of sizes in bytes, computed with
/// overflow-checked arithmetic (__builtin_mul_overflow; an overflow is an estimate past any limit). The
/// library estimates what a problem, a run or an observation will allocate with it
/// (network_memory, observe_memory, sweep_run_memory); the command line and the Python module compare
/// the estimate with the process's memory limit before anything is allocated (apps/support/memory_limit.hpp).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

namespace gradflow {

/// a * b, or nothing when it overflows 64 bits.
std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b);
/// a + b, or nothing when it overflows 64 bits.
std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b);

/// A sum of products of sizes, in bytes; saturates (and remembers it) on overflow.
class SizeEstimate {
 public:
  /// Adds the product of the factors (e.g. {n, d, sizeof(double)}). Negative factors count as 0.
  SizeEstimate& add(std::initializer_list<long long> factors);
  /// Adds other's total; an overflowed other makes this one overflowed.
  SizeEstimate& add(const SizeEstimate& other);
  /// The total in bytes; UINT64_MAX once overflowed.
  std::uint64_t bytes() const { return overflowed_ ? UINT64_MAX : bytes_; }
  /// True when a product or sum overflowed 64 bits: the estimate is past any limit.
  bool overflowed() const { return overflowed_; }

 private:
  std::uint64_t bytes_ = 0;
  bool overflowed_ = false;
};

/// "17.6 GiB", "512 MiB", "800 bytes"; "more than 16 EiB" for an overflowed estimate.
std::string format_bytes(std::uint64_t bytes);

}  // namespace gradflow
