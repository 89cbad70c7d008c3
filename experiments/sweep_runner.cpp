#include <gradflow/experiments/sweep_runner.hpp>

#include <gradflow/core/cancellation.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/size_estimate.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/data_transform.hpp>
#include <gradflow/experiments/held_out.hpp>
#include <gradflow/experiments/trial.hpp>
#include <gradflow/flow/row_fields.hpp>
#include <gradflow/flow/simulate_flow.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/problems/network_data.hpp>
#include <gradflow/theory/certificate.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gradflow {

namespace {

NetworkData raw_dataset(const DatasetSpec& dataset, const SweepSpec& spec, long width, long depth,
                        Activation activation) {
  if (dataset.kind == DatasetSpec::Kind::synthetic) {
    std::optional<TeacherSpec> teacher;
    if (spec.teacher)
      teacher = TeacherSpec{std::vector<Eigen::Index>(static_cast<std::size_t>(depth), width), activation};
    return synthetic_data(dataset.n, dataset.d, 0, teacher);
  }
  const auto found = spec.file_data.find(dataset.name());
  if (found == spec.file_data.end()) throw std::invalid_argument("the data set " + dataset.name() + " was not read");
  return found->second;
}

// The powers of the conditioning path (one empty entry without it).
std::vector<std::optional<double>> powers_of(const SweepSpec& spec) {
  std::vector<std::optional<double>> powers(spec.condition_path.begin(), spec.condition_path.end());
  if (powers.empty()) powers.push_back(std::nullopt);
  return powers;
}

}  // namespace

NetworkData load_dataset(const DatasetSpec& dataset, const SweepSpec& spec, long width, long depth,
                         Activation activation) {
  return transform_inputs(raw_dataset(dataset, spec, width, depth, activation), spec.preprocess);
}

TransformedData load_run_data(const DatasetSpec& dataset, const SweepSpec& spec, long width, long depth,
                              Activation activation, std::optional<double> power) {
  NetworkData train = raw_dataset(dataset, spec, width, depth, activation);
  std::optional<NetworkData> test;
  if (spec.holdout > 0.0) {
    HoldoutSplit split = split_holdout(train, spec.holdout, spec.holdout_seed);
    train = std::move(split.train);
    test = std::move(split.test);
  } else if (spec.test_file) {
    if (spec.test_file->x.cols() != train.x.cols()) {
      throw std::invalid_argument("the held-out data have " + std::to_string(spec.test_file->x.cols()) +
                                  " features, the data set " + dataset.name() + " " + std::to_string(train.x.cols()));
    }
    test = *spec.test_file;
  }
  return transform_train_test(train, test, spec.preprocess, power.value_or(1.0));
}

ScaleSearch auto_scale(const Mlp& network, const InitOptions& positive, const Method& method) {
  return find_positive_scale(network, positive, method.is_descent());
}

std::optional<OptionError> check_datasets(const SweepSpec& spec) {
  for (const DatasetSpec& dataset : spec.datasets) {
    for (const auto& power : powers_of(spec)) {
      try {
        if (spec.holdout > 0.0) {
          (void)split_holdout(
              raw_dataset(dataset, spec, spec.widths.front(), spec.depths.front(), spec.activations.front()),
              spec.holdout, spec.holdout_seed);
        }
      } catch (const std::invalid_argument& e) {
        return OptionError{"holdout", full_precision(spec.holdout), dataset.name() + ": " + e.what()};
      }
      try {
        (void)load_run_data(dataset, spec, spec.widths.front(), spec.depths.front(), spec.activations.front(), power);
      } catch (const std::invalid_argument& e) {
        if (power) return OptionError{"condition_path", full_precision(*power), dataset.name() + ": " + e.what()};
        return OptionError{spec.test_file ? "test_data" : "preprocess", dataset.name(), e.what()};
      }
    }
  }
  return std::nullopt;
}

std::optional<OptionError> check_auto_scale(const SweepSpec& spec) {
  if (spec.output_scale) return std::nullopt;
  if (std::find(spec.inits.begin(), spec.inits.end(), InitScheme::positive) == spec.inits.end()) return std::nullopt;
  if (!spec.output_scales.empty() && std::none_of(spec.output_scales.begin(), spec.output_scales.end(),
                                                  [](const ScaleChoice& c) { return c.needs_threshold(); }))
    return std::nullopt;
  for (const DatasetSpec& dataset : spec.datasets)
    for (const auto& power : powers_of(spec))
      for (const Activation activation : spec.activations)
        for (const long depth : spec.depths) {
          const long width = *std::min_element(spec.widths.begin(), spec.widths.end());
          NetworkData data;
          try {
            data = load_run_data(dataset, spec, width, depth, activation, power).train;
          } catch (const std::invalid_argument& e) {
            return OptionError{"preprocess", dataset.name(), e.what()};
          }
          MlpArchitecture arch;
          arch.input_dim = data.x.cols();
          arch.widths.assign(static_cast<std::size_t>(depth), width);
          arch.activation = activation;
          const Mlp network(arch, data.x, data.y);
          InitOptions init;
          init.scheme = InitScheme::positive;
          init.seed = RunSpec{InitScheme::positive, width, depth, activation, 0, Method{}, dataset}.init_seed();
          for (const Method& method : spec.methods) {
            const ScaleSearch search = auto_scale(network, init, method);
            if (!search.found) {
              return OptionError{
                  "output_scale", "auto",
                  "no certified scale for the positive initialization with " + std::string(to_string(activation)) +
                      " on " + dataset.name() + " (width " + std::to_string(width) + ", " + method.name() +
                      "): " + search.why_not +
                      ". Use the activation softplus-centered (or another with sigma(0) = 0) or give the "
                      "output scale as a number (1, say), which then runs uncertified"};
            }
          }
        }
  return std::nullopt;
}

