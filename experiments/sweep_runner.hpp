/// @file
/// Running a sweep: one run (a network trained from one initialization by one method) and the parallel
/// execution of a grid of them (run_grid), in memory; the command line writes each finished run to its
/// folder (apps/sweep/sweep_files.hpp), the Python module keeps the records.
#pragma once

#include <gradflow/experiments/data_transform.hpp>
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

/// The data set of a run, read or generated and transformed (spec.preprocess); std::invalid_argument
/// when the transform is impossible (whitening dependent inputs).
NetworkData load_dataset(const DatasetSpec& dataset, const SweepSpec& spec, long width, long depth,
                         Activation activation);

/// The data of a run: the data set read or generated, split into training and held-out points
/// (spec.holdout, or spec.test_file), transformed (spec.preprocess, then the power a of the conditioning
/// path when given) by maps fitted on the training points (experiments/data_transform.hpp);
/// std::invalid_argument when the split or a transform is impossible.
TransformedData load_run_data(const DatasetSpec& dataset, const SweepSpec& spec, long width, long depth,
                              Activation activation, std::optional<double> power = std::nullopt);

/// Before anything runs: every data set read (or generated) and transformed once (spec.preprocess); a
/// transform that refuses one (whitening dependent inputs) is an error of preprocess naming the data set.
/// The command line and the Python module both call it.
std::optional<OptionError> check_datasets(const SweepSpec& spec);

/// output-scale auto: the smallest certified scale for the method (the descent certificate's threshold
/// for a descent rule, the flow certificate's for a solver); the run uses spec.scale_margin times it.
ScaleSearch auto_scale(const Mlp& network, const InitOptions& positive, const Method& method);

/// Before anything runs: with output-scale auto and the positive scheme in the grid, every data set,
/// activation, depth and method must have a certified scale (checked at the smallest width, seed 0).
/// Otherwise the error (output_scale = auto) says why (sigma(0) != 0 without centring, biases, n > d or
/// dependent inputs) and offers softplus-centered or a number; a data set that its transform refuses
/// (whitening dependent inputs) is an error of preprocess.
std::optional<OptionError> check_auto_scale(const SweepSpec& spec);

/// The trial of a run (experiments/trial.hpp), output scale not yet resolved for positive with auto.
TrialSpec trial_spec(const RunSpec& run, const SweepSpec& spec);

/// Executes one run through run_trial(); curve receives up to spec.curve_points points.
RunRecord execute_run(const RunSpec& run, const SweepSpec& spec, std::vector<CurvePoint>* curve);

/// Runs the runs on `threads` threads of the pool (core/thread_pool.hpp), each through execute_run;
/// finished(record, curve) (may be empty) is called once per finished run, one call at a time, and done
/// (may be null) is increased after it. Returns the records in the order of runs. A run that throws is
/// reported after the others (std::runtime_error naming its key); running out of memory is std::bad_alloc,
/// and an exception from finished ends the grid (the runs not yet started are skipped). The caller's
/// cancellation check (core/cancellation.hpp) stops the grid: the runs in progress end early (status
/// interrupted) and are dropped with the runs not yet started; the result then holds only the runs
/// that finished, in the order of runs, and finished was called for those only.
std::vector<RunRecord> run_grid(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                const std::function<void(const RunRecord&, const std::vector<CurvePoint>&)>& finished,
                                std::atomic<long>* done = nullptr,
                                const std::function<void(const std::string&)>& warn = {});

}  // namespace gradflow
