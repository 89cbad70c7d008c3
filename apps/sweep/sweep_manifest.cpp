#include <gradflow/apps/sweep/sweep_manifest.hpp>

#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace gradflow {
namespace {

// The format of the folder's files (2: RFC 4180 quoting of text fields; 4: the --observe columns; 5: the
// curves through the row field table, iter for step, the observed columns asked for; 6: a descent
// run's certified, certified_travel and curve bound are its step rule's, summary.csv's p-values).
constexpr const char* kRunsFormat = "6";

std::string hex(std::uint64_t h) {
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

// A TOML basic string.
std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Comment lines hold only printable text: a name with a newline in it cannot end the comment.
std::string comment_safe(const std::string& s) { return quote_text(s, 1 << 20); }

template <class T, class Name>
std::string toml_list(const std::vector<T>& values, Name name) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + name(values[i]);
  return out + "]";
}

}  // namespace

std::uint64_t data_hash(const NetworkData& data) {
  std::string bytes = std::to_string(data.x.rows()) + "x" + std::to_string(data.x.cols()) + ";";
  const auto add = [&](double v) {
    char raw[sizeof(double)];
    std::memcpy(raw, &v, sizeof v);
    bytes.append(raw, sizeof raw);
  };
  for (Eigen::Index i = 0; i < data.x.size(); ++i) add(data.x.data()[i]);
  for (Eigen::Index i = 0; i < data.y.size(); ++i) add(data.y[i]);
  return fnv1a(bytes);
}

std::vector<std::pair<std::string, std::string>> result_settings(const SweepSpec& spec) {
  std::vector<std::pair<std::string, std::string>> settings{
      {"runs-format", kRunsFormat},
      {"eps", full_precision(spec.eps)},
      {"loss-tol", spec.loss_tol ? full_precision(*spec.loss_tol) : std::string("none")},
      {"max-steps", std::to_string(spec.max_steps)},
      {"t-end", full_precision(spec.t_end)},
      {"rtol", full_precision(spec.rtol)},
      {"atol", full_precision(spec.atol)},
      {"time-accuracy", full_precision(spec.time_accuracy)},
      {"lr", full_precision(spec.lr)},
      {"gamma", full_precision(spec.gamma)},
      {"output-scale", spec.output_scale ? full_precision(*spec.output_scale) : std::string("auto")},
      {"scale-margin", full_precision(spec.scale_margin)},
      {"preprocess", std::string(to_string(spec.preprocess))},
      {"teacher", spec.teacher ? "true" : "false"},
      {"curve-points", std::to_string(spec.curve_points)},
      {"observe", to_string(spec.observe)},
  };
  // The paths and held-out points (docs/theory.md §6.5), named only when used: a folder written before
  // they existed keeps its settings.
  if (!spec.output_scales.empty()) {
    settings.emplace_back("output-scales",
                          toml_list(spec.output_scales, [](const ScaleChoice& c) { return c.name(); }));
    settings.emplace_back("scale-start", full_precision(spec.scale_start));
    settings.emplace_back("scale-end", full_precision(spec.scale_end));
  }
  if (!spec.condition_path.empty())
    settings.emplace_back("condition-path", toml_list(spec.condition_path, [](double a) { return full_precision(a); }));
  if (spec.holdout > 0.0) {
    settings.emplace_back("holdout", full_precision(spec.holdout));
    settings.emplace_back("holdout-seed", std::to_string(spec.holdout_seed));
  }
  if (!spec.test_data.empty())
    settings.emplace_back("test-data", spec.test_file ? hex(data_hash(*spec.test_file)) : std::string("unread"));
  for (const DatasetSpec& dataset : spec.datasets) {
    if (dataset.kind != DatasetSpec::Kind::file) continue;
    const auto found = spec.file_data.find(dataset.name());
    settings.emplace_back("data " + comment_safe(dataset.name()),
                          found == spec.file_data.end() ? std::string("unread") : hex(data_hash(found->second)));
  }
  return settings;
}

std::uint64_t settings_hash(const SweepSpec& spec) {
  std::string text;
  for (const auto& [name, value] : result_settings(spec)) text += name + "=" + value + "\n";
  return fnv1a(text);
}

