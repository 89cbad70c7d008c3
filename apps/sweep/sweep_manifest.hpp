// The manifest of a sweep's output folder: <out>/sweep.toml, the sweep as resolved (a valid sweep file:
// `gradflow sweep --config <out>/sweep.toml` reruns it), with a header of comments that lists every
// setting that changes a result and their hash:
//
//   # settings-hash = 5f0c...
//   # setting eps = 0.001
//   # setting max-steps = 5000
//   # setting data file:x.csv = 9a3e... (a hash of the file's content)
//
// A rerun into the same folder reuses the runs already recorded only when these settings are equal;
// otherwise it is refused with the first differing setting, unless the caller discards the old results
// (gradflow sweep --overwrite). The grid itself (inits, widths, depths, activations, seeds, methods,
// datasets) may grow or shrink: each run is named by its coordinates, so runs done under the same
// settings are the same runs.
#pragma once

#include <gradflow/apps/support/folder_lock.hpp>
#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/experiments/sweep_spec.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gradflow {

inline constexpr const char* kManifestFile = "sweep.toml";

// The settings that change a result, as (name, value) in a fixed order: the format of runs.csv, eps,
// max-steps, t-end, lr, gamma, output-scale, teacher, curve-points, then "data <name>" with the hash of
// the content of each file data set.
std::vector<std::pair<std::string, std::string>> result_settings(const SweepSpec& spec);

// FNV-1a over the settings (names and values).
std::uint64_t settings_hash(const SweepSpec& spec);

// The manifest's text (header and resolved sweep file).
std::string manifest_text(const SweepSpec& spec);

// The first setting in which the manifest text `old` differs from spec, as one line ("eps was 0.001,
// now 0.0001"), or nothing when they agree. A data set in only one of them is not a difference.
std::optional<std::string> manifest_difference(const std::string& old, const SweepSpec& spec);

// A hash of a data set's numbers (rows, columns and every value's bits).
std::uint64_t data_hash(const NetworkData& data);

// The checks made before a sweep creates or touches its folder: the path is not empty, is a folder
// if it exists, and no input is one of the files the sweep writes there (runs.csv, runs.rank*.csv,
// summary.csv, sweep.toml, gradflow.lock, anything under curves/ or plots/). InputError naming option.
// One exception: the sweep file (the input named "--config") may be the folder's own sweep.toml, the
// the rerun of docs/reference/sweep.md, `gradflow sweep --config results/sweep/sweep.toml`; the function then returns
// true, and open_sweep_folder must be told (it never rewrites that file with other content).
bool check_sweep_paths(const std::string& out, const std::vector<NamedPath>& inputs, const std::string& option);

// Whether name is a rank's runs file, runs.rank<N>.csv.
bool is_rank_file(const std::string& name);

// A sweep's folder, open and locked.
struct SweepFolder {
  OutputFolder folder;               // every file and sub-folder is reached from it, never through a link
  std::unique_ptr<FolderLock> lock;  // held until destroyed
};

// Creates the folder, opens it, locks it for the run (apps/support/folder_lock.hpp: a second sweep into it
// fails at once), refuses a symbolic link planted where the sweep reads or writes (curves/, plots/,
// plots/data/, runs.csv, runs.rank*.csv, summary.csv, sweep.toml: an InputError naming it, before
// anything is read or run), then compares the manifest found there with spec: a difference, or results
// without a manifest, is an InputError with the first differing setting unless overwrite, which deletes
// the folder's results (runs.csv, runs.rank*.csv, summary.csv, curves/, plots/; links never followed).
// Writes the manifest. manifest_is_input (check_sweep_paths's answer): the sweep file is the folder's
// sweep.toml; it is left as it is when the manifest's text is the same, and a sweep that would change it is
// an InputError naming --config (an output never overwrites an input).
SweepFolder open_sweep_folder(const SweepSpec& spec, bool overwrite, const std::string& option,
                              bool manifest_is_input = false);

}  // namespace gradflow
