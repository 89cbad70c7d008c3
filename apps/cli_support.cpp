#include <gradflow/apps/cli_support.hpp>

#include <gradflow/core/input_error.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <ostream>
#include <system_error>

namespace gradflow::cli {

namespace fs = std::filesystem;

void apply_config_file(CLI::App& command, const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw InputError("--config", path, fs::exists(path, ec) ? "is not a regular file" : "no such file");
  }
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    throw InputError("--config", path, std::string("cannot read the file: ") + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    // Section markers ("++" opens, "--" closes) carry no value.
    if (item.name == "++" || item.name == "--") continue;
    if (!(item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == command.get_name()))) {
      throw InputError("--config", path,
                       "section [" + CLI::detail::join(item.parents, ".") + "] is not [" + command.get_name() + "]");
    }
    std::string name = item.name;
    for (char& c : name)
      if (c == '_') c = '-';
    CLI::Option* option = command.get_option_no_throw("--" + name);
    if (option == nullptr || name == "config" || name == "help") {
      throw InputError("--config", path,
                       "unknown key '" + item.name + "' (keys are the option names of '" + command.get_name() +
                           "', without the dashes)");
    }
    if (option->count() > 0) continue;  // the command line wins
    try {
      option->add_result(item.inputs);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw InputError("--config", path, "key '" + item.name + "': " + e.what());
    }
  }
}

std::string flag_for_field(const std::string& field) {
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

void check_states_memory(const std::string& option, const std::string& path, double rows, double p,
                         const std::string& how_to_reduce) {
  const double bytes = rows * p * static_cast<double>(sizeof(double));
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return;  // unknown: nothing to compare with
  const double limit = 0.75 * static_cast<double>(pages) * static_cast<double>(page_size);
  if (bytes <= limit) return;
  char text[512];
  std::snprintf(
      text, sizeof text,
      "would keep up to %.3g rows x %.0f parameters = %.3g GB of states in memory, above the limit of %.3g GB "
      "(75%% of physical memory); %s",
      rows, p, bytes / 1e9, limit / 1e9, how_to_reduce.c_str());
  throw InputError(option, path, text);
}

void write_states(const std::string& option, const std::string& path, const char* first_column,
                  const std::vector<double>& first_values, const Matrix& states) {
  write_file_atomically(option, path, [&](std::ostream& out) {
    out << first_column;
    for (Eigen::Index i = 0; i < states.rows(); ++i) out << ",theta_" << i + 1;
    out << "\n";
    char number[32];
    for (Eigen::Index j = 0; j < states.cols(); ++j) {
      std::snprintf(number, sizeof number, "%.17g", first_values[static_cast<std::size_t>(j)]);
      out << number;
      for (Eigen::Index i = 0; i < states.rows(); ++i) {
        std::snprintf(number, sizeof number, ",%.17g", states(i, j));
        out << number;
      }
      out << "\n";
    }
  });
}

}  // namespace gradflow::cli
