#include <gradflow/experiments/sweep_spec.hpp>

#include <gradflow/core/input_error.hpp>
#include <gradflow/core/random.hpp>
#include <gradflow/core/size_estimate.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/discrete/options.hpp>
#include <gradflow/flow/options.hpp>
#include <gradflow/problems/activation.hpp>
#include <gradflow/problems/initialization.hpp>
#include <gradflow/problems/mlp.hpp>
#include <gradflow/theory/observables.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <sstream>
#include <type_traits>
#include <utility>

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

std::string ScaleChoice::name() const {
  switch (kind) {
    case Kind::absolute:
      return full_precision(value);
    case Kind::automatic:
      return "auto";
    case Kind::certified:
      return full_precision(value) + "x";
    case Kind::path:
      return "path:" + std::to_string(index) + "/" + std::to_string(count);
  }
  return "";
}

std::optional<ScaleChoice> ScaleChoice::from_string(std::string_view text) {
  ScaleChoice c;
  const auto number = [](std::string_view t, double& out) {
    if (t.empty()) return false;
    const std::string s(t);
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && std::isfinite(out);  // > 0: SweepSpec::validate
  };
  if (text == "auto") {
    c.kind = Kind::automatic;
    return c;
  }
  if (text.substr(0, 5) == "path:") {
    const std::string_view rest = text.substr(5);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto whole = [](std::string_view digits, long& value) {
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return false;
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      return ec == std::errc() && ptr == digits.data() + digits.size();
    };
    c.kind = Kind::path;
    if (!whole(rest.substr(0, slash), c.index) || !whole(rest.substr(slash + 1), c.count)) return std::nullopt;
    if (c.count < 2 || c.index >= c.count) return std::nullopt;
    return c;
  }
  if (!text.empty() && text.back() == 'x') {
    c.kind = Kind::certified;
    if (!number(text.substr(0, text.size() - 1), c.value)) return std::nullopt;
    return c;
  }
  if (!number(text, c.value)) return std::nullopt;
  return c;
}

double ScaleChoice::resolve(double threshold, double margin, double start, double end_factor) const {
  switch (kind) {
    case Kind::absolute:
      return value;
    case Kind::automatic:
      return margin * threshold;
    case Kind::certified:
      return value * threshold;
    case Kind::path: {
      const double t = static_cast<double>(index) / static_cast<double>(count - 1);
      return start * std::pow(end_factor * threshold / start, t);
    }
  }
  return value;
}

std::string_view to_string(VerdictOn on) {
  switch (on) {
    case VerdictOn::work:
      return "work";
    case VerdictOn::test_loss:
      return "test_loss";
    case VerdictOn::test_error:
      return "test_error";
  }
  return "work";
}

std::optional<VerdictOn> verdict_on_from_string(std::string_view name) {
  for (const VerdictOn on : {VerdictOn::work, VerdictOn::test_loss, VerdictOn::test_error})
    if (to_string(on) == name) return on;
  return std::nullopt;
}

std::vector<ScaleChoice> scale_path(long count) {
  std::vector<ScaleChoice> path;
  for (long k = 0; k < count; ++k) {
    ScaleChoice c;
    c.kind = ScaleChoice::Kind::path;
    c.index = k;
    c.count = count;
    path.push_back(c);
  }
  return path;
}

