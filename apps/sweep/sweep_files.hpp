// A sweep's folder as the command line writes it: each finished run appended to runs.csv with a
// single write() of a whole line and flushed, its curve under curves/, runs.csv rewritten sorted by
// run key when the sweep completes (so the file does not depend on the thread count or the order of
// completion), and summary.csv. Nothing is lost: a second run of the same sweep skips the runs already
// recorded (a torn last line, from a kill during a write, is ignored and dropped).
#pragma once

#include <gradflow/experiments/run_record.hpp>
#include <gradflow/experiments/sweep_runner.hpp>
#include <gradflow/experiments/sweep_summary.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace gradflow {

std::string curve_file_name(const RunSpec& run);  // curves/<hash>.csv, relative to the output directory
// The curve file's rows, by the names of its header (flow/row_fields.hpp).
std::vector<CurvePoint> read_curve(const std::string& path);

struct SweepProgress {
  std::atomic<long> done{0};
  long total = 0;
};

// Executes the runs, in parallel on `threads` threads (core/thread_pool.hpp: a thread that
// cannot be created is reported to warn and done without), appending each finished line to
// append_path and writing its curve under spec.out/curves. Returns the new records. A run that throws
// is reported after the others finish (std::runtime_error); running out of memory is std::bad_alloc,
// a failed write an IoError.
std::vector<RunRecord> execute_pending(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                       const std::string& append_path, SweepProgress* progress,
                                       const std::function<void(const std::string&)>& warn = {});

// Rewrites runs.csv from these records, sorted by key, whole or not at all.
void write_runs_sorted(const std::string& path, std::vector<RunRecord> records);

// tolerance: tolerance_label(spec), written in every row.
void write_summary(const std::string& path, const std::vector<SummaryRow>& rows, const std::string& tolerance);

}  // namespace gradflow
