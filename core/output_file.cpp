#include <gradflow/core/output_file.hpp>

#include <gradflow/core/input_error.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace gradflow {

namespace fs = std::filesystem;

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

}  // namespace gradflow
