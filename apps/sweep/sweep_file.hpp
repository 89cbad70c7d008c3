// Reading a sweep file: the TOML form of a SweepSpec (experiments/sweep_spec.hpp).
#pragma once

#include <gradflow/experiments/sweep_spec.hpp>

#include <optional>
#include <string>
#include <vector>

namespace gradflow::cli {

// Keys are the SweepSpec fields (inits, widths, depths, activations, seeds, methods, datasets, eps,
// max-steps, t-end, lr, gamma, output-scale, teacher, curve-points, out), at the top level or in a
// [sweep] section; seeds may be a list or a count (seeds = 20 means 0..19). Throws InputError naming
// --config on bad input.
SweepSpec read_sweep_file(const std::string& path);

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

// Reads every file data set of spec into spec.file_data (before the sweep starts).
void read_file_datasets(SweepSpec& spec, const std::string& option);

}  // namespace gradflow::cli
