#include <gradflow/apps/list_option.hpp>

#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>

#include <charconv>
#include <cmath>
#include <limits>

namespace gradflow::cli {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::vector<std::string> split_list(const std::vector<std::string>& raw, const std::string& option) {
  std::vector<std::string> items;
  for (const std::string& value : raw) {
    std::size_t start = 0;
    while (true) {
      const auto comma = value.find(',', start);
      const std::string_view item =
          trim(std::string_view(value).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (item.empty()) {
        throw InputError(option, value, "an empty item in the list (items are separated by single commas)");
      }
      items.emplace_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (items.empty()) throw InputError(option, "", "the list is empty");
  return items;
}

long parse_integer(std::string_view text, const std::string& option, long min, long max, const std::string& what) {
  const std::string_view t = trim(text);
  const std::string range = "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  long value = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (!t.empty() && ec == std::errc() && ptr == t.data() + t.size()) {
    if (value < min || value > max) throw InputError(option, std::string(text), what + " " + range);
    return value;
  }
  if (ec == std::errc::result_out_of_range) throw InputError(option, std::string(text), what + " " + range);
  // 1e3: an integer written in exponent form, when it is exactly one.
  double x = 0.0;
  const auto [dptr, dec] = std::from_chars(t.data(), t.data() + t.size(), x);
  if (!t.empty() && dec == std::errc() && dptr == t.data() + t.size() && std::isfinite(x) && x == std::floor(x)) {
    if (x < static_cast<double>(min) || x > static_cast<double>(max)) {
      throw InputError(option, std::string(text), what + " " + range);
    }
    return static_cast<long>(x);
  }
  throw InputError(option, std::string(text), what + " is not an integer (" + range + ")");
}

double parse_finite(std::string_view text, const std::string& option, const std::string& what) {
  std::string_view t = trim(text);
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  double x = 0.0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
  if (t.empty() || ptr != t.data() + t.size()) {
    throw InputError(option, std::string(text), what + " is not a number");
  }
  if (ec == std::errc::result_out_of_range) {
    throw InputError(option, std::string(text), what + " is out of the range of a double");
  }
  if (!std::isfinite(x)) throw InputError(option, std::string(text), what + " must be finite");
  return x;
}

std::uint64_t parse_seed(std::string_view text, const std::string& option) {
  const std::string_view t = trim(text);
  const char* why = nullptr;
  std::uint64_t value = 0;
  if (t.empty() || t.find_first_not_of("0123456789") != std::string_view::npos) {
    why = "a seed must be an integer in [0, 18446744073709551615] (2^64 - 1), written in digits";
  } else if (t.size() > 1 && t.front() == '0') {
    why = "a leading zero (write the seed without it, as 010 would be read as octal 8)";
  } else {
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
      why = "a seed must be at most 18446744073709551615 (2^64 - 1)";
    }
  }
  if (why) throw InputError(option, std::string(text), why);
  return value;
}

namespace {

// The list as given, for a message: "16,0".
std::string joined(const std::vector<std::string>& raw) {
  std::string text;
  for (const std::string& value : raw) {
    if (!text.empty()) text += ',';
    text += value;
  }
  return text;
}

// Parses one item; an error names the whole list, the item and what it must be.
template <class Parse>
auto parse_item(const std::vector<std::string>& raw, const std::string& option, const std::string& item, Parse parse) {
  try {
    return parse();
  } catch (const InputError& e) {
    const std::string what = e.what();
    const std::string reason = what.substr(what.find(": ") + 2);
    throw InputError(option, joined(raw), "the item '" + quote_text(item) + "': " + reason);
  }
}

}  // namespace

std::vector<long> parse_integer_list(const std::vector<std::string>& raw, const std::string& option, long min, long max,
                                     const std::string& what) {
  std::vector<long> values;
  for (const std::string& item : split_list(raw, option)) {
    values.push_back(parse_item(raw, option, item, [&] { return parse_integer(item, "", min, max, what); }));
  }
  return values;
}

std::vector<double> parse_number_list(const std::vector<std::string>& raw, const std::string& option) {
  std::vector<double> values;
  for (const std::string& item : split_list(raw, option)) {
    values.push_back(parse_item(raw, option, item, [&] { return parse_finite(item, "", "an item"); }));
  }
  return values;
}

CLI::Option* add_list_option(CLI::App& command, const std::string& name, std::vector<std::string>& raw,
                             const std::string& help) {
  return command.add_option(name, raw, help)->allow_extra_args(false);
}

CLI::Validator seed_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          parse_seed(value, "");
        } catch (const InputError& e) {
          return "'" + quote_text(value) + "': " + std::string(e.what()).substr(std::string(e.what()).rfind(": ") + 2);
        }
        return {};
      },
      "SEED");
}

}  // namespace gradflow::cli
