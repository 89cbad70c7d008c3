#include <gradflow/experiments/sweep_spec.hpp>

#include <gradflow/core/input_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/initialization.hpp>

#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <sstream>

namespace gradflow {

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string Method::name() const { return std::string(is_descent() ? to_string(rule()) : to_string(solver())); }

std::optional<Method> Method::from_string(std::string_view name) {
  if (const auto rule = step_rule_from_string(name)) return Method{*rule};
  if (const auto solver = solver_from_string(name)) return Method{*solver};
  return std::nullopt;
}

std::string DatasetSpec::name() const {
  if (kind == Kind::file) return "file:" + path;
  return "synthetic:" + std::to_string(n) + "x" + std::to_string(d);
}

std::optional<DatasetSpec> DatasetSpec::from_string(std::string_view text) {
  DatasetSpec spec;
  if (text.substr(0, 5) == "file:") {
    spec.kind = Kind::file;
    spec.path = std::string(text.substr(5));
    if (spec.path.empty()) return std::nullopt;
    // A line break would split a runs.csv line; no file name of a data set needs a control byte.
    for (const unsigned char c : spec.path)
      if (c < 0x20 || c == 0x7F) return std::nullopt;
    return spec;
  }
  if (text.substr(0, 10) != "synthetic:") return std::nullopt;
  const std::string_view size = text.substr(10);
  const auto x = size.find('x');
  if (x == std::string_view::npos) return std::nullopt;
  // Both numbers whole: "8x16abc" and "8x16x3" are not sizes.
  const auto whole = [](std::string_view digits, long& value) {
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return ec == std::errc() && ptr == digits.data() + digits.size();
  };
  if (!whole(size.substr(0, x), spec.n) || !whole(size.substr(x + 1), spec.d)) return std::nullopt;
  if (spec.n < 1 || spec.d < 1) return std::nullopt;
  return spec;
}

std::string_view to_string(Preprocess p) {
  switch (p) {
    case Preprocess::none:
      return "none";
    case Preprocess::standardize:
      return "standardize";
    case Preprocess::scale:
      return "scale";
    case Preprocess::whiten:
      return "whiten";
  }
  return "none";
}

std::optional<Preprocess> preprocess_from_string(std::string_view name) {
  for (const Preprocess p : {Preprocess::none, Preprocess::standardize, Preprocess::scale, Preprocess::whiten})
    if (to_string(p) == name) return p;
  return std::nullopt;
}

std::string tolerance_label(const SweepSpec& spec) {
  if (spec.loss_tol) return "loss <= " + format_number("%.6g", *spec.loss_tol) + " (absolute, --loss-tol)";
  return "loss <= " + format_number("%.6g", spec.eps) + " L0 (relative to each run's own L0, --eps)";
}

std::string RunSpec::key() const {
  std::ostringstream out;
  out << "init=" << to_string(init) << ";width=" << width << ";depth=" << depth
      << ";activation=" << to_string(activation) << ";seed=" << seed << ";method=" << method.name();
  if (lr_c > 0.0) out << ";c=" << full_precision(lr_c);
  out << ";dataset=" << dataset.name();
  return out.str();
}

std::uint64_t RunSpec::init_seed() const {
  std::ostringstream coordinates;
  // A file data set enters by its file name, not its folder: the same data in another clone or folder
  // gets the same initializations (the path would make every result depend on where the repository is).
  const std::string data_label = dataset.kind == DatasetSpec::Kind::file
                                     ? "file:" + std::filesystem::path(dataset.path).filename().string()
                                     : dataset.name();
  coordinates << to_string(init) << "|" << width << "|" << depth << "|" << to_string(activation) << "|" << data_label;
  return derive_seed(fnv1a(coordinates.str()), static_cast<std::uint64_t>(seed));
}

std::vector<RunSpec> enumerate_runs(const SweepSpec& spec) {
  std::vector<RunSpec> runs;
  for (const auto& dataset : spec.datasets)
    for (const auto& method : spec.methods)
      for (const auto activation : spec.activations)
        for (const long depth : spec.depths)
          for (const long width : spec.widths)
            for (const auto init : spec.inits)
              for (const long seed : spec.seeds) {
                if (method == Method{StepRule::fixed} && !spec.lr_grid.empty()) {
                  for (const double c : spec.lr_grid)
                    runs.push_back({init, width, depth, activation, seed, method, dataset, c});
                } else {
                  runs.push_back({init, width, depth, activation, seed, method, dataset});
                }
              }
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
  for (const long w : spec.widths)
    if (w < 1 || w > 100000)
      throw InputError(option, "widths", "a width of " + std::to_string(w) + " (must be in [1, 1e5])");
  for (const long d : spec.depths)
    if (d < 1 || d > 64)
      throw InputError(option, "depths", "a depth of " + std::to_string(d) + " (must be in [1, 64])");
  for (const Method& m : spec.methods) {
    if (m == Method{StepRule::polyak} && !(spec.gamma > 0.0)) {
      throw InputError(option, "gamma", "the polyak method needs gamma > 0");
    }
  }
  for (const DatasetSpec& d : spec.datasets) {
    if (d.kind == DatasetSpec::Kind::file && !spec.file_data.count(d.name())) {
      throw InputError(option, "datasets", "the data set " + d.name() + " was not read");
    }
  }
  if (spec.loss_tol && !(*spec.loss_tol > 0.0 && std::isfinite(*spec.loss_tol)))
    throw InputError(option, "loss-tol", full_precision(*spec.loss_tol) + " is not a finite number > 0");
  if (!(spec.scale_margin >= 1.0 && std::isfinite(spec.scale_margin)))
    throw InputError(option, "scale-margin", full_precision(spec.scale_margin) + " is not a finite number >= 1");
  for (const double c : spec.lr_grid)
    if (!(c > 0.0 && std::isfinite(c)))
      throw InputError(option, "lr-grid", "an item " + full_precision(c) + " (must be a finite number > 0)");
  if (!(spec.eps > 0.0 && spec.eps < 1.0))
    throw InputError(option, "eps", std::to_string(spec.eps) + " is not in (0, 1)");
  if (spec.max_steps < 1) throw InputError(option, "max-steps", "must be >= 1");
  if (!(spec.t_end > 0.0)) throw InputError(option, "t-end", "must be > 0");
  if (!(spec.lr > 0.0)) throw InputError(option, "lr", "must be > 0");
  if (spec.output_scale && !std::isfinite(*spec.output_scale)) {
    throw InputError(option, "output-scale", "must be a finite number or auto");
  }
  if (spec.curve_points < 2) throw InputError(option, "curve-points", "must be >= 2");
  if (spec.out.empty()) throw InputError(option, "out", "an empty path (give a folder for the results)");
}

}  // namespace gradflow
