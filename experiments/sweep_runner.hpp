// Running a sweep: one run (a network trained from one initialization by one method), the runs.csv
// line that records it, and the parallel, resumable execution of a whole grid.
//
// Nothing is lost: each finished run is appended to runs.csv with a single write() of a whole line and
// flushed; a second run of the same sweep skips the runs already recorded (a torn last line, from a
// kill during a write, is ignored and dropped); when the sweep completes, runs.csv is rewritten sorted
// by run key, so the file does not depend on the thread count or the order of completion.
#pragma once

#include <gradflow/experiments/sweep_spec.hpp>

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

struct RunRecord {
  RunSpec run;
  long n = 0, d = 0, params = 0;
  double output_scale = 1.0;
  std::uint64_t init_seed = 0;
  double loss0 = 0.0;
  int certified = -1;  // 1 holds, 0 does not, -1 the theory does not apply
  double certified_mu = std::numeric_limits<double>::quiet_NaN();
  double certified_travel = std::numeric_limits<double>::quiet_NaN();
  bool reached = false;                                           // loss <= eps L0 within the budget
  long steps_to_eps = -1;                                         // iterations or accepted flow steps (-1: not reached)
  double time_to_eps = std::numeric_limits<double>::quiet_NaN();  // flow time, or the sum of descent steps
  double final_loss = 0.0;
  long steps = 0;
  std::string status;
  double wall_seconds = 0.0;  // last column: the only one that depends on the machine's load
};

// The trajectory kept for the plots: step (iteration, or accepted flow step), t, loss, ||grad L||,
// ||theta - theta0||, PL ratio, certified bound.
struct CurvePoint {
  double step, t, loss, grad_norm, dist_from_init, pl_ratio, bound;
};

extern const char* const kRunsHeader;
std::string to_csv_line(const RunRecord& record);  // without the newline
std::optional<RunRecord> parse_csv_line(const std::string& line);
std::vector<RunRecord> read_runs(const std::string& path);  // skips the header and malformed lines
std::string curve_file_name(const RunSpec& run);            // curves/<hash>.csv, relative to the output directory
std::vector<CurvePoint> read_curve(const std::string& path);

// Executes one run; curve receives up to spec.curve_points points.
RunRecord execute_run(const RunSpec& run, const SweepSpec& spec, std::vector<CurvePoint>* curve);

struct SweepProgress {
  std::atomic<long> done{0};
  long total = 0;
};

// Executes the runs, in parallel on `threads` threads (experiments/thread_pool.hpp: a thread that
// cannot be created is reported to warn and done without), appending each finished line to
// append_path and writing its curve under spec.out/curves. Returns the new records. A run that throws
// is reported after the others finish (std::runtime_error); running out of memory is std::bad_alloc,
// a failed write an IoError.
std::vector<RunRecord> execute_pending(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                       const std::string& append_path, SweepProgress* progress,
                                       const std::function<void(const std::string&)>& warn = {});

// Rewrites runs.csv from these records, sorted by key, whole or not at all.
void write_runs_sorted(const std::string& path, std::vector<RunRecord> records);

}  // namespace gradflow
