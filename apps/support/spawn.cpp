#include <gradflow/apps/support/spawn.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace gradflow {
namespace {

// posix_spawn_file_actions_t with its destroy on every path.
class FileActions {
 public:
  FileActions() { ok_ = posix_spawn_file_actions_init(&actions_) == 0; }
  ~FileActions() {
    if (ok_) posix_spawn_file_actions_destroy(&actions_);
  }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  bool ok() const { return ok_; }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
  bool ok_ = false;
};

}  // namespace

SpawnResult run_program(const std::vector<std::string>& argv, const SpawnOptions& options) {
  SpawnResult result;
  if (argv.empty() || argv[0].empty()) {
    result.error = "no program given";
    return result;
  }
  FileActions actions;
  if (!actions.ok()) {
    result.error = "posix_spawn_file_actions_init failed";
    return result;
  }
  // The working directory first, so that relative file names below are taken from it.
  int rc = 0;
  if (options.working_directory_fd >= 0) {
    rc |= posix_spawn_file_actions_addfchdir_np(actions.get(), options.working_directory_fd);
  } else if (!options.working_directory.empty()) {
    rc |= posix_spawn_file_actions_addchdir_np(actions.get(), options.working_directory.c_str());
  }
  const auto redirect = [&](int fd, const std::string& file, int flags) {
    rc |= posix_spawn_file_actions_addopen(actions.get(), fd, file.empty() ? "/dev/null" : file.c_str(), flags, 0644);
  };
  if (options.stdin_fd >= 0) {
    rc |= posix_spawn_file_actions_adddup2(actions.get(), options.stdin_fd, STDIN_FILENO);
  } else {
    redirect(STDIN_FILENO, options.stdin_file, O_RDONLY);
  }
  if (!options.inherit_stdout) redirect(STDOUT_FILENO, options.stdout_file, O_WRONLY | O_CREAT | O_TRUNC);
  if (options.stderr_fd >= 0) {
    rc |= posix_spawn_file_actions_adddup2(actions.get(), options.stderr_fd, STDERR_FILENO);
  } else if (!options.inherit_stderr) {
    redirect(STDERR_FILENO, options.stderr_file, O_WRONLY | O_CREAT | O_TRUNC);
  }
  if (rc != 0) {
    result.error = "cannot prepare the program's files";
    return result;
  }
  // SIGPIPE and SIGXFSZ at their defaults in the program, whatever this process does with them.
  posix_spawnattr_t attributes;
  if (posix_spawnattr_init(&attributes) != 0) {
    result.error = "posix_spawnattr_init failed";
    return result;
  }
  struct AttributesGuard {
    posix_spawnattr_t* attributes;
    ~AttributesGuard() { posix_spawnattr_destroy(attributes); }
  } attributes_guard{&attributes};
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  if (posix_spawnattr_setsigdefault(&attributes, &defaults) != 0 ||
      posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF) != 0) {
    result.error = "cannot prepare the program's signals";
    return result;
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, args[0], actions.get(), &attributes, args.data(), environ);
  if (error != 0) {
    result.error = std::string("cannot start ") + argv[0] + ": " + std::strerror(error);
    return result;
  }
  result.started = true;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      result.error = std::string("waitpid failed: ") + std::strerror(errno);
      return result;
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  // posix_spawnp reports a failed exec (or a failed file action) as exit status 127.
  if (result.exit_code == 127) result.error = std::string("cannot start ") + argv[0] + " (exit status 127)";
  return result;
}

std::optional<std::string> find_program(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const auto executable = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (executable(name)) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  const std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (executable(candidate)) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return std::nullopt;
}

}  // namespace gradflow
