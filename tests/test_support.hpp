// Helpers shared by the tests: seeded random matrices, relative errors, and running programs (the
// gradflow command line) without a shell: an argument vector through apps/support/spawn.hpp. No test calls
// system() or popen() (tests/test_safety.cpp greps the tree for them).
#pragma once

#include <gradflow/apps/support/spawn.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/core/random.hpp>

#include <Eigen/QR>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace gradflow::test {

inline double relative_error(const Vector& x, const Vector& reference) {
  return (x - reference).norm() / reference.norm();
}

// Q diag(eigenvalues) Q^T with a seeded random orthogonal Q.
inline Matrix spd_matrix(const Vector& eigenvalues, std::uint64_t seed) {
  Random random(seed);
  const Eigen::HouseholderQR<Matrix> qr(random.normal_matrix(eigenvalues.size(), eigenvalues.size()));
  const Matrix q = qr.householderQ();
  Matrix a = q * eigenvalues.asDiagonal() * q.transpose();
  return 0.5 * (a + a.transpose());
}

// Central-difference gradient of the loss, for checking analytic gradients.
inline Vector numerical_gradient(const Objective& f, const Vector& theta, double h = 1e-6) {
  Vector g(theta.size());
  Vector x = theta;
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const double step = h * (1.0 + std::abs(theta[i]));
    x[i] = theta[i] + step;
    const double up = f.loss(x);
    x[i] = theta[i] - step;
    const double down = f.loss(x);
    x[i] = theta[i];
    g[i] = (up - down) / (2.0 * step);
  }
  return g;
}

struct ProgramRun {
  int exit_code = -1;  // -1 when the program was killed by a signal or could not be started
  int signal = 0;
  std::string out;
  std::string err;
};

// The number printed right after label in text (NaN when the label is missing).
inline double number_after(const std::string& text, const std::string& label) {
  const std::size_t at = text.find(label);
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return std::strtod(text.c_str() + at + label.size(), nullptr);
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs argv in the folder cwd (empty: here), capturing standard output and error through two files in
// scratch (removed afterwards); standard input is stdin_file (empty: /dev/null).
inline ProgramRun run_capture(const std::vector<std::string>& argv, const std::string& cwd,
                              const std::filesystem::path& scratch, const std::string& stdin_file = "") {
  SpawnOptions options;
  options.working_directory = cwd;
  options.stdin_file = stdin_file;
  const std::string tag = std::to_string(::getpid());  // ctest runs test cases in parallel processes
  const std::filesystem::path out = scratch / (".stdout." + tag + ".txt");
  const std::filesystem::path err = scratch / (".stderr." + tag + ".txt");
  options.stdout_file = out.string();
  options.stderr_file = err.string();
  const SpawnResult result = run_program(argv, options);
  ProgramRun run;
  run.exit_code = result.started && result.signal == 0 ? result.exit_code : -1;
  run.signal = result.signal;
  run.out = read_text(out);
  run.err = result.started ? read_text(err) : result.error;
  std::error_code ec;
  std::filesystem::remove(out, ec);
  std::filesystem::remove(err, ec);
  return run;
}

// The words of a command line split at spaces (no quoting: tests that need a space in an argument
// build the vector themselves).
inline std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

}  // namespace gradflow::test
