#include <gradflow/experiments/sweep_runner.hpp>

#include <gradflow/core/input_error.hpp>
#include <gradflow/core/output_file.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/discrete/descend.hpp>
#include <gradflow/experiments/data_transform.hpp>
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

double parse_number(const std::string& text) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::stod(text);
}

std::vector<std::string> split(const std::string& line) {
  auto fields = split_csv_line(line);
  return fields ? std::move(*fields) : std::vector<std::string>{};
}

}  // namespace

NetworkData load_dataset(const DatasetSpec& dataset, const SweepSpec& spec, long width, long depth,
                         Activation activation) {
  if (dataset.kind == DatasetSpec::Kind::synthetic) {
    std::optional<TeacherSpec> teacher;
    if (spec.teacher)
      teacher = TeacherSpec{std::vector<Eigen::Index>(static_cast<std::size_t>(depth), width), activation};
    return transform_inputs(synthetic_data(dataset.n, dataset.d, 0, teacher), spec.preprocess);
  }
  const auto found = spec.file_data.find(dataset.name());
  if (found == spec.file_data.end()) throw std::invalid_argument("the data set " + dataset.name() + " was not read");
  return transform_inputs(found->second, spec.preprocess);
}

ScaleSearch auto_scale(const Mlp& network, const InitOptions& positive, const Method& method) {
  return find_positive_scale(network, positive, method.is_descent());
}

void check_auto_scale(const SweepSpec& spec, const std::string& option) {
  if (spec.output_scale) return;
  if (std::find(spec.inits.begin(), spec.inits.end(), InitScheme::positive) == spec.inits.end()) return;
  for (const DatasetSpec& dataset : spec.datasets)
    for (const Activation activation : spec.activations)
      for (const long depth : spec.depths) {
        const long width = *std::min_element(spec.widths.begin(), spec.widths.end());
        NetworkData data;
        try {
          data = load_dataset(dataset, spec, width, depth, activation);
        } catch (const std::invalid_argument& e) {
          throw InputError(option, dataset.name(), e.what());
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
            throw InputError(option, "auto",
                             "no certified scale for the positive initialization with " +
                                 std::string(to_string(activation)) + " on " + dataset.name() + " (width " +
                                 std::to_string(width) + ", " + method.name() + "): " + search.why_not +
                                 ". Use --activation softplus-centered (or another activation with sigma(0) = 0) "
                                 "or give the scale as a number (--output-scale 1), which then runs uncertified");
          }
        }
      }
}

std::string curve_file_name(const RunSpec& run) {
  char name[64];
  std::snprintf(name, sizeof name, "curves/%016llx.csv", static_cast<unsigned long long>(fnv1a(run.key())));
  return name;
}

std::vector<CurvePoint> read_curve(const std::string& path) {
  std::vector<CurvePoint> points;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // the header: the columns by name (flow/row_fields.hpp)
  std::vector<const RowField*> columns;
  for (const std::string& name : split(line)) columns.push_back(find_row_field(name));
  while (std::getline(in, line)) {
    const auto f = split(line);
    if (f.size() != columns.size()) continue;
    try {
      CurvePoint point;
      for (std::size_t i = 0; i < f.size(); ++i)
        if (columns[i] != nullptr) columns[i]->set(point, parse_number(f[i]));
      points.push_back(point);
    } catch (const std::exception&) {
    }
  }
  return points;
}

