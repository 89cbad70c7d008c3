/// @file
/// Small text helpers shared by the library and the command line: numbers in messages and reports,
/// and the tables that map an enumeration to its names.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gradflow {

/// x with 17 significant digits (printf's %.17g): enough to give back the same double, for messages
/// that name an option's value and for files other programs read.
std::string full_precision(double x);

/// x through one printf conversion, e.g. format_number("%.6g", x).
std::string format_number(const char* fmt, double x);

/// User text as an error message may quote it: control bytes (C0, DEL, C1), backslashes and bytes that are not valid
/// UTF-8 are escaped (`\x00`, `\n`, `\\`), and text longer than max_bytes keeps its first and last bytes
/// around "[...N bytes...]", so that a 2 MB field or a binary file gives a one-line message.
std::string quote_text(std::string_view text, std::size_t max_bytes = 60);

/// A message as it may reach a terminal: every control byte (C0 and DEL), C1 control (U+0080 to U+009F)
/// and byte that is not valid UTF-8 escaped as quote_text() does, backslashes kept as they are (so that
/// applying it twice, or to a message that quotes user text already, changes nothing more). The command
/// line passes every error message through it.
std::string terminal_text(std::string_view text);

/// A CSV field per RFC 4180: as is, or in double quotes (with quotes doubled) when it holds a comma, a
/// double quote, a carriage return or a line feed.
std::string csv_field(std::string_view text);

/// The fields of one CSV line per RFC 4180 (quoted fields may hold commas and doubled quotes; the line
/// holds no line break), or nothing when a quote is not closed or text follows a closing quote.
std::optional<std::vector<std::string>> split_csv_line(std::string_view line);

/// The names of an enumeration's values, as the command line and the output files spell them.
template <class Enum, std::size_t N>
class NameTable {
 public:
  /// The (value, name) pairs, in the order names() lists them.
  constexpr explicit NameTable(std::array<std::pair<Enum, std::string_view>, N> entries) : entries_(entries) {}

  /// The value's name, or "unknown" for a value not in the table.
  constexpr std::string_view name(Enum value) const {
    for (const auto& [v, text] : entries_)
      if (v == value) return text;
    return "unknown";
  }

  /// The value of the first entry named name (exact match), or empty when no entry has that name.
  constexpr std::optional<Enum> value(std::string_view name) const {
    for (const auto& [v, text] : entries_)
      if (text == name) return v;
    return std::nullopt;
  }

  /// Every name, in the table's order, once per table type (for the x_names() functions, whose vector
  /// lives as long as the program).
  const std::vector<std::string>& cached_names() const {
    static const std::vector<std::string> cached = names();
    return cached;
  }

  /// Every name, in the table's order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.emplace_back(entry.second);
    return out;
  }

 private:
  std::array<std::pair<Enum, std::string_view>, N> entries_;
};

}  // namespace gradflow
