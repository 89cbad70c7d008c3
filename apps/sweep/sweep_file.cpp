#include <gradflow/apps/sweep/sweep_file.hpp>

#include <gradflow/apps/cli_support.hpp>
#include <gradflow/apps/csv.hpp>
#include <gradflow/core/input_error.hpp>

#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>

namespace gradflow::cli {
namespace {

long parse_long(const std::string& text, const std::string& option, const std::string& key) {
  try {
    std::size_t used = 0;
    const long value = std::stol(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw InputError(option, key, "'" + text + "' is not an integer");
}

double parse_double(const std::string& text, const std::string& option, const std::string& key) {
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  throw InputError(option, key, "'" + text + "' is not a finite number");
}

bool parse_bool(const std::string& text, const std::string& option, const std::string& key) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  throw InputError(option, key, "'" + text + "' is not true or false");
}

}  // namespace

std::vector<InitScheme> parse_inits(const std::vector<std::string>& names, const std::string& option,
                                    const std::string& key) {
  std::vector<InitScheme> out;
  for (const auto& name : names) {
    const auto scheme = init_scheme_from_string(name);
    if (!scheme) {
      throw InputError(option, key,
                       "unknown initialization '" + name + "' (known: " + join_names(init_scheme_names()) + ")");
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
                       "unknown activation '" + name + "' (known: " + join_names(activation_names()) + ")");
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
                       "unknown method '" + name + "' (a step rule: " + join_names(step_rule_names()) +
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
    if (!dataset) throw InputError(option, key, "'" + name + "' is neither synthetic:NxD nor file:PATH");
    out.push_back(*dataset);
  }
  return out;
}

std::optional<double> parse_output_scale(const std::string& text, const std::string& option, const std::string& key) {
  if (text == "auto") return std::nullopt;
  try {
    std::size_t used = 0;
    const double s = std::stod(text, &used);
    if (used == text.size() && std::isfinite(s)) return s;
  } catch (const std::exception&) {
  }
  throw InputError(option, key, "'" + text + "' is neither auto nor a number");
}

void read_file_datasets(SweepSpec& spec, const std::string& option) {
  for (const DatasetSpec& dataset : spec.datasets) {
    if (dataset.kind != DatasetSpec::Kind::file || spec.file_data.count(dataset.name())) continue;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(dataset.path, ec)) {
      throw InputError(option, "datasets", "no such file: " + dataset.path);
    }
    const CsvTable table = read_csv(dataset.path, "datasets", true);
    NetworkData data;
    data.x = table.values.leftCols(table.values.cols() - 1);
    data.y = table.values.col(table.values.cols() - 1);
    spec.file_data[dataset.name()] = std::move(data);
  }
}

SweepSpec read_sweep_file(const std::string& path) {
  const std::string option = "--config " + path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError("--config", path, "no such file");
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    throw InputError("--config", path, std::string("cannot read the file: ") + e.what());
  }
  SweepSpec spec;
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;
    if (!item.parents.empty() && !(item.parents.size() == 1 && item.parents[0] == "sweep")) {
      throw InputError("--config", path, "section [" + CLI::detail::join(item.parents, ".") + "] is not [sweep]");
    }
    std::string key = item.name;
    for (char& c : key)
      if (c == '_') c = '-';
    const auto& in = item.inputs;
    const auto one = [&]() -> const std::string& {
      if (in.size() != 1) throw InputError("--config", path, "key '" + key + "' takes one value");
      return in[0];
    };
    const auto longs = [&]() {
      std::vector<long> out;
      for (const auto& text : in) out.push_back(parse_long(text, "--config " + path, key));
      return out;
    };
    if (key == "inits") {
      spec.inits = parse_inits(in, option, key);
    } else if (key == "widths") {
      spec.widths = longs();
    } else if (key == "depths") {
      spec.depths = longs();
    } else if (key == "activations") {
      spec.activations = parse_activations(in, option, key);
    } else if (key == "seeds") {
      std::vector<long> values = longs();
      if (values.size() == 1) {  // a count
        if (values[0] < 1) throw InputError("--config", path, "seeds = " + in[0] + " (a count must be >= 1)");
        const long count = values[0];
        values.clear();
        for (long s = 0; s < count; ++s) values.push_back(s);
      }
      spec.seeds = values;
    } else if (key == "methods") {
      spec.methods = parse_methods(in, option, key);
    } else if (key == "datasets") {
      spec.datasets = parse_datasets(in, option, key);
    } else if (key == "eps") {
      spec.eps = parse_double(one(), "--config " + path, key);
    } else if (key == "max-steps") {
      spec.max_steps = parse_long(one(), "--config " + path, key);
    } else if (key == "t-end") {
      spec.t_end = parse_double(one(), "--config " + path, key);
    } else if (key == "lr") {
      spec.lr = parse_double(one(), "--config " + path, key);
    } else if (key == "gamma") {
      spec.gamma = parse_double(one(), "--config " + path, key);
    } else if (key == "output-scale") {
      spec.output_scale = parse_output_scale(one(), option, key);
    } else if (key == "teacher") {
      spec.teacher = parse_bool(one(), "--config " + path, key);
    } else if (key == "curve-points") {
      spec.curve_points = static_cast<int>(parse_long(one(), "--config " + path, key));
    } else if (key == "out") {
      spec.out = one();
    } else {
      throw InputError("--config", path,
                       "unknown key '" + item.name +
                           "' (keys: inits, widths, depths, activations, seeds, methods, datasets, eps, max-steps, "
                           "t-end, lr, gamma, output-scale, teacher, curve-points, out)");
    }
  }
  read_file_datasets(spec, option);
  validate(spec, option);
  return spec;
}

}  // namespace gradflow::cli
