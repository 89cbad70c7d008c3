#include <gradflow/core/text.hpp>

#include <cstdio>
#include <string_view>

namespace gradflow {

std::string full_precision(double x) { return format_number("%.17g", x); }

std::string format_number(const char* fmt, double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, fmt, x);
  return buffer;
}

namespace {

// The length of the valid UTF-8 sequence at the start of s, or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  std::size_t n = 0;
  unsigned long code = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    code = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    code = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    code = c & 0x07u;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xC0u) != 0x80u) return 0;
    code = (code << 6) | (byte(i) & 0x3Fu);
  }
  if ((n == 3 && code < 0x800) || (n == 4 && code < 0x10000) || code > 0x10FFFF) return 0;
  if (code >= 0xD800 && code <= 0xDFFF) return 0;
  return n;
}

// Appends s with its control bytes (C0, DEL and the C1 controls U+0080 to U+009F, which terminals
// obey too), invalid UTF-8 and, when backslashes is true, backslashes escaped.
void append_escaped(std::string& out, std::string_view s, bool backslashes = true) {
  const auto hex = [&out](unsigned char c) {
    char text[8];
    std::snprintf(text, sizeof text, "\\x%02x", c);
    out += text;
  };
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\\') {
        out += backslashes ? "\\\\" : "\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7F) {
        hex(c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(s.substr(i));
    if (n == 0) {
      hex(c);
      ++i;
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
      out += "\\u00";  // a C1 control, U+0080 to U+009F (0xC2 0x80 to 0xC2 0x9F)
      char text[4];
      std::snprintf(text, sizeof text, "%02x", static_cast<unsigned char>(s[i + 1]));
      out += text;
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
}

// The largest cut <= at that does not split a UTF-8 sequence (a cut inside one would only escape it).
std::size_t cut_before(std::string_view s, std::size_t at) {
  while (at > 0 && at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0u) == 0x80u) --at;
  return at;
}

}  // namespace

std::string quote_text(std::string_view text, std::size_t max_bytes) {
  std::string out;
  if (text.size() <= max_bytes) {
    append_escaped(out, text);
    return out;
  }
  const std::size_t head = cut_before(text, max_bytes / 2);
  std::size_t tail_start = text.size() - (max_bytes - max_bytes / 2);
  while (tail_start < text.size() && (static_cast<unsigned char>(text[tail_start]) & 0xC0u) == 0x80u) ++tail_start;
  append_escaped(out, text.substr(0, head));
  out += "[..." + std::to_string(text.size()) + " bytes...]";
  append_escaped(out, text.substr(tail_start));
  return out;
}

std::string terminal_text(std::string_view text) {
  std::string out;
  append_escaped(out, text, /*backslashes=*/false);
  return out;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::optional<std::vector<std::string>> split_csv_line(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return std::nullopt;  // an unclosed quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      if (i < line.size() && line[i] != ',') return std::nullopt;  // text after the closing quote
    } else {
      const std::size_t comma = line.find(',', i);
      const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
      field.assign(line.substr(i, end - i));
      if (field.find('"') != std::string::npos) return std::nullopt;  // a quote inside an unquoted field
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
    if (i == line.size()) {
      fields.emplace_back();  // a trailing comma: an empty last field
      break;
    }
  }
  return fields;
}

}  // namespace gradflow
