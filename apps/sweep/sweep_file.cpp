#include <gradflow/apps/sweep/sweep_file.hpp>

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/config_file.hpp>
#include <gradflow/apps/csv.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/apps/problem_factory.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/experiments/sweep_runner.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <limits>

namespace gradflow::cli {
namespace {

// "the item 'x' of 'widths'": the key and the item an error names.
InputError bad_item(const std::string& option, const std::string& key, const std::string& item,
                    const std::string& must) {
  return InputError(option, "", "key '" + key + "': the item '" + quote_text(item) + "' " + must);
}

long integer_item(const std::string& text, const std::string& option, const std::string& key, long min, long max) {
  try {
    return parse_integer(text, option, min, max, "the value");
  } catch (const InputError&) {
    throw bad_item(option, key, text,
                   "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
}

double number_item(const std::string& text, const std::string& option, const std::string& key) {
  try {
    return parse_finite(text, option, "the value");
  } catch (const InputError&) {
    throw bad_item(option, key, text, "must be a finite number");
  }
}

bool bool_item(const std::string& text, const std::string& option, const std::string& key) {
  if (text == "true") return true;
  if (text == "false") return false;
  throw bad_item(option, key, text, "must be true or false");
}

std::string key_names() {
  std::string out;
  for (const SweepKey& key : sweep_file_keys()) out += (out.empty() ? "" : ", ") + std::string(key.name);
  return out;
}

}  // namespace

const std::vector<SweepKey>& sweep_file_keys() {
  static const std::vector<SweepKey> keys = {
      {"inits", "list of names",
       "initialization schemes (positive, xavier_normal, kaiming_normal, lecun_normal, orthogonal, ...)"},
      {"widths", "list of integers", "hidden widths, 1 to 100000"},
      {"depths", "list of integers", "numbers of hidden layers, 1 to 64"},
      {"activations", "list of names", "activations (tanh, softplus, sigmoid, ...)"},
      {"seeds", "count or list of integers", "a number n is the seeds 0..n-1; an array lists the seeds"},
      {"methods", "list of names", "descent step rules (fixed, armijo, polyak, inverse-smoothness) and flow solvers"},
      {"datasets", "list of names", "data sets: synthetic:NxD or file:PATH (a CSV file)"},
      {"eps", "number", "a run converges at loss <= eps L0 (relative to its own L0; default 1e-6); not with loss-tol"},
      {"loss-tol", "number", "a run converges at loss <= loss-tol (absolute); not with eps"},
      {"max-steps", "integer", "budget of descent iterations or accepted flow steps per run (default 5000)"},
      {"t-end", "number", "flow methods: the end time (default 1e6)"},
      {"rtol", "number", "flow methods: the solver's relative tolerance (default 1e-8)"},
      {"atol", "number", "flow methods: the solver's absolute tolerance (default 1e-10)"},
      {"time-accuracy", "number",
       "flow runs: repeat with rtol, atol / 10 until two times to the target agree to "
       "this relative accuracy (0: off)"},
      {"lr", "number", "fixed: the step; armijo: the first trial step (default 1)"},
      {"lr-grid", "list of numbers", "tuned fixed: the fixed method once per c, lr = c / beta0"},
      {"gamma", "number", "polyak: its parameter (required for networks)"},
      {"output-scale", "number, \"auto\" or list",
       "the output weights' scale; a list (1, 10, \"auto\", \"4x\") is the "
       "scale path"},
      {"scale-margin", "number",
       "auto output scale: this factor times the smallest certified scale, >= 1 (default 1.05)"},
      {"scale-path", "integer", "N scales from scale-start to scale-end (geometric)"},
      {"scale-start", "number", "first scale of scale-path (a factor of s*)"},
      {"scale-end", "number", "last scale of scale-path (a factor of s*)"},
      {"condition-path", "list of numbers", "powers a: X -> U S^a V^T, work against cond(X) (conditioning.csv)"},
      {"holdout", "number", "fraction of the points held out for the test error, in [0, 1)"},
      {"holdout-seed", "integer", "seed of the held-out split"},
      {"test-data", "path", "a CSV file of held-out points (instead of holdout)"},
      {"verdict-on", "name", "what the verdict compares: work, test_loss or test_error"},
      {"preprocess", "name", "the inputs' transform: none, standardize, scale or whiten"},
      {"teacher", "true or false", "targets from a random teacher network"},
      {"curve-points", "integer", "rows kept per run for the plots, 2 to 1000000 (default 200)"},
      {"observe", "list of names", "watched at each run's recorded rows: ntk, sharpness, sharpness2, condition"},
      {"out", "path", "the output folder (default results/sweep)"},
  };
  return keys;
}

std::vector<InitScheme> parse_inits(const std::vector<std::string>& names, const std::string& option,
                                    const std::string& key) {
  std::vector<InitScheme> out;
  for (const auto& name : names) {
    const auto scheme = init_scheme_from_string(name);
    if (!scheme) {
      throw InputError(
          option, key,
          "unknown initialization '" + quote_text(name) + "' (known: " + join_names(init_scheme_names()) + ")");
    }
    out.push_back(*scheme);
  }
  return out;
}

std::vector<Activation> parse_activations(const std::vector<std::string>& names, const std::string& option,
                                          const std::string& key) {
  std::vector<Activation> out;
  for (const auto& name : names) {
    const auto activation = activation_from_string(name);
    if (!activation) {
      throw InputError(option, key,
                       "unknown activation '" + quote_text(name) + "' (known: " + join_names(activation_names()) + ")");
    }
    out.push_back(*activation);
  }
  return out;
}

std::vector<Method> parse_methods(const std::vector<std::string>& names, const std::string& option,
                                  const std::string& key) {
  std::vector<Method> out;
  for (const auto& name : names) {
    const auto method = Method::from_string(name);
    if (!method) {
      throw InputError(option, key,
                       "unknown method '" + quote_text(name) + "' (a step rule: " + join_names(step_rule_names()) +
                           "; or a flow solver: " + join_names(solver_names()) + ")");
    }
    out.push_back(*method);
  }
  return out;
}

std::vector<DatasetSpec> parse_datasets(const std::vector<std::string>& names, const std::string& option,
                                        const std::string& key) {
  std::vector<DatasetSpec> out;
  for (const auto& name : names) {
    const auto dataset = DatasetSpec::from_string(name);
    if (!dataset) {
      throw InputError(option, key,
                       "'" + quote_text(name) +
                           "' is neither synthetic:NxD (N samples and D features, whole numbers >= 1) nor file:PATH");
    }
    out.push_back(*dataset);
  }
  return out;
}

std::optional<double> parse_output_scale(const std::string& text, const std::string& option, const std::string& key) {
  if (text == "auto") return std::nullopt;
  try {
    return parse_finite(text, option, "the value");
  } catch (const InputError&) {
    throw InputError(option, key, "'" + quote_text(text) + "' is neither auto nor a finite number");
  }
}

void set_output_scales(SweepSpec& spec, const std::vector<std::string>& items, const std::string& option,
                       const std::string& key) {
  if (const auto bad = read_output_scales(items, spec.output_scale, spec.output_scales)) {
    throw InputError(option, key,
                     "'" + quote_text(*bad) +
                         "' is not an output scale (a number > 0, auto, Fx for F times the certified scale, or "
                         "path:k/N)");
  }
}

void read_test_data(SweepSpec& spec, const std::string& option) {
  if (spec.test_data.empty() || spec.test_file) return;
  const CsvTable table = read_csv(spec.test_data, option, /*allow_header=*/true);
  if (table.values.cols() < 2) {
    throw InputError(
        option, spec.test_data,
        "needs at least two columns (features, then the target), found " + std::to_string(table.values.cols()));
  }
  NetworkData data;
  data.x = table.values.leftCols(table.values.cols() - 1);
  data.y = table.values.col(table.values.cols() - 1);
  spec.test_file = std::move(data);
}

void read_file_datasets(SweepSpec& spec, const std::string& option) {
  for (const DatasetSpec& dataset : spec.datasets) {
    if (dataset.kind != DatasetSpec::Kind::file || spec.file_data.count(dataset.name())) continue;
    const std::string what = "datasets: " + dataset.name();
    const CsvTable table = read_csv(dataset.path, option + " datasets", /*allow_header=*/true);
    if (table.values.cols() < 2) {
      throw InputError(
          option + " datasets", dataset.path,
          "needs at least two columns (features, then the target), found " + std::to_string(table.values.cols()));
    }
    NetworkData data;
    data.x = table.values.leftCols(table.values.cols() - 1);
    data.y = table.values.col(table.values.cols() - 1);
    spec.file_data[dataset.name()] = std::move(data);
  }
}

InputError sweep_error(const OptionError& error, const std::string& option) {
  std::string key = error.field;
  for (char& c : key)
    if (c == '_') c = '-';
  return InputError(option, "", "key '" + key + "' = " + quote_text(error.value) + ": " + error.constraint);
}

SweepSpec parse_sweep_text(std::string_view text, const std::string& path) {
  const std::string option = "--config";
  const std::vector<ConfigEntry> entries = parse_config(text, option, path);
  SweepSpec spec;
  const std::string label = "--config " + quote_text(path);
  RepeatedKeys repeated;
  long eps_line = 0, loss_tol_line = 0;  // the target is one or the other, as compare-inits says
  for (const ConfigEntry& entry : entries) {
    if (!entry.section.empty() && entry.section != "sweep") {
      throw InputError(
          option, path,
          "line " + std::to_string(entry.line) + ": section [" + quote_text(entry.section) + "] is not [sweep]");
    }
    repeated.add(entry, option, path);
    const std::string key = canonical_key(entry.key);
    // The keys are the table's (sweep_file_keys): one that is not there is unknown before anything reads it.
    const auto& keys = sweep_file_keys();
    if (std::none_of(keys.begin(), keys.end(), [&](const SweepKey& k) { return key == k.name; })) {
      throw InputError(label, "",
                       "line " + std::to_string(entry.line) + ": unknown key '" + quote_text(entry.key) +
                           "' (keys: " + key_names() + ")");
    }
    const std::vector<std::string>& in = entry.values;
    // The keys that take numbers or booleans take them unquoted: "8" is a string, not the width 8.
    // Every key that takes numbers or a boolean: widths, depths, seeds, max-steps, curve-points, eps,
    // loss-tol, t-end, rtol, atol, time-accuracy, lr, gamma, scale-margin, lr-grid, teacher (output-scale: a
    // number or "auto").
    static const std::vector<std::pair<std::string, const char*>> typed{
        {"widths", "integers"},      {"depths", "integers"},         {"seeds", "integers"},
        {"max-steps", "an integer"}, {"curve-points", "an integer"}, {"eps", "a number"},
        {"loss-tol", "a number"},    {"t-end", "a number"},          {"rtol", "a number"},
        {"atol", "a number"},        {"time-accuracy", "a number"},  {"lr", "a number"},
        {"gamma", "a number"},       {"scale-margin", "a number"},   {"lr-grid", "numbers"},
        {"teacher", "true or false"}};
    for (const auto& [typed_key, type] : typed) {
      if (key != typed_key) continue;
      for (std::size_t i = 0; i < in.size(); ++i) {
        if (i < entry.quoted.size() && entry.quoted[i]) {
          throw InputError(label, "",
                           "line " + std::to_string(entry.line) + ": key '" + key + "' takes " + type +
                               ", not the string \"" + quote_text(in[i]) + "\" (write it without quotes)");
        }
      }
    }
    const auto one = [&]() -> const std::string& {
      if (entry.is_array) throw InputError(label, "", "key '" + key + "' takes one value, not an array");
      return in[0];
    };
    const auto list = [&]() {
      if (in.empty()) throw InputError(label, "", "key '" + key + "': the list is empty");
      return in;
    };
    const auto integers = [&](long min, long max) {
      std::vector<long> out;
      for (const auto& text : list()) out.push_back(integer_item(text, label, key, min, max));
      return out;
    };
    if (key == "output-scale" && !entry.is_array && !in.empty() && !entry.quoted.empty() && entry.quoted[0] &&
        in[0] != "auto" && !(ScaleChoice::from_string(in[0]) && ScaleChoice::from_string(in[0])->needs_threshold())) {
      throw InputError(label, "",
                       "line " + std::to_string(entry.line) +
                           ": key 'output-scale' takes a number or \"auto\", not the "
                           "string \"" +
                           quote_text(in[0]) + "\" (write a number without quotes)");
    }
    if (key == "inits") {
      spec.inits = parse_inits(list(), label, key);
    } else if (key == "widths") {
      spec.widths = integers(1, 100000);
    } else if (key == "depths") {
      spec.depths = integers(1, 64);
    } else if (key == "activations") {
      spec.activations = parse_activations(list(), label, key);
    } else if (key == "seeds") {
      if (entry.is_array) {
        spec.seeds = integers(0, std::numeric_limits<long>::max());
      } else {
        const long count = integer_item(one(), label, "seeds (a count)", 1, std::numeric_limits<long>::max());
        SizeEstimate estimate;
        estimate.add({count, 2048});
        check_memory(estimate, label + " seeds", one(), "a count of " + std::to_string(count) + " seeds");
        spec.seeds.clear();
        for (long s = 0; s < count; ++s) spec.seeds.push_back(s);
      }
    } else if (key == "methods") {
      spec.methods = parse_methods(list(), label, key);
    } else if (key == "datasets") {
      spec.datasets = parse_datasets(list(), label, key);
    } else if (key == "eps") {
      spec.eps = number_item(one(), label, key);
      eps_line = entry.line;
    } else if (key == "loss-tol") {
      spec.loss_tol = number_item(one(), label, key);
      loss_tol_line = entry.line;
    } else if (key == "scale-margin") {
      spec.scale_margin = number_item(one(), label, key);
    } else if (key == "lr-grid") {
      spec.lr_grid.clear();
      for (const auto& text : list()) spec.lr_grid.push_back(number_item(text, label, key));
    } else if (key == "preprocess") {
      const auto p = preprocess_from_string(one());
      if (!p) throw bad_item(label, key, one(), "is not one of none, standardize, scale, whiten");
      spec.preprocess = *p;
    } else if (key == "max-steps") {
      spec.max_steps = integer_item(one(), label, key, 1, std::numeric_limits<long>::max());
    } else if (key == "t-end") {
      spec.t_end = number_item(one(), label, key);
    } else if (key == "rtol") {
      spec.rtol = number_item(one(), label, key);
    } else if (key == "atol") {
      spec.atol = number_item(one(), label, key);
    } else if (key == "time-accuracy") {
      spec.time_accuracy = number_item(one(), label, key);
    } else if (key == "lr") {
      spec.lr = number_item(one(), label, key);
    } else if (key == "gamma") {
      spec.gamma = number_item(one(), label, key);
    } else if (key == "output-scale") {
      set_output_scales(spec, list(), label, key);
    } else if (key == "scale-path") {
      spec.output_scales = scale_path(integer_item(one(), label, key, 2, 1000));
      spec.output_scale.reset();
    } else if (key == "scale-start") {
      spec.scale_start = number_item(one(), label, key);
    } else if (key == "scale-end") {
      spec.scale_end = number_item(one(), label, key);
    } else if (key == "condition-path") {
      spec.condition_path.clear();
      for (const auto& text : list()) spec.condition_path.push_back(number_item(text, label, key));
    } else if (key == "holdout") {
      spec.holdout = number_item(one(), label, key);
    } else if (key == "holdout-seed") {
      spec.holdout_seed =
          static_cast<std::uint64_t>(integer_item(one(), label, key, 0, std::numeric_limits<long>::max()));
    } else if (key == "test-data") {
      spec.test_data = one();
      if (spec.test_data.empty()) throw InputError(label, "", "key 'test-data': an empty path (give a CSV file)");
    } else if (key == "verdict-on") {
      const auto on = verdict_on_from_string(one());
      if (!on) throw bad_item(label, key, one(), "is not one of work, test_loss, test_error");
      spec.verdict_on = *on;
    } else if (key == "teacher") {
      spec.teacher = bool_item(one(), label, key);
    } else if (key == "curve-points") {
      spec.curve_points = static_cast<int>(integer_item(one(), label, key, 2, 1000000));
    } else if (key == "observe") {
      spec.observe = Observables{};
      const std::string problem = parse_observables(list(), spec.observe);
      if (!problem.empty()) throw InputError(label, "", "key 'observe': " + problem);
    } else if (key == "out") {
      spec.out = one();
      if (spec.out.empty()) throw InputError(label, "", "key 'out': an empty path (give a folder)");
    } else {
      // A key of the table that no branch above reads (the test of every table key catches it).
      throw InputError(label, "",
                       "line " + std::to_string(entry.line) + ": unknown key '" + quote_text(entry.key) +
                           "' (it is in the key table, but nothing reads it)");
    }
  }
  if (eps_line > 0 && loss_tol_line > 0) {
    throw InputError(label, "",
                     "line " + std::to_string(std::max(eps_line, loss_tol_line)) +
                         ": give eps (relative) or loss-tol (absolute), not both (eps on line " +
                         std::to_string(eps_line) + ", loss-tol on line " + std::to_string(loss_tol_line) + ")");
  }
  return spec;
}

SweepSpec read_sweep_file(const std::string& path) {
  SweepSpec spec = parse_sweep_text(read_config_text(path, "--config"), path);
  read_file_datasets(spec, "--config " + quote_text(path));
  read_test_data(spec, "--config " + quote_text(path) + " test-data");
  if (const auto error = spec.validate()) throw sweep_error(*error, "--config " + quote_text(path));
  return spec;
}

}  // namespace gradflow::cli
