// Support shared by the subcommands of the gradflow command line: config files, output files that are
// written whole or not at all, progress on a terminal, and the formatting of numbers and errors.
#pragma once

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/text.hpp>

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradflow::cli {

// Exit codes: 0 the run did what was asked, 1 it ended early (a numerical failure status or a budget),
// 2 bad input (nothing run, nothing written), 3 out of memory or an output that could not be written.
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitRunFailed = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitResources = 3;

// What the command is doing, for the one line of an out-of-memory exit ("out of memory while reading
// --data"). The text must outlive the call (a literal).
void set_activity(const char* what);
const char* activity();

// --max-memory on a command that allocates by sizes the user gives; apply_memory_option() sets the
// process's limit (apps/support/memory_limit.hpp) from it, or leaves the default (75% of physical memory).
void add_memory_option(CLI::App& command, std::string& max_memory);
void apply_memory_option(const std::string& max_memory);

// The options that name an input file, on any command that has them.
inline constexpr const char* kInputFileOptions[] = {"--matrix", "--minimizer", "--data", "--theta0", "--config"};

// The options that name an output file or folder, on any command that has them.
inline constexpr const char* kOutputFileOptions[] = {"--out", "--json", "--theta-out", "--states-out", "--plot"};

// Before CLI11 reads the command line (argv as main() has it): an option written --name= with nothing
// after the '=' (CLI11 would take the next argument as its value: `--out= --quiet` wrote a file named
// --quiet), and an empty argument given as an option's value (a number option would read it as 0) are
// InputErrors naming the option: "--save-every: an empty value", "--out: an empty path". Nothing after
// "--" is looked at.
void check_empty_values(CLI::App& app, int argc, const char* const* argv);

// CLI11 reads an integer option with strtoll/strtoull, which clamp a value past the type's range
// ("--max-steps 9223372036854775808" ran with 2^63 - 1), wrap "-1" for an unsigned option, and read "010"
// as octal 8. Adds to every integer option of app and its subcommands (on the command line and in a
// config file) a check that refuses those, naming the option and the value. Call after every option
// is added.
void add_integer_checks(CLI::App& app);

// Every input-file option given (on the command line or in the config file, even with an empty value)
// must name a regular file (check_input_file: an empty path, a missing file, a device or a fifo is an
// InputError naming the option), and a --max-memory given must not be empty.
void check_input_options(CLI::App& command);

// Applies a TOML config file (apps/config_file.hpp) to a subcommand: each key is an option name without
// the leading dashes ("rtol", "t-end" or "t_end"), at the top level or in a [<subcommand>] section.
// Options given on the command line win over the file. Unknown keys and bad values are InputErrors
// naming --config. path empty and --config not given: no file. Then check_input_options(command).
void apply_config_file(CLI::App& command, const std::string& path);

// "--t-end" for the options field "t_end". A nested options struct's field is flagged by its last
// part: "--lr" for "descent.lr" (the commands give nested options flat flags).
// renames: the fields whose flag differs from that rule ({"save.every_t", "--save-every"}).
std::string flag_for_field(const std::string& field, const std::map<std::string, std::string>& renames = {});

// "a, b, c": the names a help text or an error message lists.
std::string join_names(const std::vector<std::string>& names);

bool stderr_is_terminal();

// An output written while the run goes, so that a run of any length keeps only a bounded number of
// rows in memory: lines go to a temporary file in the target's folder (apps/support/output_file.hpp), renamed
// over the target by commit(), or straight to standard output for "-". An empty path makes it inactive.
// Destroyed without commit() (an exception, a refused run), the temporary is removed: nothing written.
class StreamedOutput {
 public:
  StreamedOutput(const std::string& option, const std::string& path);
  bool active() const { return active_; }
  std::ostream& stream();
  // Written whole (AtomicFile::finish; standard output flushed and checked), the target not yet
  // replaced; commit() then replaces it. Several outputs: finish() each, then commit() each.
  void finish();
  void commit();

 private:
  std::string option_;
  bool active_ = false;
  std::unique_ptr<AtomicFile> file_;  // null for standard output
};

// A line of a --states-out file: first_value (t or the iteration), then the p entries, 17 significant
// digits each. The header is states_header().
void write_state_line(std::ostream& out, double first_value, ConstVectorView theta);
// "t,theta_1,...,theta_p" (first_column "t" or "iter").
std::string states_header(const char* first_column, Eigen::Index p);

}  // namespace gradflow::cli
