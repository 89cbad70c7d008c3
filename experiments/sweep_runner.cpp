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

std::string number(double x) {
  if (std::isnan(x)) return "";
  return full_precision(x);
}

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

const char* const kRunsHeader =
    "key,init,width,depth,activation,seed,method,lr_c,dataset,n,d,params,input_condition,output_scale,init_seed,loss0,"
    "loss_target,certified,certified_mu,certified_travel,beta0,lr,reached,steps_to_eps,time_to_eps,time_beta0,"
    "final_loss,steps,grad_evals,loss_evals,hvp_evals,status,train_seconds,wall_seconds,observed_rows,ntk_min,ntk_max,"
    "pl_minus_ntk_min,sharpness0,sharpness_max,eta_sharpness_max,sharpness_min";

std::string to_csv_line(const RunRecord& r) {
  std::ostringstream out;
  // The key and the data set's name can hold any text (a file name): quoted per RFC 4180.
  out << csv_field(r.run.key()) << "," << to_string(r.run.init) << "," << r.run.width << "," << r.run.depth << ","
      << to_string(r.run.activation) << "," << r.run.seed << "," << r.run.method.name() << ","
      << (r.run.lr_c > 0.0 ? number(r.run.lr_c) : std::string()) << "," << csv_field(r.run.dataset.name()) << "," << r.n
      << "," << r.d << "," << r.params << "," << number(r.input_condition) << "," << number(r.output_scale) << ","
      << r.init_seed << "," << number(r.loss0) << "," << number(r.loss_target) << "," << r.certified << ","
      << number(r.certified_mu) << "," << number(r.certified_travel) << "," << number(r.beta0) << "," << number(r.lr)
      << "," << (r.reached ? 1 : 0) << "," << r.steps_to_eps << "," << number(r.time_to_eps) << ","
      << number(r.time_beta0) << "," << number(r.final_loss) << "," << r.steps << "," << r.grad_evals << ","
      << r.loss_evals << "," << r.hvp_evals << "," << csv_field(r.status) << "," << number(r.train_seconds) << ","
      << number(r.wall_seconds) << "," << r.observed.rows << "," << number(r.observed.ntk_min) << ","
      << number(r.observed.ntk_max) << "," << number(r.observed.pl_margin) << "," << number(r.observed.sharpness0)
      << "," << number(r.observed.sharpness_max) << "," << number(r.observed.eta_sharpness_max) << ","
      << number(r.observed.sharpness_min);
  return out.str();
}

std::optional<RunRecord> parse_csv_line(const std::string& line) {
  const std::vector<std::string> f = split(line);
  if (f.size() != 42 || f[0].rfind("init=", 0) != 0) return std::nullopt;
  try {
    RunRecord r;
    const auto init = init_scheme_from_string(f[1]);
    const auto activation = activation_from_string(f[4]);
    const auto method = Method::from_string(f[6]);
    const auto dataset = DatasetSpec::from_string(f[8]);
    if (!init || !activation || !method || !dataset) return std::nullopt;
    r.run.init = *init;
    r.run.width = std::stol(f[2]);
    r.run.depth = std::stol(f[3]);
    r.run.activation = *activation;
    r.run.seed = std::stol(f[5]);
    r.run.method = *method;
    r.run.lr_c = f[7].empty() ? 0.0 : std::stod(f[7]);
    r.run.dataset = *dataset;
    if (r.run.key() != f[0]) return std::nullopt;
    r.n = std::stol(f[9]);
    r.d = std::stol(f[10]);
    r.params = std::stol(f[11]);
    r.input_condition = parse_number(f[12]);
    r.output_scale = parse_number(f[13]);
    r.init_seed = std::stoull(f[14]);
    r.loss0 = parse_number(f[15]);
    r.loss_target = parse_number(f[16]);
    r.certified = std::stoi(f[17]);
    r.certified_mu = parse_number(f[18]);
    r.certified_travel = parse_number(f[19]);
    r.beta0 = parse_number(f[20]);
    r.lr = parse_number(f[21]);
    r.reached = f[22] == "1";
    r.steps_to_eps = std::stol(f[23]);
    r.time_to_eps = parse_number(f[24]);
    r.time_beta0 = parse_number(f[25]);
    r.final_loss = parse_number(f[26]);
    r.steps = std::stol(f[27]);
    r.grad_evals = std::stol(f[28]);
    r.loss_evals = std::stol(f[29]);
    r.hvp_evals = std::stol(f[30]);
    r.status = f[31];
    r.train_seconds = parse_number(f[32]);
    r.wall_seconds = parse_number(f[33]);
    r.observed.rows = std::stol(f[34]);
    r.observed.ntk_min = parse_number(f[35]);
    r.observed.ntk_max = parse_number(f[36]);
    r.observed.pl_margin = parse_number(f[37]);
    r.observed.sharpness0 = parse_number(f[38]);
    r.observed.sharpness_max = parse_number(f[39]);
    r.observed.eta_sharpness_max = parse_number(f[40]);
    r.observed.sharpness_min = parse_number(f[41]);
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<RunRecord> read_runs(const std::string& path) {
  std::vector<RunRecord> records;
  std::ifstream in(path, std::ios::binary);
  if (!in) return records;
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0;
  while (start < content.size()) {
    const auto end = content.find('\n', start);
    if (end == std::string::npos) break;  // a torn last line: not a finished run
    if (auto record = parse_csv_line(content.substr(start, end - start))) records.push_back(std::move(*record));
    start = end + 1;
  }
  return records;
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
    const std::string header = std::string(kRunsHeader) + "\n";
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
    out << kRunsHeader << "\n";
    for (const RunRecord& r : records) out << to_csv_line(r) << "\n";
  });
}

}  // namespace gradflow