std::optional<std::string> read_output_scales(const std::vector<std::string>& items, std::optional<double>& single,
                                              std::vector<ScaleChoice>& path) {
  std::vector<ScaleChoice> choices;
  for (const std::string& item : items) {
    const auto choice = ScaleChoice::from_string(item);
    if (!choice) return item;
    choices.push_back(*choice);
  }
  single.reset();
  path.clear();
  if (choices.size() == 1 && choices[0].kind == ScaleChoice::Kind::absolute) {
    single = choices[0].value;
  } else if (!(choices.size() == 1 && choices[0].kind == ScaleChoice::Kind::automatic)) {
    path = std::move(choices);
  }
  return std::nullopt;
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
  if (scale) out << ";scale=" << scale->name();
  if (power) out << ";power=" << full_precision(*power);
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
  std::vector<std::optional<double>> powers(spec.condition_path.begin(), spec.condition_path.end());
  if (powers.empty()) powers.push_back(std::nullopt);
  std::vector<std::optional<ScaleChoice>> path_scales(spec.output_scales.begin(), spec.output_scales.end());
  if (path_scales.empty()) path_scales.push_back(std::nullopt);
  const std::vector<std::optional<ScaleChoice>> no_scale{std::nullopt};
  for (const auto& dataset : spec.datasets)
    for (const auto& power : powers)
      for (const auto& method : spec.methods)
        for (const auto activation : spec.activations)
          for (const long depth : spec.depths)
            for (const long width : spec.widths)
              for (const auto init : spec.inits)
                for (const auto& scale : init == InitScheme::positive ? path_scales : no_scale)
                  for (const long seed : spec.seeds) {
                    RunSpec run{init, width, depth, activation, seed, method, dataset};
                    run.scale = scale;
                    run.power = power;
                    if (method == Method{StepRule::fixed} && !spec.lr_grid.empty()) {
                      for (const double c : spec.lr_grid) {
                        run.lr_c = c;
                        runs.push_back(run);
                      }
                    } else {
                      runs.push_back(run);
                    }
                  }
  return runs;
}

namespace {

// The first item listed twice (in the order of the list), as text, or "": by the items' names, sorted
// once (a list can hold millions of seeds).
template <class T, class Name>
std::string first_repeated(const std::vector<T>& items, Name name) {
  using Key = std::conditional_t<std::is_arithmetic_v<T>, T, std::string>;
  std::vector<std::pair<Key, std::size_t>> named;
  named.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if constexpr (std::is_arithmetic_v<T>) {
      named.emplace_back(items[i], i);
    } else {
      named.emplace_back(name(items[i]), i);
    }
  }
  std::sort(named.begin(), named.end());
  std::size_t first = items.size();
  for (std::size_t i = 1; i < named.size(); ++i)
    if (named[i].first == named[i - 1].first) first = std::min(first, named[i].second);
  return first < items.size() ? name(items[first]) : "";
}

std::string integer_text(long x) { return std::to_string(x); }

}  // namespace

