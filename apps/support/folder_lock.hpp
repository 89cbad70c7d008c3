// An exclusive lock on a folder for the duration of a run (a sweep's output folder): flock() on a lock
// file in it. A second run into the same folder does not wait: it fails at once, saying the folder is
// in use. The lock goes with the process (the kernel drops it when the file is closed, at exit or on
// a kill), so a killed run never leaves the folder locked.
#pragma once

#include <string>

namespace gradflow {

class OutputFolder;

class FolderLock {
 public:
  static constexpr const char* kFileName = "gradflow.lock";

  // Locks <folder>/gradflow.lock (created if missing; the folder must exist). Throws InputError naming
  // the option and the folder when another process holds it, IoError when the file cannot be opened.
  FolderLock(const std::string& folder, const std::string& option);
  // The same in an open folder (apps/support/output_file.hpp), reached from its descriptor; the error names
  // the folder's option.
  explicit FolderLock(const OutputFolder& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace gradflow
