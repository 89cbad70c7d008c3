#include <gradflow/apps/config_file.hpp>

#include <gradflow/apps/support/output_file.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <utility>

namespace gradflow::cli {
namespace {

class Parser {
 public:
  Parser(std::string_view text, const std::string& option, const std::string& path)
      : text_(text), option_(option), path_(path) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  std::vector<ConfigEntry> parse() {
    std::vector<ConfigEntry> entries;
    std::map<std::pair<std::string, std::string>, long> seen;
    std::map<std::string, long> sections;
    std::string section;
    while (!at_end()) {
      skip_blank();
      if (at_end()) break;
      const char c = peek();
      if (c == '\n') {
        next_line();
        continue;
      }
      if (c == '#') {
        skip_comment();
        continue;
      }
      if (c == '[') {
        ++pos_;
        skip_blank();
        if (!at_end() && peek() == '[') fail("arrays of tables ([[...]]) are not supported");
        const std::string name = bare_key("a section name");
        skip_blank();
        if (at_end() || peek() != ']') fail("expected ']' after the section name");
        ++pos_;
        if (const auto [at, added] = sections.emplace(name, line_); !added) {
          fail("the section [" + quote_text(name) + "] is given twice (also line " + std::to_string(at->second) + ")");
        }
        end_of_line();
        section = name;
        continue;
      }
      ConfigEntry entry;
      entry.line = line_;
      entry.section = section;
      entry.key = bare_key("a key");
      skip_blank();
      if (at_end() || peek() != '=') fail("expected '=' after the key '" + quote_text(entry.key) + "'");
      ++pos_;
      skip_blank();
      if (!at_end() && peek() == '[') {
        ++pos_;
        entry.is_array = true;
        array(entry.key, entry.values, entry.quoted);
      } else {
        entry.quoted.push_back(!at_end() && (peek() == '"' || peek() == '\''));
        entry.values.push_back(scalar());
      }
      for (const std::string& value : entry.values) {
        // A path or a name holding a NUL would be cut there by every system call (out = "o\u0000.csv" wrote o).
        if (value.find('\0') != std::string::npos) {
          fail("the key '" + quote_text(entry.key) + "': a NUL character (\\u0000) in \"" + quote_text(value) +
               "\"; no path or name can hold one");
        }
      }
      if (const auto [at, added] = seen.emplace(std::pair{section, canonical_key(entry.key)}, entry.line); !added) {
        fail("the key '" + quote_text(entry.key) + "' is given twice (also line " + std::to_string(at->second) + ")");
      }
      end_of_line();
      entries.push_back(std::move(entry));
    }
    return entries;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(option_, path_, "line " + std::to_string(line_) + ": " + why);
  }

