// Fuzz target: the TOML reader of --config files (apps/config_file.hpp), then applying the entries to
// a command with the kinds of options the subcommands have (text, numbers, a seed, a list, a flag),
// as a config file does. Bad input must be an InputError with a
// one-line message; anything else (a crash, another exception, a hang) is a bug.
#include <gradflow/apps/config_file.hpp>
#include <gradflow/apps/list_option.hpp>
#include <gradflow/core/input_error.hpp>

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto entries = gradflow::cli::parse_config(text, "--config", "run.toml");
    for (const auto& entry : entries) {
      if (entry.line < 1 || entry.key.empty()) std::abort();
      if (!entry.is_array && entry.values.size() != 1) std::abort();
    }
    CLI::App app("fuzz");
    CLI::App* command = app.add_subcommand("flow", "stand-in");
    std::string problem, out;
    double t_end = 1.0;
    long max_steps = 1;
    std::uint64_t seed = 0;
    bool quiet = false;
    std::vector<std::string> times;
    command->add_option("--problem", problem);
    command->add_option("--out", out);
    command->add_option("--t-end", t_end);
    command->add_option("--max-steps", max_steps);
    command->add_option("--seed", seed)->check(gradflow::cli::seed_validator());
    command->add_flag("--quiet", quiet);
    gradflow::cli::add_list_option(*command, "--times", times, "list");
    gradflow::cli::apply_config(*command, entries, "--config", "run.toml");
    if (!times.empty()) (void)gradflow::cli::parse_number_list(times, "--times");
  } catch (const gradflow::InputError& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos) std::abort();
  }
  return 0;
}
