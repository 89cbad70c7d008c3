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

namespace {

// Opens (O_NOFOLLOW: a symbolic link planted as the lock file is refused, never followed and truncated)
// and locks the lock file in the folder dirfd; folder and option name it in errors.
int lock_folder(int dirfd, const std::string& folder, const std::string& option) {
  const int fd = ::openat(dirfd, FolderLock::kFileName, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno == ELOOP) {
    throw InputError(option, folder,
                     std::string(FolderLock::kFileName) + " in the folder is a symbolic link: refused (remove it)");
  }
  if (fd < 0) throw IoError(option + " " + quote_text(folder) + ": cannot open the lock file: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[32] = {0};
    const ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    std::string pid = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd);
    if (error == EWOULDBLOCK) {
      throw InputError(option, folder,
                       "the folder is in use by another gradflow run" +
                           (pid.empty() ? std::string() : " (process " + quote_text(pid, 20) + ")") +
                           "; wait for it to finish or choose another folder");
    }
    throw IoError(option + " " + quote_text(folder) + ": cannot lock " + FolderLock::kFileName + ": " +
                  std::strerror(error));
  }
  // Who holds it, for the message of a second run.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return fd;
}

}  // namespace

FolderLock::FolderLock(const std::string& folder, const std::string& option) {
  const int dirfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) throw IoError(option + " " + quote_text(folder) + ": cannot open the folder: " + std::strerror(errno));
  try {
    fd_ = lock_folder(dirfd, folder, option);
  } catch (...) {
    ::close(dirfd);
    throw;
  }
  ::close(dirfd);
}

FolderLock::FolderLock(const OutputFolder& folder) : fd_(lock_folder(folder.fd(), folder.path(), folder.option())) {}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace gradflow