RunRecord execute_run(const RunSpec& run, const SweepSpec& spec, std::vector<CurvePoint>* curve) {
  const auto start = std::chrono::steady_clock::now();
  RunRecord r;
  r.run = run;
  const Activation activation = run.activation;
  const NetworkData data = load_dataset(run.dataset, spec, run.width, run.depth, activation);
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
  if (trial.init.scheme == InitScheme::positive && !spec.output_scale) {
    // The smallest scale certified for the method that runs, times the margin (docs/theory.md §5.5).
    const ScaleSearch search = auto_scale(network, trial.init, run.method);
    if (!search.found) throw std::invalid_argument("output-scale auto: no certified scale: " + search.why_not);
    trial.init.output_scale = spec.scale_margin * search.scale;
  }
  r.init_seed = trial.init.seed;
  r.output_scale = trial.init.output_scale;
  const TrialResult t = run_trial(network, trial);
  r.certified = t.certified;
  if (r.certified == 1) {
    r.certified_mu = t.certificate.mu;
    r.certified_travel = run.method.is_descent() ? t.certificate.descent_travel : t.certificate.travel;
  }
  r.beta0 = t.beta0;
  r.lr = t.lr;
  r.loss0 = t.loss0;
  r.loss_target = t.target;
  r.reached = t.reached;
  r.steps = t.steps;
  r.steps_to_eps = t.steps_to_eps;
  r.time_to_eps = t.time_to_eps;
  if (r.reached) r.time_beta0 = r.time_to_eps * r.beta0;
  r.final_loss = t.final_loss;
  r.status = std::string(to_string(t.status));
  r.grad_evals = t.stats.num_gradient_evals;
  r.loss_evals = t.stats.num_loss_evals;
  r.hvp_evals = t.stats.num_hessian_vector_evals;
  r.train_seconds = t.stats.wall_seconds;
  r.observed = t.observed;
  if (curve) *curve = t.curve;
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
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
  trial.measure_beta0 = true;
  trial.curve_points = spec.curve_points;
  trial.observe = spec.observe;
  return trial;
}

std::vector<RunRecord> execute_pending(const std::vector<RunSpec>& runs, const SweepSpec& spec, int threads,
                                       const std::string& append_path, SweepProgress* progress,
                                       const std::function<void(const std::string&)>& warn) {
  std::vector<RunRecord> records(runs.size());
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(spec.out) / "curves", ec);
  if (ec) throw IoError("cannot create " + (std::filesystem::path(spec.out) / "curves").string() + ": " + ec.message());
  // O_NOFOLLOW: a symbolic link planted in the folder is refused, never followed to a file elsewhere.
  const int fd = ::open(append_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno == ELOOP) {
    throw InputError("--out", spec.out, quote_text(append_path) + " is a symbolic link: refused (remove it)");
  }
  if (fd < 0) throw IoError("cannot open " + append_path + " for appending: " + std::strerror(errno));
  if (::lseek(fd, 0, SEEK_END) == 0) {
    const std::string header = runs_csv_header() + "\n";
    if (::write(fd, header.data(), header.size()) != static_cast<ssize_t>(header.size())) {
      ::close(fd);
      throw IoError("cannot write " + append_path + ": " + std::strerror(errno));
    }
  }
  std::mutex io;
  std::string failure;
  const auto body = [&](long item) {
    const std::size_t i = static_cast<std::size_t>(item);
    std::vector<CurvePoint> curve;
    RunRecord record;
    try {
      record = execute_run(runs[i], spec, &curve);
    } catch (const std::bad_alloc&) {
      throw;  // out of memory: the pool hands it to the caller (exit 3)
    } catch (const std::exception& e) {
      const std::lock_guard<std::mutex> lock(io);
      if (failure.empty()) failure = runs[i].key() + ": " + e.what();
      return;
    }
    const std::string curve_path = (std::filesystem::path(spec.out) / curve_file_name(runs[i])).string();
    const std::vector<const RowField*> columns = row_columns(kCurveRows, spec.observe);
    write_file_atomically("curve", curve_path, [&](std::ostream& out) {
      out << row_csv_header(columns) << "\n";
      for (const CurvePoint& p : curve) out << row_csv_line(p, columns, "") << "\n";
    });
    const std::string line = to_csv_line(record) + "\n";
    {
      const std::lock_guard<std::mutex> lock(io);
      // One write of the whole line: a kill cannot leave half of it behind.
      if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        throw IoError("cannot append to " + append_path + ": " + std::strerror(errno));
      }
      ::fsync(fd);
    }
    records[i] = std::move(record);
    if (progress) ++progress->done;
  };
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  parallel_for(static_cast<long>(runs.size()), threads, body, warn);
  if (!failure.empty()) throw std::runtime_error("a run failed: " + failure);
  return records;
}

void write_runs_sorted(const std::string& path, std::vector<RunRecord> records) {
  std::sort(records.begin(), records.end(),
            [](const RunRecord& a, const RunRecord& b) { return a.run.key() < b.run.key(); });
  records.erase(std::unique(records.begin(), records.end(),
                            [](const RunRecord& a, const RunRecord& b) { return a.run.key() == b.run.key(); }),
                records.end());
  write_file_atomically("runs", path, [&](std::ostream& out) {
    out << runs_csv_header() << "\n";
    for (const RunRecord& r : records) out << to_csv_line(r) << "\n";
  });
}

}  // namespace gradflow
