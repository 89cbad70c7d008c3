#include <gradflow/experiments/run_record.hpp>

#include <gradflow/core/text.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace gradflow {
namespace {

// A number, or null for NaN (written as an empty field).
Value number(double x) { return std::isnan(x) ? Value{} : Value{x}; }

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && end != text.c_str();
}

template <class Integer>
bool parse_integer(const std::string& text, Integer& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  if constexpr (std::is_unsigned_v<Integer>) {
    if (text[0] == '-') return false;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
    out = static_cast<Integer>(value);
  } else {
    const long long value = std::strtoll(text.c_str(), &end, 10);
    out = static_cast<Integer>(value);
  }
  return errno == 0 && end == text.c_str() + text.size();
}

// Columns of the common kinds, a number and a whole number; member(record) is the field (a generic
// lambda, for the const and the mutable record alike).
template <class Member>
RunField real(std::string_view name, std::string_view unit, std::string_view doc, Member member) {
  return {name, unit, doc, [member](const RunRecord& r) { return number(member(r)); },
          [member](RunRecord& r, const std::string& text) { return parse_double(text, member(r)); }};
}

template <class Member>
RunField whole(std::string_view name, std::string_view unit, std::string_view doc, Member member) {
  return {name, unit, doc, [member](const RunRecord& r) { return Value{static_cast<long long>(member(r))}; },
          [member](RunRecord& r, const std::string& text) { return parse_integer(text, member(r)); }};
}

}  // namespace

