#include <gradflow/apps/support/memory_limit.hpp>

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <mutex>

namespace gradflow {
namespace {

std::mutex g_limit_mutex;
std::optional<MemoryLimit> g_limit;

}  // namespace

std::uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return checked_mul(static_cast<std::uint64_t>(pages), static_cast<std::uint64_t>(page)).value_or(UINT64_MAX);
}

std::optional<std::uint64_t> parse_memory_size(std::string_view text) {
  std::size_t i = 0;
  std::string number;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) number += text[i++];
  if (number.empty() || number.size() > 32 || number == ".") return std::nullopt;
  std::string unit;
  for (; i < text.size(); ++i) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  double scale = 1.0;
  if (!unit.empty()) {
    const char prefix = unit[0];
    const std::string rest = unit.substr(1);
    if (unit == "B") {
      scale = 1.0;
    } else if ((prefix == 'K' || prefix == 'M' || prefix == 'G' || prefix == 'T') &&
               (rest.empty() || rest == "B" || rest == "IB")) {
      scale = prefix == 'K' ? 0x1p10 : prefix == 'M' ? 0x1p20 : prefix == 'G' ? 0x1p30 : 0x1p40;
    } else {
      return std::nullopt;
    }
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return std::nullopt;
  const double bytes = std::floor(value * scale);
  if (!(bytes >= 1.0) || bytes >= 0x1p63) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

MemoryLimit default_memory_limit() {
  const std::uint64_t physical = physical_memory_bytes();
  if (physical == 0) return {std::uint64_t{8} << 30, "8 GiB (the physical memory is unknown)"};
  return {physical / 4 * 3, "75% of physical memory"};
}

MemoryLimit memory_limit() {
  const std::lock_guard<std::mutex> lock(g_limit_mutex);
  if (!g_limit) g_limit = default_memory_limit();
  return *g_limit;
}

void set_memory_limit(const MemoryLimit& limit) {
  const std::lock_guard<std::mutex> lock(g_limit_mutex);
  g_limit = limit;
}

void check_memory(const SizeEstimate& estimate, const std::string& option, const std::string& value,
                  const std::string& what) {
  const MemoryLimit limit = memory_limit();
  if (!estimate.overflowed() && estimate.bytes() <= limit.bytes) return;
  const std::string needs = estimate.overflowed()
                                ? " needs more than 16 EiB of memory (the sizes overflow 64 bits)"
                                : " needs about " + format_bytes(estimate.bytes()) + " of memory (estimate)";
  throw MemoryLimitError(option, value,
                         what + needs + ", more than the limit of " + format_bytes(limit.bytes) + " (" + limit.source +
                             "); reduce " + option + ", or raise the limit with --max-memory");
}

}  // namespace gradflow
