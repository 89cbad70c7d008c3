// Small text helpers shared by the library and the command line: numbers in messages and reports,
// and the tables that map an enumeration to its names.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gradflow {

// x with 17 significant digits (printf's %.17g): enough to give back the same double, for messages
// that name an option's value and for files other programs read.
std::string full_precision(double x);

// x through one printf conversion, e.g. format_number("%.6g", x).
std::string format_number(const char* fmt, double x);

// The names of an enumeration's values, as the command line and the output files spell them.
template <class Enum, std::size_t N>
class NameTable {
 public:
  constexpr explicit NameTable(std::array<std::pair<Enum, std::string_view>, N> entries) : entries_(entries) {}

  // The value's name, or "unknown" for a value not in the table.
  constexpr std::string_view name(Enum value) const {
    for (const auto& [v, text] : entries_)
      if (v == value) return text;
    return "unknown";
  }

  constexpr std::optional<Enum> value(std::string_view name) const {
    for (const auto& [v, text] : entries_)
      if (text == name) return v;
    return std::nullopt;
  }

  // Every name, in the table's order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.emplace_back(entry.second);
    return out;
  }

 private:
  std::array<std::pair<Enum, std::string_view>, N> entries_;
};

}  // namespace gradflow
