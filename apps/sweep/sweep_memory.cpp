#include <gradflow/apps/sweep/sweep_memory.hpp>

#include <gradflow/apps/support/memory_limit.hpp>

#include <algorithm>
#include <cstdint>

namespace gradflow {

void check_sweep_memory(const SweepSpec& spec, int threads, const std::string& threads_option,
                        const std::string& data_option) {
  const std::uint64_t count = sweep_run_count(spec);
  // A synthetic data set too large by itself is named as such, not as the widths of the runs on it.
  for (const DatasetSpec& dataset : spec.datasets) {
    if (dataset.kind != DatasetSpec::Kind::synthetic) continue;
    const std::string size = std::to_string(dataset.n) + "x" + std::to_string(dataset.d);
    check_memory(SizeEstimate().add({dataset.n, dataset.d, 8, 2}), data_option, size,
                 "a synthetic data set of " + size + " values");
  }
  check_memory(sweep_grid_memory(spec), "the grid", "",
               "a grid of " + (count == UINT64_MAX ? std::string("more than 2^64") : std::to_string(count)) +
                   " runs (the product of the lengths of inits, widths, depths, activations, seeds, methods, "
                   "datasets and lr-grid)");
  const SizeEstimate run = sweep_run_memory(spec);
  const long width = *std::max_element(spec.widths.begin(), spec.widths.end());
  const long depth = *std::max_element(spec.depths.begin(), spec.depths.end());
  check_memory(run, "widths", std::to_string(width),
               "a run of width " + std::to_string(width) + " and depth " + std::to_string(depth));
  SizeEstimate total;
  for (int t = 0; t < std::max(threads, 1); ++t) total.add(run);
  check_memory(total, threads_option, std::to_string(threads),
               std::to_string(threads) + " runs at once (one per thread) of width " + std::to_string(width));
}

}  // namespace gradflow