std::string manifest_text(const SweepSpec& spec) {
  std::ostringstream out;
  out << "# The sweep of this folder as resolved, written by gradflow (gradflow sweep --config this-file reruns it).\n"
      << "# A rerun into this folder must have the same settings below (or give --overwrite to discard the results).\n"
      << "# settings-hash = " << hex(settings_hash(spec)) << "\n";
  for (const auto& [name, value] : result_settings(spec)) out << "# setting " << name << " = " << value << "\n";
  out << "\n[sweep]\n";
  out << "inits = " << toml_list(spec.inits, [](InitScheme s) { return toml_string(std::string(to_string(s))); })
      << "\n";
  out << "widths = " << toml_list(spec.widths, [](long w) { return std::to_string(w); }) << "\n";
  out << "depths = " << toml_list(spec.depths, [](long d) { return std::to_string(d); }) << "\n";
  out << "activations = "
      << toml_list(spec.activations, [](Activation a) { return toml_string(std::string(to_string(a))); }) << "\n";
  // Seeds 0..N-1 are written as the count N (the same seeds).
  bool count = true;
  for (std::size_t i = 0; i < spec.seeds.size(); ++i) count &= spec.seeds[i] == static_cast<long>(i);
  if (count && !spec.seeds.empty()) {
    out << "seeds = " << spec.seeds.size() << "  # a count: the seeds 0.." << spec.seeds.size() - 1 << "\n";
  } else {
    out << "seeds = " << toml_list(spec.seeds, [](long s) { return std::to_string(s); }) << "\n";
  }
  out << "methods = " << toml_list(spec.methods, [](const Method& m) { return toml_string(m.name()); }) << "\n";
  out << "datasets = " << toml_list(spec.datasets, [](const DatasetSpec& d) { return toml_string(d.name()); }) << "\n";
  // The target is eps or loss-tol, never both (a sweep file that gives both is refused).
  if (spec.loss_tol) {
    out << "loss-tol = " << full_precision(*spec.loss_tol) << "\n";
  } else {
    out << "eps = " << full_precision(spec.eps) << "\n";
  }
  out << "max-steps = " << spec.max_steps << "\n";
  out << "t-end = " << full_precision(spec.t_end) << "\n";
  out << "rtol = " << full_precision(spec.rtol) << "\n";
  out << "atol = " << full_precision(spec.atol) << "\n";
  out << "time-accuracy = " << full_precision(spec.time_accuracy) << "\n";
  out << "lr = " << full_precision(spec.lr) << "\n";
  out << "gamma = " << full_precision(spec.gamma) << "\n";
  if (spec.output_scales.empty()) {
    out << "output-scale = " << (spec.output_scale ? full_precision(*spec.output_scale) : std::string("\"auto\""))
        << "\n";
  } else {
    out << "output-scale = "
        << toml_list(spec.output_scales, [](const ScaleChoice& c) { return toml_string(c.name()); }) << "\n";
    out << "scale-start = " << full_precision(spec.scale_start) << "\n";
    out << "scale-end = " << full_precision(spec.scale_end) << "\n";
  }
  if (!spec.condition_path.empty())
    out << "condition-path = " << toml_list(spec.condition_path, [](double a) { return full_precision(a); }) << "\n";
  if (spec.holdout > 0.0) {
    out << "holdout = " << full_precision(spec.holdout) << "\n";
    out << "holdout-seed = " << spec.holdout_seed << "\n";
  }
  if (!spec.test_data.empty()) out << "test-data = " << toml_string(spec.test_data) << "\n";
  if (spec.verdict_on != VerdictOn::work)
    out << "verdict-on = " << toml_string(std::string(to_string(spec.verdict_on))) << "\n";
  out << "scale-margin = " << full_precision(spec.scale_margin) << "\n";
  if (!spec.lr_grid.empty())
    out << "lr-grid = " << toml_list(spec.lr_grid, [](double c) { return full_precision(c); }) << "\n";
  out << "preprocess = " << toml_string(std::string(to_string(spec.preprocess))) << "\n";
  out << "teacher = " << (spec.teacher ? "true" : "false") << "\n";
  out << "curve-points = " << spec.curve_points << "\n";
  if (spec.observe.any()) {
    std::string items;
    std::string text = to_string(spec.observe);
    for (std::size_t start = 0; start <= text.size();) {
      const std::size_t comma = std::min(text.find(',', start), text.size());
      items += (items.empty() ? "" : ", ") + toml_string(text.substr(start, comma - start));
      start = comma + 1;
    }
    out << "observe = [" << items << "]\n";
  }
  out << "out = " << toml_string(spec.out) << "\n";
  return out.str();
}

