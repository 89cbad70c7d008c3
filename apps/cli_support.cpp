#include <gradflow/apps/cli_support.hpp>

#include <gradflow/apps/config_file.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <string_view>
#include <system_error>

namespace gradflow::cli {

namespace fs = std::filesystem;

void check_input_options(CLI::App& command) {
  const CLI::Option* memory = command.get_option_no_throw("--max-memory");
  if (memory != nullptr && memory->count() > 0 && (memory->results().empty() || memory->results().back().empty())) {
    throw InputError("--max-memory", "", "an empty size (give a size such as 8G or 512M, or leave the option out)");
  }
  for (const char* name : kInputFileOptions) {
    const CLI::Option* option = command.get_option_no_throw(name);
    if (option == nullptr || option->count() == 0) continue;
    check_input_file(name, option->results().empty() ? std::string() : option->results().back());
  }
}

namespace {

bool names_a_file(std::string_view option) {
  for (const char* name : kInputFileOptions)
    if (option == name) return true;
  for (const char* name : kOutputFileOptions)
    if (option == name) return true;
  return false;
}

// The words of the later checks, where there is one (check_input_options, the outputs' checks).
[[noreturn]] void refuse_empty_value(std::string_view option) {
  if (option == "--max-memory") {
    throw InputError("--max-memory", "", "an empty size (give a size such as 8G or 512M, or leave the option out)");
  }
  throw InputError(
      std::string(option), "",
      names_a_file(option) ? "an empty path (give a file name)" : "an empty value (give one, or leave the option out)");
}

// "--name" or "-x": an argument that names an option (a negative number such as -1 or -.5 does not).
bool looks_like_option(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  if (arg[1] == '-') return arg.size() > 2;
  return std::isalpha(static_cast<unsigned char>(arg[1])) != 0;
}

}  // namespace

void check_empty_values(CLI::App& app, int argc, const char* const* argv) {
  CLI::App* command = &app;  // options are looked up in the subcommand once it is named
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return;
    if (command == &app && !looks_like_option(arg)) {
      for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_name() == arg) command = sub;
      }
      continue;
    }
    if (arg.size() > 2 && arg.substr(0, 2) == "--") {
      const std::size_t equals = arg.find('=');
      if (equals != std::string_view::npos && equals + 1 == arg.size()) refuse_empty_value(arg.substr(0, equals));
    }
    if (!arg.empty()) continue;
    // An empty argument: the value of the nearest option before it, when the arguments between are its
    // values too (an option of several values); otherwise a stray argument, which CLI11 refuses.
    for (int j = i - 1; j >= 1; --j) {
      const std::string_view before = argv[j];
      if (!looks_like_option(before)) continue;
      if (before.find('=') != std::string_view::npos) break;  // its value was given after the '='
      const CLI::Option* option = command->get_option_no_throw(std::string(before));
      if (option == nullptr && command != &app) option = app.get_option_no_throw(std::string(before));
      if (option != nullptr && option->get_items_expected_max() >= i - j) refuse_empty_value(before);
      break;
    }
  }
}

namespace {

// The words of an integer that CLI11 would misread ("" when it reads it as written).
std::string integer_problem(const std::string& value, bool is_unsigned) {
  std::string_view digits = value;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return {};  // CLI11 says
  if (negative && is_unsigned && digits.find_first_not_of('0') != std::string_view::npos) return "must be >= 0";
  if (digits.size() > 1 && digits.front() == '0') return "a leading zero (write the number without it)";
  errno = 0;
  if (is_unsigned) {
    static_cast<void>(std::strtoull(std::string(digits).c_str(), nullptr, 10));
    if (errno == ERANGE) return "out of range (at most 18446744073709551615, 2^64 - 1)";
  } else {
    static_cast<void>(std::strtoll(value.c_str(), nullptr, 10));
    if (errno == ERANGE)
      return negative ? "out of range (at least -9223372036854775808, -2^63)"
                      : "out of range (at most 9223372036854775807, 2^63 - 1)";
  }
  return {};
}

}  // namespace

void add_integer_checks(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();
    if (type != "INT" && type != "UINT") continue;
    const bool is_unsigned = type == "UINT";
    option->check(CLI::Validator(
        [is_unsigned](std::string& value) -> std::string {
          const std::string problem = integer_problem(value, is_unsigned);
          return problem.empty() ? problem : "'" + quote_text(value) + "': " + problem;
        },
        ""));
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) add_integer_checks(*sub);
}

void apply_config_file(CLI::App& command, const std::string& path) {
  const CLI::Option* config = command.get_option_no_throw("--config");
  if ((config != nullptr && config->count() > 0) || !path.empty()) check_input_file("--config", path);
  if (!path.empty()) apply_config(command, read_config_file(path, "--config"), "--config", path);
  check_input_options(command);
}

namespace {
std::atomic<const char*> g_activity{"starting"};
}  // namespace

void set_activity(const char* what) { g_activity.store(what); }
const char* activity() { return g_activity.load(); }

void add_memory_option(CLI::App& command, std::string& max_memory) {
  command.add_option("--max-memory", max_memory,
                     "Refuse a run whose estimated memory exceeds this, e.g. 8G, 512M (K, M, G, T: powers of 1024; "
                     "default 75% of physical memory)");
}

void apply_memory_option(const std::string& max_memory) {
  if (max_memory.empty()) return;
  const auto bytes = parse_memory_size(max_memory);
  if (!bytes)
    throw InputError("--max-memory", max_memory, "must be a size such as 8G, 512M, 64K or a number of bytes (> 0)");
  set_memory_limit({*bytes, "--max-memory " + quote_text(max_memory)});
}

std::string flag_for_field(const std::string& field, const std::map<std::string, std::string>& renames) {
  if (const auto found = renames.find(field); found != renames.end()) return found->second;
  std::string flag = "--" + field.substr(field.rfind('.') + 1);
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

StreamedOutput::StreamedOutput(const std::string& option, const std::string& path)
    : option_(option), active_(!path.empty()) {
  if (active_ && path != kStandardOutput) file_ = std::make_unique<AtomicFile>(option, path);
}

std::ostream& StreamedOutput::stream() { return file_ ? file_->stream() : std::cout; }

void StreamedOutput::finish() {
  if (file_) {
    file_->finish();
  } else if (active_) {
    std::cout.flush();
    if (!std::cout) throw IoError(option_ + " -: cannot write to standard output");
  }
}

void StreamedOutput::commit() {
  finish();
  if (file_) file_->commit();
}

void write_state_line(std::ostream& out, double first_value, ConstVectorView theta) {
  char number[32];
  std::snprintf(number, sizeof number, "%.17g", first_value);
  out << number;
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    std::snprintf(number, sizeof number, ",%.17g", theta[i]);
    out << number;
  }
  out << "\n";
}

std::string states_header(const char* first_column, Eigen::Index p) {
  std::string header = first_column;
  for (Eigen::Index i = 0; i < p; ++i) header += ",theta_" + std::to_string(i + 1);
  return header + "\n";
}

}  // namespace gradflow::cli
