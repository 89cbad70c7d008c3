// A sweep's memory against the process's limit, before anything is allocated.
#pragma once

#include <gradflow/experiments/sweep_spec.hpp>

#include <string>

namespace gradflow {

// The estimated memory of the sweep (the grid's records and, per worker thread, its largest run:
// experiments/sweep_runner.hpp) against the process's limit (apps/support/memory_limit.hpp); above it
// a MemoryLimitError naming the key (threads_option for the thread count, data_option for a synthetic
// data set too large by itself). The command line and the Python module both check with it.
void check_sweep_memory(const SweepSpec& spec, int threads, const std::string& threads_option,
                        const std::string& data_option = "datasets");

}  // namespace gradflow