void record_trial(RunRecord& r, const TrialResult& t) {
  r.certified = t.certified;
  if (r.certified == 1) {
    r.certified_mu = t.certificate.mu;
    r.certified_travel = t.certified_travel;
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
  r.time_rtol = t.time_rtol;
  r.time_change = t.time_change;
  r.final_loss = t.final_loss;
  r.status = std::string(to_string(t.status));
  r.grad_evals = t.stats.num_gradient_evals;
  r.loss_evals = t.stats.num_loss_evals;
  r.hvp_evals = t.stats.num_hessian_vector_evals;
  r.train_seconds = t.stats.wall_seconds;
  r.observed = t.observed;
  r.loss_rises = t.loss_rises;
  r.catapults = t.catapults;
  r.held_out = t.held_out;
  r.travel = t.travel;
  r.travel_fraction = t.travel_fraction;
  r.ntk_drift = t.ntk_drift;
  r.ntk_condition = t.ntk_condition0;
}

const std::vector<RunField>& run_fields() {
  static const std::vector<RunField> fields{
      {"key", "text", "the run's coordinates, unique per run (init=...;width=...;...)",
       [](const RunRecord& r) { return Value{r.run.key()}; },
       [](RunRecord&, const std::string& text) { return !text.empty(); }},
      {"init", "name", "the initialization scheme",
       [](const RunRecord& r) { return Value{std::string(to_string(r.run.init))}; },
       [](RunRecord& r, const std::string& text) {
         const auto scheme = init_scheme_from_string(text);
         if (scheme) r.run.init = *scheme;
         return scheme.has_value();
       }},
      whole(
          "width", "units", "the hidden width", [](auto& r) -> auto& { return r.run.width; }),
      whole(
          "depth", "layers", "the number of hidden layers", [](auto& r) -> auto& { return r.run.depth; }),
      {"activation", "name", "the activation",
       [](const RunRecord& r) { return Value{std::string(to_string(r.run.activation))}; },
       [](RunRecord& r, const std::string& text) {
         const auto activation = activation_from_string(text);
         if (activation) r.run.activation = *activation;
         return activation.has_value();
       }},
      whole(
          "seed", "1", "the run's seed (its initialization derives from it)",
          [](auto& r) -> auto& { return r.run.seed; }),
      {"method", "name", "the descent step rule or the flow solver",
       [](const RunRecord& r) { return Value{r.run.method.name()}; },
       [](RunRecord& r, const std::string& text) {
         const auto method = Method::from_string(text);
         if (method) r.run.method = *method;
         return method.has_value();
       }},
      {"lr_c", "1", "tuned-fixed: the step factor c of lr = c / beta0 (empty otherwise)",
       [](const RunRecord& r) { return r.run.lr_c > 0.0 ? Value{r.run.lr_c} : Value{}; },
       [](RunRecord& r, const std::string& text) {
         if (text.empty()) {
           r.run.lr_c = 0.0;
           return true;
         }
         return parse_double(text, r.run.lr_c) && r.run.lr_c > 0.0;
       }},
      {"dataset", "text", "synthetic:NxD or file:PATH", [](const RunRecord& r) { return Value{r.run.dataset.name()}; },
       [](RunRecord& r, const std::string& text) {
         const auto dataset = DatasetSpec::from_string(text);
         if (dataset) r.run.dataset = *dataset;
         return dataset.has_value();
       }},
      {"scale", "text",
       "the scale path's entry of a positive run (10, auto, 4x, path:k/N; empty off the path; the scale itself is "
       "output_scale)",
       [](const RunRecord& r) { return r.run.scale ? Value{r.run.scale->name()} : Value{}; },
       [](RunRecord& r, const std::string& text) {
         if (text.empty()) {
           r.run.scale.reset();
           return true;
         }
         r.run.scale = ScaleChoice::from_string(text);
         return r.run.scale.has_value();
       }},
      {"condition_power", "1", "the conditioning path's power a: X -> U S^a V^T (empty off the path)",
       [](const RunRecord& r) { return r.run.power ? Value{*r.run.power} : Value{}; },
       [](RunRecord& r, const std::string& text) {
         if (text.empty()) {
           r.run.power.reset();
           return true;
         }
         double a = 0.0;
         if (!parse_double(text, a) || !std::isfinite(a)) return false;
         r.run.power = a;
         return true;
       }},
      whole(
          "n", "samples", "the training samples of the data set (without the held-out ones)",
          [](auto& r) -> auto& { return r.n; }),
      whole(
          "d", "features", "the features of the data set", [](auto& r) -> auto& { return r.d; }),
      whole(
          "params", "parameters", "the network's parameters p", [](auto& r) -> auto& { return r.params; }),
      real(
          "input_condition", "1", "sigma_max(X) / sigma_n(X) of the inputs, after the transform",
          [](auto& r) -> auto& { return r.input_condition; }),
      real(
          "output_scale", "1", "the scale of the output layer at initialization",
          [](auto& r) -> auto& { return r.output_scale; }),
      {"init_seed", "1", "the seed of the initialization",
       [](const RunRecord& r) { return Value{static_cast<unsigned long long>(r.init_seed)}; },
       [](RunRecord& r, const std::string& text) { return parse_integer(text, r.init_seed); }},
      real(
          "loss0", "loss", "L(theta0)", [](auto& r) -> auto& { return r.loss0; }),
      real(
          "loss_target", "loss", "the absolute loss the run had to reach",
          [](auto& r) -> auto& { return r.loss_target; }),
      {"certified", "1", "the certificate of the method that ran: 1 holds, 0 does not, -1 does not apply",
       [](const RunRecord& r) { return Value{static_cast<long long>(r.certified)}; },
       [](RunRecord& r, const std::string& text) { return parse_integer(text, r.certified); }},
      real(
          "certified_mu", "1/time", "the certified PL constant (certified runs)",
          [](auto& r) -> auto& { return r.certified_mu; }),
      real(
          "certified_travel", "length", "the certified travel bound (certified runs)",
          [](auto& r) -> auto& { return r.certified_travel; }),
      real(
          "beta0", "1/time", "the sharpness at theta0 (power iteration, an estimate)",
          [](auto& r) -> auto& { return r.beta0; }),
      real(
          "lr", "time", "descent: the step (fixed) or the first trial (armijo)", [](auto& r) -> auto& { return r.lr; }),
      {"reached", "1", "1 when the run reached the target within the budget",
       [](const RunRecord& r) { return Value{r.reached}; },
       [](RunRecord& r, const std::string& text) {
         r.reached = text == "1";
         return text == "1" || text == "0";
       }},
      whole(
          "steps_to_eps", "steps", "iterations or accepted flow steps to the target (-1: not reached)",
          [](auto& r) -> auto& { return r.steps_to_eps; }),
      real(
          "time_to_eps", "time", "flow time (descent: the sum of the steps) to the target",
          [](auto& r) -> auto& { return r.time_to_eps; }),
      real(
          "time_beta0", "1", "time_to_eps x beta0, comparable across output scales",
          [](auto& r) -> auto& { return r.time_beta0; }),
      real(
          "time_rtol", "1", "flow: the rtol of the run that gave time_to_eps (tightened until the time settled)",
          [](auto& r) -> auto& { return r.time_rtol; }),
      real(
          "time_change", "1",
          "flow: the relative change of time_to_eps at the last tightening, its accuracy (inf: not settled)",
          [](auto& r) -> auto& { return r.time_change; }),
      real(
          "final_loss", "loss", "the loss at the end", [](auto& r) -> auto& { return r.final_loss; }),
      whole(
          "steps", "steps", "iterations or accepted flow steps made", [](auto& r) -> auto& { return r.steps; }),
      whole(
          "grad_evals", "gradients", "the training's gradient evaluations",
          [](auto& r) -> auto& { return r.grad_evals; }),
      whole(
          "loss_evals", "losses", "the training's loss-only evaluations",
          [](auto& r) -> auto& { return r.loss_evals; }),
      whole(
          "hvp_evals", "products", "the training's Hessian-vector products",
          [](auto& r) -> auto& { return r.hvp_evals; }),
      {"status", "name", "how the training ended", [](const RunRecord& r) { return Value{r.status}; },
       [](RunRecord& r, const std::string& text) {
         r.status = text;
         return true;
       }},
      real(
          "train_seconds", "s", "the training's wall time (depends on the machine's load)",
          [](auto& r) -> auto& { return r.train_seconds; }),
      real(
          "wall_seconds", "s", "the whole run's wall time (depends on the machine's load)",
          [](auto& r) -> auto& { return r.wall_seconds; }),
      whole(
          "observed_rows", "rows", "--observe: the rows observed", [](auto& r) -> auto& { return r.observed.rows; }),
      real(
          "ntk_min", "1/time", "--observe ntk: the smallest ntk_min along the rows",
          [](auto& r) -> auto& { return r.observed.ntk_min; }),
      real(
          "ntk_max", "1/time", "--observe ntk: the largest ntk_max along the rows",
          [](auto& r) -> auto& { return r.observed.ntk_max; }),
      real(
          "pl_minus_ntk_min", "1/time", "--observe ntk: the smallest pl_ratio - ntk_min (>= 0)",
          [](auto& r) -> auto& { return r.observed.pl_margin; }),
      real(
          "sharpness0", "1/time", "--observe sharpness: the sharpness at theta0",
          [](auto& r) -> auto& { return r.observed.sharpness0; }),
      real(
          "sharpness_max", "1/time", "--observe sharpness: the largest sharpness along the rows",
          [](auto& r) -> auto& { return r.observed.sharpness_max; }),
      real(
          "eta_sharpness_max", "1",
          "--observe sharpness, descent: the largest eta x sharpness (every step of the first 20, then the rows)",
          [](auto& r) -> auto& { return r.observed.eta_sharpness_max; }),
      real(
          "sharpness_min", "1/time", "--observe sharpness2: the smallest Hessian eigenvalue along the rows",
          [](auto& r) -> auto& { return r.observed.sharpness_min; }),
      real(
          "eta_sharpness0", "1", "--observe sharpness, descent: the first step x the sharpness at theta0",
          [](auto& r) -> auto& { return r.observed.eta_sharpness0; }),
      real(
          "edge_fraction", "1",
          "--observe sharpness, descent: the share of eta x sharpness samples >= 1.9 (sampled, not every step)",
          [](auto& r) -> auto& { return r.observed.edge_fraction; }),
      whole(
          "edge_samples", "samples", "--observe sharpness, descent: the eta x sharpness samples behind edge_fraction",
          [](auto& r) -> auto& { return r.observed.edge_samples; }),
      whole(
          "loss_rises", "steps", "descent: the iterations whose loss is above the previous one's",
          [](auto& r) -> auto& { return r.loss_rises; }),
      whole(
          "catapults", "episodes",
          "descent: the loss climbed more than 1% above its lowest so far, then fell below that lowest",
          [](auto& r) -> auto& { return r.catapults; }),
      whole(
          "test_points", "samples", "held-out points (--holdout, --test-data; 0: none)",
          [](auto& r) -> auto& { return r.held_out.points; }),
      real(
          "test_loss", "target^2", "held-out: the mean squared error (1/m) sum (f(x) - y)^2",
          [](auto& r) -> auto& { return r.held_out.test_loss; }),
      real(
          "test_accuracy", "1", "held-out, class labels (+-1, 0/1, integers): the fraction predicted right",
          [](auto& r) -> auto& { return r.held_out.test_accuracy; }),
      real(
          "interpolant_distance", "target",
          "held-out, n <= d: the root mean square of f(x) - x^T X^+ y (the minimum-norm linear interpolant)",
          [](auto& r) -> auto& { return r.held_out.interpolant_distance; }),
      real(
          "linear_test_loss", "target^2", "held-out, n <= d: the minimum-norm linear interpolant's test_loss",
          [](auto& r) -> auto& { return r.held_out.linear_test_loss; }),
      real(
          "linear_test_accuracy", "1", "held-out, n <= d, class labels: the interpolant's test_accuracy",
          [](auto& r) -> auto& { return r.held_out.linear_test_accuracy; }),
      real(
          "travel", "length", "||theta_T - theta0||", [](auto& r) -> auto& { return r.travel; }),
      real(
          "travel_fraction", "1", "travel over the certificate's radius r* (empty when the certificate does not apply)",
          [](auto& r) -> auto& { return r.travel_fraction; }),
      real(
          "ntk_drift", "1",
          "||K_T - K_0||_F / ||K_0||_F of the NTK J J^T at theta0 and at the end (--observe ntk, the scale and "
          "conditioning paths)",
          [](auto& r) -> auto& { return r.ntk_drift; }),
      real(
          "ntk_condition", "1", "the NTK's lambda_max / lambda_min at theta0 (beside input_condition^2; as ntk_drift)",
          [](auto& r) -> auto& { return r.ntk_condition; }),
  };
  return fields;
}

std::string runs_csv_header() {
  std::string header;
  for (const RunField& field : run_fields()) {
    if (!header.empty()) header += ',';
    header += field.name;
  }
  return header;
}

std::string to_csv_line(const RunRecord& record) {
  std::string line;
  bool first = true;
  for (const RunField& field : run_fields()) {
    if (!first) line += ',';
    first = false;
    line += csv_text(field.get(record));
  }
  return line;
}

NamedValues run_values(const RunRecord& record) {
  NamedValues values;
  for (const RunField& field : run_fields()) values.push_back({std::string(field.name), field.get(record)});
  return values;
}

void sort_by_key(std::vector<RunRecord>& records) {
  std::vector<std::pair<std::string, std::size_t>> keys;
  keys.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) keys.emplace_back(records[i].run.key(), i);
  std::sort(keys.begin(), keys.end());
  std::vector<RunRecord> sorted;
  sorted.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0 && keys[i].first == keys[i - 1].first) continue;
    sorted.push_back(std::move(records[keys[i].second]));
  }
  records = std::move(sorted);
}

