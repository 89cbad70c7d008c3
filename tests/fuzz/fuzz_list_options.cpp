// Fuzz target: the parsers of option values (apps/list_option.hpp): lists split at commas, integers,
// numbers, seeds, memory sizes, data set names; and the text helpers that quote user text in messages
// and in CSV files (core/text.hpp). The input's lines are the values. Properties: a parsed list has no
// empty item, a quoted message has no control byte, a CSV field splits back to itself.
#include <gradflow/apps/list_option.hpp>
#include <gradflow/apps/support/memory_limit.hpp>
#include <gradflow/core/input_error.hpp>
#include <gradflow/core/text.hpp>
#include <gradflow/experiments/sweep_spec.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check_quoted(std::string_view text) {
  const std::string quoted = gradflow::quote_text(text);
  for (const unsigned char c : quoted)
    if (c < 0x20 || c == 0x7F) std::abort();
  if (quoted.size() > 4 * 60 + 40) std::abort();
}

template <class F>
void expect_input_error(F f) {
  try {
    f();
  } catch (const gradflow::InputError& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> raw;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    raw.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  expect_input_error([&] {
    for (const std::string& item : gradflow::cli::split_list(raw, "--widths"))
      if (item.empty()) std::abort();
  });
  expect_input_error([&] { (void)gradflow::cli::parse_integer_list(raw, "--widths", 1, 100000, "a width"); });
  expect_input_error([&] { (void)gradflow::cli::parse_number_list(raw, "--times"); });
  for (const std::string& value : raw) {
    expect_input_error([&] { (void)gradflow::cli::parse_seed(value, "--seed"); });
    expect_input_error([&] {
      const long v = gradflow::cli::parse_integer(value, "--dim", -5, 100000, "the dimension");
      if (v < -5 || v > 100000) std::abort();
    });
    (void)gradflow::parse_memory_size(value);
    if (const auto dataset = gradflow::DatasetSpec::from_string(value)) {
      if (gradflow::DatasetSpec::from_string(dataset->name()) != dataset) std::abort();
    }
    check_quoted(value);
    const auto fields = gradflow::split_csv_line(gradflow::csv_field(value) + "," + gradflow::csv_field(value));
    if (value.find_first_of("\r\n") == std::string::npos &&
        (!fields || fields->size() != 2 || (*fields)[0] != value || (*fields)[1] != value)) {
      std::abort();
    }
    (void)gradflow::split_csv_line(value);
  }
  check_quoted(text);
  return 0;
}