std::optional<std::string> manifest_difference(const std::string& old, const SweepSpec& spec) {
  std::map<std::string, std::string> before;
  std::string old_hash;
  std::istringstream lines(old);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# settings-hash = ", 0) == 0) old_hash = line.substr(18);
    if (line.rfind("# setting ", 0) != 0) continue;
    const auto equals = line.rfind(" = ");
    if (equals == std::string::npos || equals < 10) continue;
    before[line.substr(10, equals - 10)] = line.substr(equals + 3);
  }
  if (old_hash.empty()) return std::string("the folder's ") + kManifestFile + " has no settings-hash line";
  for (const auto& [name, value] : result_settings(spec)) {
    const auto found = before.find(name);
    const bool data = name.rfind("data ", 0) == 0;
    if (found == before.end()) {
      if (data) continue;  // a data set added to the grid
      return name + " was not set, now " + value;
    }
    if (found->second != value) {
      if (data) return name.substr(5) + ": the file's content changed (hash " + found->second + ", now " + value + ")";
      return name + " was " + found->second + ", now " + value;
    }
  }
  // A setting named only when used (the paths, the held-out points) that this sweep no longer sets.
  const auto now = result_settings(spec);
  for (const auto& [name, value] : before) {
    if (name.rfind("data ", 0) == 0) continue;
    const bool kept = std::any_of(now.begin(), now.end(), [&](const auto& s) { return s.first == name; });
    if (!kept) return name + " was " + value + ", now not set";
  }
  return std::nullopt;
}

namespace {

namespace fs = std::filesystem;

// Refuses what the sweep would follow or could not use: a symbolic link, or the wrong kind of entry,
// where it reads or writes.
// shown: the name as the message gives it (relative to the sweep's folder out).
void refuse_planted(const OutputFolder& folder, const std::string& name, const std::string& shown,
                    OutputFolder::Kind wanted, const std::string& option, const std::string& out) {
  const OutputFolder::Kind kind = folder.kind(name);
  if (kind == OutputFolder::Kind::link) {
    throw InputError(option, out, shown + " in the folder is a symbolic link: refused, never followed (remove it)");
  }
  if (kind != OutputFolder::Kind::missing && kind != wanted) {
    throw InputError(option, out,
                     shown + " in the folder is not a " +
                         (wanted == OutputFolder::Kind::folder ? "folder" : "regular file") + ": refused (remove it)");
  }
}

}  // namespace

bool is_rank_file(const std::string& name) {
  return name.rfind("runs.rank", 0) == 0 && name.size() > 13 && name.substr(name.size() - 4) == ".csv";
}

bool check_sweep_paths(const std::string& out, const std::vector<NamedPath>& inputs, const std::string& option) {
  if (out.empty()) throw InputError(option, "", "an empty path (give a folder for the results)");
  std::error_code ec;
  const fs::file_status status = fs::status(out, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw InputError(option, out, "exists and is not a folder (the results go into a folder)");
  }
  const std::string folder = normalized_path(out);
  bool manifest_is_input = false;
  for (const NamedPath& input : inputs) {
    if (input.path.empty()) continue;
    if (input.option == "--config" && same_file(input.path, (fs::path(out) / kManifestFile).string())) {
      manifest_is_input = true;  // a rerun from the folder's own manifest (open_sweep_folder keeps it)
      continue;
    }
    const std::string path = normalized_path(input.path);
    bool written = false;
    for (const char* name : {"runs.csv", "summary.csv", "conditioning.csv", kManifestFile, FolderLock::kFileName})
      written |= same_file(input.path, (fs::path(out) / name).string());
    const fs::path relative = fs::path(path).lexically_relative(folder);
    const std::string first = relative.empty() ? std::string() : relative.begin()->string();
    written |= first == "curves" || first == "plots" ||
               (relative.has_filename() && relative == relative.filename() && is_rank_file(relative.string()));
    if (written) {
      throw InputError(option, out,
                       "the sweep writes " + quote_text(input.path) + ", which is the input " + input.option +
                           ": an output never overwrites an input");
    }
  }
  return manifest_is_input;
}