std::optional<OptionError> SweepSpec::validate() const {
  const auto finite_positive = [](double x) { return std::isfinite(x) && x > 0.0; };
  // Each list: not empty, no item twice.
  const auto list = [](const char* field, bool empty, const std::string& repeated) -> std::optional<OptionError> {
    if (empty) return OptionError{field, "[]", "the list is empty"};
    if (!repeated.empty()) return OptionError{field, repeated, "is listed twice (each item is one slice of the grid)"};
    return std::nullopt;
  };
  const auto name_of = [](auto value) { return std::string(to_string(value)); };
  if (auto e = list("inits", inits.empty(), first_repeated(inits, name_of))) return e;
  if (auto e = list("widths", widths.empty(), first_repeated(widths, integer_text))) return e;
  if (auto e = list("depths", depths.empty(), first_repeated(depths, integer_text))) return e;
  if (auto e = list("activations", activations.empty(), first_repeated(activations, name_of))) return e;
  if (auto e = list("seeds", seeds.empty(), first_repeated(seeds, integer_text))) return e;
  if (auto e = list("methods", methods.empty(), first_repeated(methods, [](const Method& m) { return m.name(); })))
    return e;
  if (auto e =
          list("datasets", datasets.empty(), first_repeated(datasets, [](const DatasetSpec& d) { return d.name(); })))
    return e;
  if (!lr_grid.empty()) {
    if (auto e = list("lr_grid", false, first_repeated(lr_grid, full_precision))) return e;
  }
  for (const long w : widths)
    if (w < 1 || w > 100000) return OptionError{"widths", std::to_string(w), "must be in [1, 100000]"};
  for (const long d : depths)
    if (d < 1 || d > 64) return OptionError{"depths", std::to_string(d), "must be in [1, 64]"};
  for (const long s : seeds)
    if (s < 0) return OptionError{"seeds", std::to_string(s), "must be >= 0"};
  for (const DatasetSpec& d : datasets) {
    if (d.kind == DatasetSpec::Kind::file && !file_data.count(d.name()))
      return OptionError{"datasets", d.name(), "the data set was not read"};
  }
  if (!(eps > 0.0 && eps < 1.0)) return OptionError{"eps", full_precision(eps), "must be a number in (0, 1)"};
  if (loss_tol && !finite_positive(*loss_tol))
    return OptionError{"loss_tol", full_precision(*loss_tol), "must be a finite number > 0"};
  if (max_steps < 1) return OptionError{"max_steps", std::to_string(max_steps), "must be >= 1"};
  if (!finite_positive(t_end)) return OptionError{"t_end", full_precision(t_end), "must be a finite number > 0"};
  // The flow's tolerances, checked as FlowOptions::validate checks them (flow/options.cpp).
  if (!(finite_positive(rtol) && rtol < 1.0))
    return OptionError{"rtol", full_precision(rtol), "must be a number in (0, 1)"};
  if (rtol < tolerances::kMinRelativeTolerance)
    return OptionError{"rtol", full_precision(rtol),
                       "is below what double precision can meet (rtol >= " +
                           format_number("%.3g", tolerances::kMinRelativeTolerance) + ", 100 machine epsilons)"};
  if (!(finite_positive(atol) && atol < 1.0)) {
    return OptionError{"atol", full_precision(atol),
                       "must be a number in (0, 1) (an atol of 1 or more lets a step of any length pass)"};
  }
  if (!(time_accuracy >= 0.0 && time_accuracy < 0.5))
    return OptionError{"time_accuracy", full_precision(time_accuracy),
                       "must be a number in [0, 0.5) (a relative accuracy of the time to the target; 0: off)"};
  if (!finite_positive(lr)) return OptionError{"lr", full_precision(lr), "must be a finite number > 0"};
  if (!(std::isfinite(gamma) && gamma >= 0.0))
    return OptionError{"gamma", full_precision(gamma), "must be a finite number >= 0 (0: not given)"};
  for (const Method& m : methods) {
    if (m == Method{StepRule::polyak} && !(gamma > 0.0))
      return OptionError{"gamma", full_precision(gamma), "must be > 0: the polyak method needs it"};
  }
  if (output_scale && !finite_positive(*output_scale))
    return OptionError{"output_scale", full_precision(*output_scale), "must be a finite number > 0, or auto"};
  if (!(std::isfinite(scale_margin) && scale_margin >= 1.0))
    return OptionError{"scale_margin", full_precision(scale_margin), "must be a finite number >= 1"};
  for (const double c : lr_grid)
    if (!finite_positive(c))
      return OptionError{"lr_grid", full_precision(c), "must be a finite number > 0 (a factor c of lr = c / beta0)"};
  if (!lr_grid.empty() && std::find(methods.begin(), methods.end(), Method{StepRule::fixed}) == methods.end()) {
    return OptionError{"lr_grid", std::to_string(lr_grid.size()) + " factors",
                       "tunes the fixed method's step: add \"fixed\" to methods"};
  }
  if (!output_scales.empty()) {
    if (auto e =
            list("output_scales", false, first_repeated(output_scales, [](const ScaleChoice& c) { return c.name(); })))
      return e;
    if (output_scale)
      return OptionError{"output_scale", full_precision(*output_scale),
                         "give one output scale or a scale path, not both"};
    for (const ScaleChoice& c : output_scales)
      if ((c.kind == ScaleChoice::Kind::absolute || c.kind == ScaleChoice::Kind::certified) && !(c.value > 0.0))
        return OptionError{"output_scales", c.name(), "must be a finite number > 0 (a scale, or F of Fx)"};
    if (std::find(inits.begin(), inits.end(), InitScheme::positive) == inits.end())
      return OptionError{"output_scales", std::to_string(output_scales.size()) + " scales",
                         "the scale path is the positive initialization's: add positive to the inits"};
  }
  if (!(std::isfinite(scale_start) && scale_start > 0.0))
    return OptionError{"scale_start", full_precision(scale_start), "must be a finite number > 0"};
  if (!(std::isfinite(scale_end) && scale_end > 0.0))
    return OptionError{"scale_end", full_precision(scale_end), "must be a finite number > 0 (a factor of s*)"};
  if (!condition_path.empty()) {
    if (auto e = list("condition_path", false, first_repeated(condition_path, full_precision))) return e;
    for (const double a : condition_path)
      if (!(std::isfinite(a) && a >= -4.0 && a <= 8.0))
        return OptionError{"condition_path", full_precision(a), "must be a power a in [-4, 8] (cond(X) -> cond(X)^a)"};
    if (preprocess == Preprocess::whiten)
      return OptionError{"condition_path", std::to_string(condition_path.size()) + " powers",
                         "whitened inputs have condition 1 at every power: drop whiten (the power 0 is whitening)"};
    if (preprocess == Preprocess::standardize)
      return OptionError{"condition_path", std::to_string(condition_path.size()) + " powers",
                         "needs linearly independent inputs, which centring (standardize) removes: use scale or none"};
  }
  if (!(std::isfinite(holdout) && holdout >= 0.0 && holdout < 1.0))
    return OptionError{"holdout", full_precision(holdout), "must be a fraction in [0, 1) (0: no held-out points)"};
  if (holdout > 0.0 && !test_data.empty())
    return OptionError{"test_data", test_data, "give held-out points as a file or as a fraction (holdout), not both"};
  if (!test_data.empty()) {
    if (!test_file) return OptionError{"test_data", test_data, "the held-out data were not read"};
    if (datasets.size() != 1)
      return OptionError{"test_data", test_data,
                         "held-out points from a file need exactly one data set (there are " +
                             std::to_string(datasets.size()) + "; use holdout for several)"};
  }
  if (curve_points < 2 || curve_points > 1000000)
    return OptionError{"curve_points", std::to_string(curve_points), "must be in [2, 1000000]"};
  if (out.empty()) return OptionError{"out", "\"\"", "an empty path (give a folder for the results)"};
  if (out.find('\0') != std::string::npos) return OptionError{"out", quote_text(out), "holds a NUL byte"};
  return std::nullopt;
}

