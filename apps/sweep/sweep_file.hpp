// Reading a sweep file: the TOML form of a SweepSpec (experiments/sweep_spec.hpp).
#pragma once

#include <gradflow/core/input_error.hpp>
#include <gradflow/experiments/sweep_spec.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow::cli {

// Keys are the SweepSpec fields (inits, widths, depths, activations, seeds, methods, datasets, eps,
// max-steps, t-end, lr, gamma, output-scale, teacher, curve-points, out), at the top level or in a
// [sweep] section. A list key takes an array (widths = [16, 32]) or one value (widths = 32). seeds
// is the one key where the two differ: an array lists the seeds (seeds = [7] is the seed 7), a
// number is a count (seeds = 20 means 0..19). Throws InputError naming --config, the key, the item
// and what it must be. Reads every file data set (read_file_datasets) and validates the whole spec.
SweepSpec read_sweep_file(const std::string& path);
// The same from the file's text (path is only named in messages); file data sets are not read.
SweepSpec parse_sweep_text(std::string_view text, const std::string& path);

// One key of a sweep file: its name, the kind of value it takes and what it sets. The parser accepts
// exactly these keys (an unknown one is an error listing them), `gradflow sweep --keys` prints them, and
// the documentation's sweep-file reference is generated from that output (scripts/cli_reference.py).
struct SweepKey {
  const char* name;
  const char* value;
  const char* meaning;
};
const std::vector<SweepKey>& sweep_file_keys();

// The names of a sweep file or of compare-inits' options, as enumerations; an unknown name is an
// InputError naming the option, the key and the known names.
std::vector<InitScheme> parse_inits(const std::vector<std::string>& names, const std::string& option,
                                    const std::string& key);
std::vector<Activation> parse_activations(const std::vector<std::string>& names, const std::string& option,
                                          const std::string& key);
std::vector<Method> parse_methods(const std::vector<std::string>& names, const std::string& option,
                                  const std::string& key);
std::vector<DatasetSpec> parse_datasets(const std::vector<std::string>& names, const std::string& option,
                                        const std::string& key);
// "auto" (empty) or a finite number.
std::optional<double> parse_output_scale(const std::string& text, const std::string& option, const std::string& key);

// The output scales of a list (--output-scale, the key output-scale): one number is output_scale, one
// "auto" leaves it automatic, anything else (several entries, "Fx", "path:k/N") is the scale path
// output_scales. InputError naming option and key for an entry that is none of 10, auto, 4x, path:k/N.
void set_output_scales(SweepSpec& spec, const std::vector<std::string>& items, const std::string& option,
                       const std::string& key);

// Reads every file data set of spec into spec.file_data and checks it as a network's data (at least
// two columns, finite numbers, at least one row), before the sweep creates its folder.
void read_file_datasets(SweepSpec& spec, const std::string& option);
// Reads spec.test_data (when given and not read) into spec.test_file, as a data set is read.
void read_test_data(SweepSpec& spec, const std::string& option);

// A sweep setting that failed SweepSpec::validate() as the InputError of a sweep file: "--config 'f.toml':
// key 'lr-grid' = 0: must be a finite number > 0 ...".
InputError sweep_error(const OptionError& error, const std::string& option);

}  // namespace gradflow::cli