SweepFolder open_sweep_folder(const SweepSpec& spec, bool overwrite, const std::string& option,
                              bool manifest_is_input) {
  std::error_code ec;
  fs::create_directories(spec.out, ec);
  if (ec || !fs::is_directory(spec.out)) {
    throw InputError(option, spec.out, "cannot create the folder" + (ec ? ": " + ec.message() : std::string()));
  }
  OutputFolder folder(option, spec.out);
  auto lock = std::make_unique<FolderLock>(folder);
  // Links planted in the folder are refused before anything is read, run or written.
  using Kind = OutputFolder::Kind;
  for (const char* name : {"curves", "plots"}) refuse_planted(folder, name, name, Kind::folder, option, spec.out);
  if (folder.kind("plots") == Kind::folder)
    refuse_planted(folder.sub("plots", false), "data", "plots/data", Kind::folder, option, spec.out);
  for (const char* name : {"runs.csv", "summary.csv", "conditioning.csv", kManifestFile})
    refuse_planted(folder, name, name, Kind::file, option, spec.out);
  for (const std::string& name : folder.names())
    if (is_rank_file(name)) refuse_planted(folder, name, name, Kind::file, option, spec.out);
  // And inside the sub-folders: a link planted at a curve or a figure (the sweep writes those names).
  const auto refuse_links_in = [&](const OutputFolder& sub, const std::string& shown) {
    for (const std::string& name : sub.names())
      if (sub.kind(name) == Kind::link) refuse_planted(sub, name, shown + "/" + name, Kind::file, option, spec.out);
  };
  if (folder.kind("curves") == Kind::folder) refuse_links_in(folder.sub("curves", false), "curves");
  if (folder.kind("plots") == Kind::folder) {
    const OutputFolder plots = folder.sub("plots", false);
    refuse_links_in(plots, "plots");
    if (plots.kind("data") == Kind::folder) refuse_links_in(plots.sub("data", false), "plots/data");
  }

  std::optional<std::string> difference;
  const std::string text = manifest_text(spec);
  const std::optional<std::string> old = folder.read(kManifestFile);
  if (manifest_is_input && old != text) {
    throw InputError("--config", (fs::path(spec.out) / kManifestFile).string(),
                     "is the folder's own manifest, and this sweep would rewrite it with other content (the "
                     "options given beside it, or a file edited by hand): an output never overwrites an input; "
                     "copy it out of the folder to change the sweep");
  }
  if (old) {
    difference = manifest_difference(*old, spec);
  } else {
    for (const char* name : {"runs.csv", "summary.csv", "curves"}) {
      if (folder.kind(name) != Kind::missing) {
        difference = std::string("the folder holds ") + name + " but no " + kManifestFile +
                     " (results of an older gradflow, or of another program)";
        break;
      }
    }
  }
  if (difference && !overwrite) {
    throw InputError(option, spec.out,
                     "holds the results of a sweep with other settings (" + *difference +
                         "); give --overwrite to discard them, or choose another folder");
  }
  if (difference) {
    for (const char* name : {"runs.csv", "summary.csv", "conditioning.csv"}) folder.remove(name);
    for (const char* name : {"curves", "plots"}) folder.remove_tree(name);
    for (const std::string& name : folder.names())
      if (is_rank_file(name)) folder.remove(name);
  }
  if (old != text) write_file_atomically(option, folder, kManifestFile, [&](std::ostream& o) { o << text; });
  return SweepFolder{std::move(folder), std::move(lock)};
}

}  // namespace gradflow
