#include <gradflow/apps/support/folder_lock.hpp>

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/core/input_error.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace gradflow {

FolderLock::FolderLock(const std::string& folder, const std::string& option) {
  const std::string path = folder + "/" + kFileName;
  // O_NOFOLLOW: a symbolic link planted as the lock file is refused, never followed and truncated.
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0 && errno == ELOOP) {
    throw InputError(option, folder, std::string(kFileName) + " in the folder is a symbolic link: refused (remove it)");
  }
  if (fd_ < 0)
    throw IoError(option + " " + quote_text(folder) + ": cannot open the lock file: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {0};
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    std::string pid = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw InputError(option, folder,
                       "the folder is in use by another gradflow run" +
                           (pid.empty() ? std::string() : " (process " + quote_text(pid, 20) + ")") +
                           "; wait for it to finish or choose another folder");
    }
    throw IoError(option + " " + quote_text(folder) + ": cannot lock " + kFileName + ": " + std::strerror(error));
  }
  // Who holds it, for the message of a second run.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace gradflow
