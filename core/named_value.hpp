/// @file
/// A named value of a result, for the outputs that list a result's fields without knowing its type:
/// the command line's JSON summaries and the Python module's dicts are both made from the same list
/// (FlowResult::summary(), DescentResult::summary(), stats_values()), so that a field is declared once.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace gradflow {

/// null (an empty optional, a value that does not apply), a flag, a count, a seed (64 bits), a number
/// or a text.
using Value = std::variant<std::monostate, bool, long long, unsigned long long, double, std::string>;

/// One field of a result: its name and its value.
struct NamedValue {
  std::string name;  ///< the field's name, e.g. "num_gradient_evals"
  Value value;       ///< the field's value; std::monostate when it does not apply
};

/// The fields of a result, in output order.
using NamedValues = std::vector<NamedValue>;

/// The value as a CSV field: empty for null, 1 or 0 for a flag, a whole number, a number with 17
/// significant digits ("inf" and "-inf" as such), a text per RFC 4180.
std::string csv_text(const Value& value);

/// x as a Value: null when empty, a flag for bool, a long long for other integral types, a double
/// otherwise.
template <class T>
Value optional_value(const std::optional<T>& x) {
  if (!x) return std::monostate{};
  if constexpr (std::is_same_v<T, bool>) {
    return *x;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<long long>(*x);
  } else {
    return static_cast<double>(*x);
  }
}

}  // namespace gradflow
