// Output files that are written whole or not at all, and the checks made on an output path before a
// run starts. Shared by the command line and the experiments, which write tables and curves.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

namespace gradflow {

// Checks that an output file can be created: its directory exists and it is not a directory itself.
// Throws InputError naming the option.
void check_output_path(const std::string& option, const std::string& path);

// Writes a file whole or not at all: the content goes to a temporary file in the same directory,
// which is renamed over the target only when it was written completely. Throws std::runtime_error
// naming the option on failure (and removes the temporary file).
void write_file_atomically(const std::string& option, const std::string& path,
                           const std::function<void(std::ostream&)>& write);

}  // namespace gradflow