  void skip_blank() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r')) ++pos_;
  }
  void skip_comment() {
    while (!at_end() && peek() != '\n') {
      const unsigned char c = static_cast<unsigned char>(peek());
      if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) fail("a control byte in a comment");
      ++pos_;
    }
  }
  void next_line() {
    ++pos_;
    ++line_;
  }
  // Whitespace, an optional comment, then the end of the line or of the file.
  void end_of_line() {
    skip_blank();
    if (!at_end() && peek() == '#') skip_comment();
    if (at_end()) return;
    if (peek() != '\n') fail("unexpected text '" + quote_text(rest_of_line()) + "' after the value");
    next_line();
  }
  std::string_view rest_of_line() const {
    const auto end = text_.find('\n', pos_);
    return text_.substr(pos_, end == std::string_view::npos ? std::string_view::npos : end - pos_);
  }
  static bool bare_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }
  std::string bare_key(const char* what) {
    const std::size_t start = pos_;
    while (!at_end() && (bare_char(peek()) || peek() == '.')) ++pos_;
    if (pos_ == start) {
      fail(std::string("expected ") + what + " (letters, digits, '-' and '_'), found '" + quote_text(rest_of_line()) +
           "'");
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  // Skips blanks, newlines and comments inside an array.
  void skip_array_space() {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '\n') {
        next_line();
      } else if (c == '#') {
        skip_comment();
      } else {
        break;
      }
    }
  }

  void array(const std::string& key, std::vector<std::string>& values, std::vector<bool>& quoted) {
    const long opened = line_;
    while (true) {
      skip_array_space();
      if (at_end()) {
        line_ = opened;
        fail("the array opened here has no closing ']'");
      }
      if (peek() == ']') {
        ++pos_;
        return;
      }
      if (peek() == '[') fail("nested arrays are not supported");
      if (peek() == ',') {
        fail("key '" + quote_text(key) + "': an empty item in the array [" + quote_text(rest_of_line()) +
             " (two commas, or a comma first): every item must be a value");
      }
      quoted.push_back(peek() == '"' || peek() == '\'');
      values.push_back(scalar());
      skip_array_space();
      if (at_end()) continue;  // reported above
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ']') {
        fail("expected ',' or ']' in the array, found '" + quote_text(rest_of_line()) + "'");
      }
    }
  }

  std::string scalar() {
    if (at_end()) fail("a key without a value");
    const char c = peek();
    if (c == '"') return basic_string();
    if (c == '\'') return literal_string();
    if (c == '{') fail("inline tables are not supported");
    const std::size_t start = pos_;
    while (!at_end() && (bare_char(peek()) || peek() == '.' || peek() == '+' || peek() == ':')) ++pos_;
    if (pos_ == start) fail("expected a value, found '" + quote_text(rest_of_line()) + "'");
    return std::string(text_.substr(start, pos_ - start));
  }

  void check_control(unsigned char c) const {
    if ((c < 0x20 && c != '\t') || c == 0x7F) fail("a control byte in a string (write it as an escape)");
  }

  std::string literal_string() {
    if (text_.substr(pos_, 3) == "'''") fail("multi-line strings are not supported");
    ++pos_;
    std::string out;
    while (true) {
      if (at_end() || peek() == '\n') fail("a string without its closing quote");
      const char c = peek();
      ++pos_;
      if (c == '\'') return out;
      check_control(static_cast<unsigned char>(c));
      out += c;
    }
  }

  static void append_utf8(std::string& out, unsigned long code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string basic_string() {
    if (text_.substr(pos_, 3) == "\"\"\"") fail("multi-line strings are not supported");
    ++pos_;
    std::string out;
    while (true) {
      if (at_end() || peek() == '\n') fail("a string without its closing quote");
      const char c = peek();
      ++pos_;
      if (c == '"') return out;
      if (c != '\\') {
        check_control(static_cast<unsigned char>(c));
        out += c;
        continue;
      }
      if (at_end()) fail("a string without its closing quote");
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'b':
          out += '\b';
          break;
        case 't':
          out += '\t';
          break;
        case 'n':
          out += '\n';
          break;
        case 'f':
          out += '\f';
          break;
        case 'r':
          out += '\r';
          break;
        case 'u':
        case 'U': {
          const std::size_t digits = e == 'u' ? 4 : 8;
          if (pos_ + digits > text_.size()) fail("a short \\u escape");
          unsigned long code = 0;
          for (std::size_t i = 0; i < digits; ++i) {
            const char h = text_[pos_ + i];
            const int v = (h >= '0' && h <= '9')   ? h - '0'
                          : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                          : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                   : -1;
            if (v < 0) fail("a \\u escape needs hexadecimal digits");
            code = code * 16 + static_cast<unsigned long>(v);
          }
          pos_ += digits;
          if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) fail("a \\u escape that is not a character");
          append_utf8(out, code);
          break;
        }
        default:
          fail("an unknown escape '\\" + quote_text(std::string_view(&e, 1)) + "' in a string");
      }
    }
  }

  std::string_view text_;
  const std::string& option_;
  const std::string& path_;
  std::size_t pos_ = 0;
  long line_ = 1;
};

}  // namespace

std::vector<ConfigEntry> parse_config(std::string_view text, const std::string& option, const std::string& path) {
  return Parser(text, option, path).parse();
}

