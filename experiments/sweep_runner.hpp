// Running a sweep: one run (a network trained from one initialization by one method), the runs.csv
// line that records it, and the parallel, resumable execution of a whole grid.
//
// Nothing is lost: each finished run is appended to runs.csv with a single write() of a whole line and
// flushed; a second run of the same sweep skips the runs already recorded (a torn last line, from a
// kill during a write, is ignored and dropped); when the sweep completes, runs.csv is rewritten sorted
// by run key, so the file does not depend on the thread count or the order of completion.
#pragma once

#include <gradflow/experiments/run_record.hpp>
#include <gradflow/experiments/sweep_spec.hpp>
#include <gradflow/experiments/trial.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/theory/certificate.hpp>

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradflow {

std::string curve_file_name(const RunSpec& run);  // curves/<hash>.csv, relative to the output directory
std::vector<CurvePoint> read_curve(const std::string& path);

// The data set of a run, read or generated and transformed (spec.preprocess); std::invalid_argument
// when the transform is impossible (whitening dependent inputs).
NetworkData load_dataset(const DatasetSpec& dataset, const SweepSpec& spec, long width, long depth,
                         Activation activation);

// output-scale auto: the smallest certified scale for the method (the descent certificate's threshold
// for a descent rule, the flow certificate's for a solver); the run uses spec.scale_margin times it.
ScaleSearch auto_scale(const Mlp& network, const InitOptions& positive, const Method& method);

// Before anything runs: with output-scale auto and the positive scheme in the grid, every data set,
// activation, depth and method must have a certified scale (checked at the smallest width, seed 0).
// Otherwise an InputError (exit 2) naming why (sigma(0) != 0 without centring, biases, n > d or
// dependent inputs) and offering softplus-centered or a number.
void check_auto_scale(const SweepSpec& spec, const std::string& option);

// The trial of a run (experiments/trial.hpp), output scale not yet resolved for positive with auto.
TrialSpec trial_spec(const RunSpec& run, const SweepSpec& spec);

// Executes one run through run_trial(); curve receives up to spec.curve_points points.
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
