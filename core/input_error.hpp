/// @file
/// Bad user input (a file that cannot be read, a malformed value, a dimension that does not fit).
/// The message names the option and the value, so a command-line front end can print it as is:
///   --matrix A.csv: row 3 has 4 values, expected 5
/// The value is quoted as quote_text() does (at most 60 bytes, control bytes and invalid UTF-8
/// escaped), so that the message stays one line whatever the user typed.
#pragma once

#include <gradflow/core/text.hpp>

#include <stdexcept>
#include <string>

namespace gradflow {

/// Exception for bad user input; what() is the option, the value quoted by quote_text() (left out when
/// empty), ": " and the reason.
class InputError : public std::runtime_error {
 public:
  /// option: the option or source named, e.g. "--matrix"; value: what the user gave (may be empty);
  /// reason: what is wrong with it.
  InputError(std::string option, std::string value, const std::string& reason)
      : std::runtime_error(compose(option, value, reason)), option_(std::move(option)), value_(std::move(value)) {}

  const std::string& option() const { return option_; }  ///< the option as given to the constructor
  const std::string& value() const { return value_; }    ///< the value as given, unquoted

 private:
  static std::string compose(const std::string& option, const std::string& value, const std::string& reason) {
    std::string message = option;
    if (!value.empty()) {
      message += ' ';
      message += quote_text(value);
    }
    message += ": ";
    message += reason;
    return message;
  }

  std::string option_;
  std::string value_;
};

}  // namespace gradflow
