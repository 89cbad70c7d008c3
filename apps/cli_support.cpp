#include "cli_support.hpp"

#include "problems/input_error.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
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
      throw InputError("--config", path, "section [" + CLI::detail::join(item.parents, ".") + "] is not [" +
                                             command.get_name() + "]");
    }
    std::string name = item.name;
    for (char& c : name)
      if (c == '_') c = '-';
    CLI::Option* option = command.get_option_no_throw("--" + name);
    if (option == nullptr || name == "config" || name == "help") {
      throw InputError("--config", path, "unknown key '" + item.name + "' (keys are the option names of '" +
                                             command.get_name() + "', without the dashes)");
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

void check_output_path(const std::string& option, const std::string& path) {
  std::error_code ec;
  const fs::path target(path);
  if (fs::is_directory(target, ec)) throw InputError(option, path, "is a directory");
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) {
    throw InputError(option, path, "directory " + parent.string() + " does not exist");
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    throw InputError(option, path, "directory " + parent.string() + " is not writable");
  }
}

void write_file_atomically(const std::string& option, const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  const fs::path target(path);
  const fs::path temporary = target.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (out) write(out);
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(temporary, ec);
      throw std::runtime_error(option + " " + path + ": cannot write the file");
    }
  }
  std::error_code ec;
  fs::rename(temporary, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw std::runtime_error(option + " " + path + ": cannot move the finished file into place: " + ec.message());
  }
}

std::string flag_for_field(const std::string& field) {
  std::string flag = "--" + field;
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

}  // namespace gradflow::cli
