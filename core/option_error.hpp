/// @file
/// An option that failed validation, named the way the library's options structs and the command line
/// name it: "rtol = -1: must be a finite number > 0". Every options struct's validate() returns one.
#pragma once

#include <string>

namespace gradflow {

/// A validation failure of one option: which member, its value, and the constraint it breaks.
struct OptionError {
  std::string field;       ///< the options member, e.g. "t_end"
  std::string value;       ///< the offending value as text
  std::string constraint;  ///< what it must satisfy
  /// The message as `field = value: constraint`, e.g. "rtol = -1: must be a finite number > 0".
  std::string message() const { return field + " = " + value + ": " + constraint; }
};

}  // namespace gradflow