std::string read_config_text(const std::string& path, const std::string& option) {
  check_input_file(option, path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(option, path, "no such file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxConfigBytes) {
    throw InputError(option, path, "the file is larger than 64 MiB (a config file holds options, not data)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(option, path, "cannot open the file for reading");
  std::string text;
  char buffer[1 << 16];
  while (in && text.size() <= kMaxConfigBytes) {
    in.read(buffer, sizeof buffer);
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  if (text.size() > kMaxConfigBytes) throw InputError(option, path, "the file is larger than 64 MiB");
  if (in.bad()) throw InputError(option, path, "read error");
  return text;
}

std::vector<ConfigEntry> read_config_file(const std::string& path, const std::string& option) {
  return parse_config(read_config_text(path, option), option, path);
}

std::string canonical_key(const std::string& key) {
  std::string name = key;
  for (char& c : name)
    if (c == '_') c = '-';
  return name;
}

void RepeatedKeys::add(const ConfigEntry& entry, const std::string& option, const std::string& path) {
  const std::string name = canonical_key(entry.key);
  for (const auto& [seen, line] : seen_) {
    if (seen == name) {
      throw InputError(option, path,
                       "line " + std::to_string(entry.line) + ": the key '" + quote_text(entry.key) +
                           "' is given twice (also line " + std::to_string(line) + ")");
    }
  }
  seen_.emplace_back(name, entry.line);
}

namespace {

// What an option's value must be in a config file: a flag takes true or false, a number option a
// number, unquoted; "" when any text goes (names, paths, lists).
std::string expected_type(const CLI::Option& target) {
  if (target.get_expected_max() == 0) return "true or false";
  const std::string type = target.get_type_name();
  if (type.rfind("INT", 0) == 0 || type.rfind("UINT", 0) == 0) return "an integer";
  if (type.rfind("FLOAT", 0) == 0 || type.rfind("NUMBER", 0) == 0) return "a number";
  return "";
}

}  // namespace

void apply_config(CLI::App& command, const std::vector<ConfigEntry>& entries, const std::string& option,
                  const std::string& path) {
  RepeatedKeys repeated;
  for (const ConfigEntry& entry : entries) {
    const std::string where = "line " + std::to_string(entry.line) + ": ";
    if (!entry.section.empty() && entry.section != command.get_name()) {
      throw InputError(option, path,
                       where + "section [" + quote_text(entry.section) + "] is not [" + command.get_name() + "]");
    }
    repeated.add(entry, option, path);
    const std::string name = canonical_key(entry.key);
    CLI::Option* target = name.find('.') == std::string::npos ? command.get_option_no_throw("--" + name) : nullptr;
    if (target == nullptr || name == "config" || name == "help") {
      throw InputError(option, path,
                       where + "unknown key '" + quote_text(entry.key) + "' (keys are the option names of '" +
                           command.get_name() + "', without the dashes)");
    }
    if (const std::string type = expected_type(*target); !type.empty()) {
      for (std::size_t i = 0; i < entry.values.size(); ++i) {
        if (i < entry.quoted.size() && entry.quoted[i]) {
          throw InputError(option, path,
                           where + "key '" + quote_text(entry.key) + "' takes " + type + ", not the string \"" +
                               quote_text(entry.values[i]) + "\" (write it without quotes)");
        }
      }
    }
    if (target->get_expected_max() == 0) {
      // CLI11 reads a flag's 1, -1, 5 or nan as true or false; a config file says which in words.
      for (const std::string& value : entry.values) {
        if (value != "true" && value != "false") {
          throw InputError(option, path,
                           where + "key '" + quote_text(entry.key) + "' takes true or false, not " + quote_text(value));
        }
      }
    }
    if (target->count() > 0) continue;  // the command line wins
    if (entry.values.empty()) throw InputError(option, path, where + "key '" + entry.key + "': an empty array");
    try {
      target->add_result(entry.values);
      target->run_callback();
    } catch (const CLI::Error& e) {
      throw InputError(option, path, where + "key '" + entry.key + "': " + quote_text(e.what(), 200));
    }
  }
}

}  // namespace gradflow::cli
