// The process's memory limit (the command line's --max-memory) and the check of a size estimate
// (core/size_estimate.hpp) against it. Every size a user can choose (a dimension, widths, a
// number of samples, seeds, draws) goes into an estimate of the bytes a run will allocate, computed
// with overflow-checked arithmetic (__builtin_mul_overflow; an overflow is an estimate past any limit),
// and the estimate is compared with the memory limit before anything is allocated: by default 75% of
// the machine's physical memory, or what --max-memory says ("8G"). Above it the command exits 2 with
// the estimate, the limit and the option that reduces it.
#pragma once

#include <gradflow/core/input_error.hpp>
#include <gradflow/core/size_estimate.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace gradflow {

// The machine's physical memory in bytes (0 when unknown).
std::uint64_t physical_memory_bytes();

// "8G", "512M", "1.5g", "64KiB", "1000000" (bytes): K, M, G, T are powers of 1024. Nothing when the
// text is not such a size or is 0.
std::optional<std::uint64_t> parse_memory_size(std::string_view text);

struct MemoryLimit {
  std::uint64_t bytes = 0;
  std::string source;  // "75% of physical memory" or "--max-memory 8G"
};

// 75% of physical memory (8 GiB when it cannot be read).
MemoryLimit default_memory_limit();
// The limit of this process: the default until set_memory_limit is called (by --max-memory).
MemoryLimit memory_limit();
void set_memory_limit(const MemoryLimit& limit);

// Estimated memory above the limit: an InputError naming the option that reduces it, exit 2.
class MemoryLimitError : public InputError {
 public:
  using InputError::InputError;
};

// Throws MemoryLimitError when the estimate exceeds the limit:
//   --dim 60000: a dense 60000 x 60000 quadratic needs about 134 GiB (estimate), more than the limit of
//   17.6 GiB (75% of physical memory); reduce --dim, or raise the limit with --max-memory
void check_memory(const SizeEstimate& estimate, const std::string& option, const std::string& value,
                  const std::string& what);

}  // namespace gradflow
