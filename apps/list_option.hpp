// Strict parsing of option values that the command line and config files give as text: lists
// ("--widths 64,64", "widths = [64, 64]"), integers, seeds and numbers. An empty list item ("1,,2"), a
// value with trailing text ("8x16abc"), a negative or too large seed, and a number out of range are
// InputErrors naming the option, the item and what it must be.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gradflow::cli {

// The items of a list option: every raw value (a command-line argument, or an item of a config
// array) split at commas, each trimmed. An empty item is an error; so is an empty list.
std::vector<std::string> split_list(const std::vector<std::string>& raw, const std::string& option);

// An integer in [min, max] written as digits (an optional sign; "1e3" is accepted when it is exact).
long parse_integer(std::string_view text, const std::string& option, long min, long max, const std::string& what);
// A finite number.
double parse_finite(std::string_view text, const std::string& option, const std::string& what);
// A seed: an integer in [0, 2^64 - 1] written in decimal digits.
std::uint64_t parse_seed(std::string_view text, const std::string& option);

std::vector<long> parse_integer_list(const std::vector<std::string>& raw, const std::string& option, long min, long max,
                                     const std::string& what);
std::vector<double> parse_number_list(const std::vector<std::string>& raw, const std::string& option);

// Makes a list option take its values as text, one per argument or config item (commas are split by
// split_list, not by CLI11, which would drop empty items).
CLI::Option* add_list_option(CLI::App& command, const std::string& name, std::vector<std::string>& raw,
                             const std::string& help);

// A CLI11 check that the value is a seed (see parse_seed); the message names the value.
CLI::Validator seed_validator();

}  // namespace gradflow::cli
