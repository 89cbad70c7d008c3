// A sweep's folder as the command line writes it: each finished run appended to runs.csv with a
// single write() of a whole line and flushed, its curve under curves/, runs.csv rewritten sorted by
// run key when the sweep completes (so the file does not depend on the thread count or the order of
// completion), and summary.csv. Nothing is lost: a second run of the same sweep skips the runs already
// recorded. Before it appends, a resumed sweep drops a torn last line (a write cut short by a kill) and
// any row that does not parse, each with a warning naming it, so that the new lines never continue a
// fragment, and does those runs again. A line whose write fails (a full disk, a file size limit) is
// taken back (the file is cut to where it was) and the error names its cause. Every file and
// sub-folder is reached from the folder's descriptor (apps/support/output_file.hpp: OutputFolder), so
// a symbolic link planted in the folder is refused, never followed.
#pragma once

#include <gradflow/apps/support/output_file.hpp>
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
// The same from the file's text.
std::vector<CurvePoint> parse_curve(const std::string& text);

// The whole lines that parse of the runs file name in folder (read_runs() without following a link);
// an empty list when there is no such file.
std::vector<RunRecord> read_runs_in(const OutputFolder& folder, const std::string& name);

// Makes the runs file name in folder whole lines that parse: a last line without its line break (torn)
// and every row that does not parse are dropped, each with a warning (the file, the line number, the
// start of the line), and the file is rewritten whole with the rest; a header cut short or naming no
// key starts the file again under the current header. Returns the number of lines dropped.
int repair_runs_file(const OutputFolder& folder, const std::string& name,
                     const std::function<void(const std::string&)>& warn);

struct SweepProgress {
  std::atomic<long> done{0};
  long total = 0;
};

// Executes the runs, in parallel on `threads` threads (core/thread_pool.hpp: a thread that
// cannot be created is reported to warn and done without), appending each finished line to the file
// append_name in the folder out (repaired first if it does not end with a line break) and writing its
// curve under out's curves/. Returns the new records. A run that throws is reported after the others
// finish (std::runtime_error); running out of memory is std::bad_alloc, a failed write an IoError.
std::vector<RunRecord> execute_pending(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                       const OutputFolder& out, const std::string& append_name, SweepProgress* progress,
                                       const std::function<void(const std::string&)>& warn = {});

// Rewrites the runs file name in folder from these records, sorted by key, whole or not at all.
void write_runs_sorted(const OutputFolder& folder, const std::string& name, std::vector<RunRecord> records);

// tolerance: tolerance_label(spec), written in every row.
void write_summary(const OutputFolder& folder, const std::string& name, const std::vector<SummaryRow>& rows,
                   const std::string& tolerance);

}  // namespace gradflow
