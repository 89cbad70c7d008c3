// The TOML files of --config (every subcommand) and of sweeps: a linear-time reader of the part of
// TOML that option files use (CLI11's own reader takes quadratic time on long arrays: 120k items
// took 2.8 s, 1M would take minutes).
//
// Accepted: comments (#), blank lines, [section] headers, and key = value lines, where a key is bare
// (letters, digits, '-', '_') and a value is a basic "string" (with TOML's escapes), a 'literal string',
// a bare token (a number, true, false, inf, nan: passed on as text, the option parses it), or an array
// [v, v, ...] of those, which may span lines and end with a comma. A UTF-8 byte-order mark at the start
// is skipped. Anything else (a line without '=', a nested array, an inline table, a multi-line string,
// a control byte, a repeated key or section) is an InputError naming the option, the file and the line.
// A key is repeated when its two spellings differ only in '-' and '_' (t-end, t_end), and, where the
// file is applied to a command, when it is given at the top level and in the command's own section.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace gradflow::cli {

struct ConfigEntry {
  std::string section;  // empty at the top level
  std::string key;      // as written
  std::vector<std::string> values;
  std::vector<bool> quoted;  // per value: written as a "string" or 'string' (not a number or a boolean)
  bool is_array = false;     // [..] (a one-item array is not a scalar: seeds = [7] is the seed 7)
  long line = 0;
};

// The largest config file read (a 1M-item array takes about 10 MB).
inline constexpr std::size_t kMaxConfigBytes = std::size_t{64} << 20;

std::vector<ConfigEntry> parse_config(std::string_view text, const std::string& option, const std::string& path);
// The text of a config file: a regular file of at most kMaxConfigBytes.
std::string read_config_text(const std::string& path, const std::string& option);
// Reads the file and parses it.
std::vector<ConfigEntry> read_config_file(const std::string& path, const std::string& option);

// Applies entries to a subcommand: each key is an option name without the leading dashes ("rtol",
// "t-end" or "t_end"), at the top level or in a [<subcommand>] section. Options given on the command
// line win. Unknown keys and bad values are InputErrors naming the option and the file.
// The key with '_' written '-': the one name of "t_end" and "t-end".
std::string canonical_key(const std::string& key);
// Remembers each key's line; a key seen before (in any section: the callers accept only the top level
// and their own section) is an InputError "line N: the key 'k' is given twice (also line M)".
class RepeatedKeys {
 public:
  void add(const ConfigEntry& entry, const std::string& option, const std::string& path);

 private:
  std::vector<std::pair<std::string, long>> seen_;
};

void apply_config(CLI::App& command, const std::vector<ConfigEntry>& entries, const std::string& option,
                  const std::string& path);

}  // namespace gradflow::cli
