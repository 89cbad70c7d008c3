#include <gradflow/core/size_estimate.hpp>

#include <cstdio>

namespace gradflow {

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

SizeEstimate& SizeEstimate::add(std::initializer_list<long long> factors) {
  std::uint64_t product = 1;
  for (const long long f : factors) {
    const auto next = checked_mul(product, f > 0 ? static_cast<std::uint64_t>(f) : 0);
    if (!next) {
      overflowed_ = true;
      return *this;
    }
    product = *next;
  }
  const auto sum = checked_add(bytes_, product);
  if (!sum) {
    overflowed_ = true;
  } else {
    bytes_ = *sum;
  }
  return *this;
}

SizeEstimate& SizeEstimate::add(const SizeEstimate& other) {
  if (other.overflowed_) {
    overflowed_ = true;
    return *this;
  }
  const auto sum = checked_add(bytes_, other.bytes_);
  if (!sum) {
    overflowed_ = true;
  } else {
    bytes_ = *sum;
  }
  return *this;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes == UINT64_MAX) return "more than 16 EiB";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

}  // namespace gradflow