std::uint64_t sweep_run_count(const SweepSpec& spec) {
  std::uint64_t count = 1;
  const std::size_t positives =
      static_cast<std::size_t>(std::count(spec.inits.begin(), spec.inits.end(), InitScheme::positive));
  const std::size_t schemes = spec.inits.size() + positives * (std::max<std::size_t>(spec.output_scales.size(), 1) - 1);
  for (const std::size_t size :
       {schemes, spec.widths.size(), spec.depths.size(), spec.activations.size(), spec.seeds.size(),
        spec.methods.size(), spec.datasets.size(), std::max<std::size_t>(spec.lr_grid.size(), 1),
        std::max<std::size_t>(spec.condition_path.size(), 1)}) {
    count = checked_mul(count, size).value_or(UINT64_MAX);
  }
  return count;
}

SizeEstimate sweep_grid_memory(const SweepSpec& spec) {
  const std::uint64_t count = sweep_run_count(spec);
  SizeEstimate runs;
  if (count == UINT64_MAX) {
    runs.add({LLONG_MAX, LLONG_MAX});
  } else {
    runs.add({static_cast<long long>(std::min<std::uint64_t>(count, LLONG_MAX)), 2048});
  }
  return runs;
}

SizeEstimate sweep_run_memory(const SweepSpec& spec) {
  long n = 1, d = 1;
  for (const DatasetSpec& dataset : spec.datasets) {
    if (dataset.kind == DatasetSpec::Kind::synthetic) {
      n = std::max(n, dataset.n);
      d = std::max(d, dataset.d);
    } else if (const auto found = spec.file_data.find(dataset.name()); found != spec.file_data.end()) {
      n = std::max<long>(n, found->second.x.rows());
      d = std::max<long>(d, found->second.x.cols());
    }
  }
  MlpArchitecture largest;
  largest.input_dim = d;
  const long depth = spec.depths.empty() ? 1 : *std::max_element(spec.depths.begin(), spec.depths.end());
  const long width = spec.widths.empty() ? 1 : *std::max_element(spec.widths.begin(), spec.widths.end());
  largest.widths.assign(static_cast<std::size_t>(std::max(depth, 1L)), width);
  SizeEstimate run = network_memory(largest, n);
  run.add({n, d, 8, 2});  // the data set itself
  run.add({spec.curve_points, 80});
  // A parameter count past 2^63 - 1 saturates (the estimate then refuses the run), never overflows.
  run.add(observe_memory(spec.observe, static_cast<long long>(largest.checked_num_parameters().value_or(LLONG_MAX)), n,
                         false));
  if (spec.observe.any()) run.add({spec.max_steps, 128});
  return run;
}

}  // namespace gradflow
