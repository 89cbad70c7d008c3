#include "sweep/sweep_spec.hpp"

#include "discrete/options.hpp"
#include "flow/options.hpp"
#include "problems/activation.hpp"
#include "problems/initialization.hpp"
#include "problems/input_error.hpp"
#include "problems/random.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>

namespace gradflow::cli {
namespace {

std::string join(const std::vector<std::string>& values) {
  std::string text;
  for (const auto& v : values) text += (text.empty() ? "" : ", ") + v;
  return text;
}

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

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string RunSpec::key() const {
  std::ostringstream out;
  out << "init=" << init << ";width=" << width << ";depth=" << depth << ";activation=" << activation
      << ";seed=" << seed << ";method=" << method << ";dataset=" << dataset;
  return out.str();
}

std::uint64_t RunSpec::init_seed() const {
  std::ostringstream coordinates;
  coordinates << init << "|" << width << "|" << depth << "|" << activation << "|" << dataset;
  return derive_seed(fnv1a(coordinates.str()), static_cast<std::uint64_t>(seed));
}

std::vector<RunSpec> enumerate_runs(const SweepSpec& spec) {
  std::vector<RunSpec> runs;
  for (const auto& dataset : spec.datasets)
    for (const auto& method : spec.methods)
      for (const auto& activation : spec.activations)
        for (const long depth : spec.depths)
          for (const long width : spec.widths)
            for (const auto& init : spec.inits)
              for (const long seed : spec.seeds) runs.push_back({init, width, depth, activation, seed, method, dataset});
  return runs;
}

void validate(const SweepSpec& spec, const std::string& option) {
  const auto require_nonempty = [&](bool empty, const char* key) {
    if (empty) throw InputError(option, key, "the list is empty");
  };
  require_nonempty(spec.inits.empty(), "inits");
  require_nonempty(spec.widths.empty(), "widths");
  require_nonempty(spec.depths.empty(), "depths");
  require_nonempty(spec.activations.empty(), "activations");
  require_nonempty(spec.seeds.empty(), "seeds");
  require_nonempty(spec.methods.empty(), "methods");
  require_nonempty(spec.datasets.empty(), "datasets");
  for (const auto& init : spec.inits) {
    if (!init_scheme_from_string(init)) {
      throw InputError(option, "inits", "unknown initialization '" + init + "' (known: " + join(init_scheme_names()) + ")");
    }
  }
  for (const long w : spec.widths)
    if (w < 1 || w > 100000) throw InputError(option, "widths", "a width of " + std::to_string(w) + " (must be in [1, 1e5])");
  for (const long d : spec.depths)
    if (d < 1 || d > 64) throw InputError(option, "depths", "a depth of " + std::to_string(d) + " (must be in [1, 64])");
  for (const auto& a : spec.activations) {
    if (!activation_from_string(a)) {
      throw InputError(option, "activations", "unknown activation '" + a + "' (known: " + join(activation_names()) + ")");
    }
  }
  for (const auto& m : spec.methods) {
    if (!step_rule_from_string(m) && !solver_from_string(m)) {
      throw InputError(option, "methods", "unknown method '" + m + "' (a step rule: " + join(step_rule_names()) +
                                              "; or a flow solver: " + join(solver_names()) + ")");
    }
    if (m == "polyak" && !(spec.gamma > 0.0)) throw InputError(option, "gamma", "the polyak method needs gamma > 0");
  }
  for (const auto& d : spec.datasets) {
    if (d.rfind("synthetic:", 0) == 0) {
      const std::string size = d.substr(10);
      const auto x = size.find('x');
      bool ok = x != std::string::npos;
      long n = 0, dim = 0;
      if (ok) {
        try {
          n = std::stol(size.substr(0, x));
          dim = std::stol(size.substr(x + 1));
        } catch (const std::exception&) {
          ok = false;
        }
      }
      if (!ok || n < 1 || dim < 1) throw InputError(option, "datasets", "'" + d + "' is not synthetic:NxD");
    } else if (d.rfind("file:", 0) == 0) {
      if (!std::filesystem::is_regular_file(d.substr(5))) throw InputError(option, "datasets", "no such file: " + d.substr(5));
    } else {
      throw InputError(option, "datasets", "'" + d + "' is neither synthetic:NxD nor file:PATH");
    }
  }
  if (!(spec.eps > 0.0 && spec.eps < 1.0)) throw InputError(option, "eps", std::to_string(spec.eps) + " is not in (0, 1)");
  if (spec.max_steps < 1) throw InputError(option, "max-steps", "must be >= 1");
  if (!(spec.t_end > 0.0)) throw InputError(option, "t-end", "must be > 0");
  if (!(spec.lr > 0.0)) throw InputError(option, "lr", "must be > 0");
  if (spec.output_scale != "auto") {
    try {
      std::size_t used = 0;
      const double s = std::stod(spec.output_scale, &used);
      if (used != spec.output_scale.size() || !std::isfinite(s)) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw InputError(option, "output-scale", "'" + spec.output_scale + "' is neither auto nor a number");
    }
  }
  if (spec.curve_points < 2) throw InputError(option, "curve-points", "must be >= 2");
  if (spec.out.empty()) throw InputError(option, "out", "is empty");
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
      spec.inits = in;
    } else if (key == "widths") {
      spec.widths = longs();
    } else if (key == "depths") {
      spec.depths = longs();
    } else if (key == "activations") {
      spec.activations = in;
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
      spec.methods = in;
    } else if (key == "datasets") {
      spec.datasets = in;
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
      spec.output_scale = one();
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
  validate(spec, "--config " + path);
  return spec;
}

}  // namespace gradflow::cli
