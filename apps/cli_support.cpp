#include <gradflow/apps/cli_support.hpp>

#include <gradflow/apps/config_file.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <ostream>
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

StreamedOutput::StreamedOutput(const std::string& option, const std::string& path) : active_(!path.empty()) {
  if (active_ && path != kStandardOutput) file_ = std::make_unique<AtomicFile>(option, path);
}

std::ostream& StreamedOutput::stream() { return file_ ? file_->stream() : std::cout; }

void StreamedOutput::commit() {
  if (file_) {
    file_->commit();
  } else if (active_) {
    std::cout.flush();
  }
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