RunRecord execute_run(const RunSpec& run, const SweepSpec& spec, std::vector<CurvePoint>* curve) {
  const auto start = std::chrono::steady_clock::now();
  RunRecord r;
  r.run = run;
  const Activation activation = run.activation;
  const TransformedData split = load_run_data(run.dataset, spec, run.width, run.depth, activation, run.power);
  const NetworkData& data = split.train;
  MlpArchitecture arch;
  arch.input_dim = data.x.cols();
  arch.widths.assign(static_cast<std::size_t>(run.depth), run.width);
  arch.activation = activation;
  const Mlp network(arch, data.x, data.y);
  r.n = data.x.rows();
  r.d = data.x.cols();
  r.params = network.dimension();
  r.input_condition = input_condition_number(data.x);
  TrialSpec trial = trial_spec(run, spec);
  trial.train = &data;
  trial.test = split.test ? &*split.test : nullptr;
  if (run.scale) {
    double threshold = std::numeric_limits<double>::quiet_NaN();
    if (run.scale->needs_threshold()) {
      const ScaleSearch search = auto_scale(network, trial.init, run.method);
      if (!search.found)
        throw std::invalid_argument("output-scale " + run.scale->name() + ": no certified scale: " + search.why_not);
      threshold = search.scale;
    }
    trial.init.output_scale = run.scale->resolve(threshold, spec.scale_margin, spec.scale_start, spec.scale_end);
  } else if (trial.init.scheme == InitScheme::positive && !spec.output_scale) {
    // The smallest scale certified for the method that runs, times the margin (docs/theory.md §5.5).
    const ScaleSearch search = auto_scale(network, trial.init, run.method);
    if (!search.found) throw std::invalid_argument("output-scale auto: no certified scale: " + search.why_not);
    trial.init.output_scale = spec.scale_margin * search.scale;
  }
  r.init_seed = trial.init.seed;
  r.output_scale = trial.init.output_scale;
  const TrialResult t = run_trial(network, trial);
  record_trial(r, t);
  if (curve) *curve = t.curve;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::vector<RunRecord> run_grid(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                const std::function<void(const RunRecord&, const std::vector<CurvePoint>&)>& finished,
                                std::atomic<long>* done, const std::function<void(const std::string&)>& warn) {
  std::vector<RunRecord> records(runs.size());
  std::vector<char> completed(runs.size(), 0);  // finished, neither skipped nor interrupted
  std::mutex mutex;
  std::string failure;
  CancellationGroup group;
  const auto body = [&](long item) {
    const CancellationGroup::Member member(group);
    if (cancellation_requested()) return;  // a run not started
    const std::size_t i = static_cast<std::size_t>(item);
    std::vector<CurvePoint> curve;
    try {
      records[i] = execute_run(runs[i], spec, &curve);
    } catch (const std::bad_alloc&) {
      throw;  // out of memory: the pool hands it to the caller (exit 3)
    } catch (const Cancelled&) {
      group.cancel();  // stopped inside its certificate: not a finished run, and no failure
      return;
    } catch (const std::exception& e) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty()) failure = runs[i].key() + ": " + e.what();
      return;
    }
    if (records[i].status == to_string(Status::interrupted)) return;  // not a finished run
    completed[i] = 1;
    {
      const std::lock_guard<std::mutex> lock(mutex);
      if (finished) finished(records[i], curve);
    }
    if (done) ++*done;
  };
  run_watched(group, [&] { return parallel_for(static_cast<long>(runs.size()), threads, body, warn); });
  if (!failure.empty()) throw std::runtime_error("a run failed: " + failure);
  if (group.cancelled()) {
    std::vector<RunRecord> kept;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (completed[i]) kept.push_back(std::move(records[i]));
    return kept;
  }
  return records;
}

TrialSpec trial_spec(const RunSpec& run, const SweepSpec& spec) {
  TrialSpec trial;
  trial.init.scheme = run.init;
  trial.init.seed = run.init_seed();
  if (run.init == InitScheme::positive && spec.output_scale) trial.init.output_scale = *spec.output_scale;
  trial.method = run.method;
  trial.eps = spec.eps;
  trial.loss_tol = spec.loss_tol;
  trial.max_steps = spec.max_steps;
  trial.lr = spec.lr;
  trial.lr_c = run.lr_c;
  if (spec.gamma > 0.0) trial.gamma = spec.gamma;
  trial.t_end = spec.t_end;
  trial.rtol = spec.rtol;
  trial.atol = spec.atol;
  trial.time_accuracy = spec.time_accuracy;
  trial.measure_beta0 = true;
  trial.curve_points = spec.curve_points;
  trial.observe = spec.observe;
  trial.kernel_endpoints = spec.observe.needs_ntk() || !spec.output_scales.empty() || !spec.condition_path.empty();
  return trial;
}

}  // namespace gradflow
