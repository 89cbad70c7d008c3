// Bad user input (a file that cannot be read, a malformed value, a dimension that does not fit).
// The message names the option and the value, so a command-line front end can print it as is:
//   --matrix A.csv: row 3 has 4 values, expected 5
#pragma once

#include <stdexcept>
#include <string>

namespace gradflow {

class InputError : public std::runtime_error {
 public:
  InputError(std::string option, std::string value, const std::string& reason)
      : std::runtime_error(option + (value.empty() ? "" : " " + value) + ": " + reason),
        option_(std::move(option)),
        value_(std::move(value)) {}

  const std::string& option() const { return option_; }
  const std::string& value() const { return value_; }

 private:
  std::string option_;
  std::string value_;
};

}  // namespace gradflow