RunsCsvReader::RunsCsvReader(const std::string& header) {
  const auto names = split_csv_line(header);
  if (!names) return;
  bool has_key = false;
  for (const std::string& name : *names) {
    const RunField* found = nullptr;
    for (const RunField& field : run_fields())
      if (field.name == name) found = &field;
    if (name == "key") has_key = true;
    columns_.push_back(found);
  }
  usable_ = has_key;
}

std::optional<RunRecord> RunsCsvReader::parse(const std::string& line) const {
  if (!usable_) return std::nullopt;
  const auto fields = split_csv_line(line);
  if (!fields || fields->size() != columns_.size()) return std::nullopt;
  RunRecord record;
  std::string key;
  try {
    for (std::size_t i = 0; i < fields->size(); ++i) {
      if (columns_[i] == nullptr) continue;
      if (!columns_[i]->set(record, (*fields)[i])) return std::nullopt;
      if (columns_[i]->name == "key") key = (*fields)[i];
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  // The coordinates must give back the key: a line whose fields were changed is not this run.
  if (record.run.key() != key) return std::nullopt;
  return record;
}

std::vector<RunRecord> read_runs(const std::string& path) {
  std::vector<RunRecord> records;
  std::ifstream in(path, std::ios::binary);
  if (!in) return records;
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto header_end = content.find('\n');
  if (header_end == std::string::npos) return records;
  const RunsCsvReader reader(content.substr(0, header_end));
  std::size_t start = header_end + 1;
  while (start < content.size()) {
    const auto end = content.find('\n', start);
    if (end == std::string::npos) break;  // a torn last line: not a finished run
    if (auto record = reader.parse(content.substr(start, end - start))) records.push_back(std::move(*record));
    start = end + 1;
  }
  return records;
}

}  // namespace gradflow
