/// @file
/// Seeded random numbers that reproduce the same bits on every run and thread count.
///
/// std::mt19937_64 is specified exactly by the C++ standard; the standard library's distributions are
/// not (std::normal_distribution differs between implementations), so the distributions are written
/// here: uniform doubles from the top 53 bits, normals by the Box-Muller transform.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <random>

namespace gradflow {

/// Mixes a seed and a stream number into an independent seed (SplitMix64 finaliser), so that one user
/// seed can feed several generators (problem data, initial point) without overlap.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

/// The default initial point of the generated problems: seeded standard normal, from a stream of `seed`
/// (stream 1) separate from the one that generates problem data.
Eigen::VectorXd default_theta0(Eigen::Index dim, std::uint64_t seed);

/// A seeded generator (std::mt19937_64) with distributions that give the same bits on every platform.
class Random {
 public:
  /// Seeds the engine with seed; equal seeds give equal sequences.
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  /// Uniform on [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Standard normal.
  double normal();
  /// n independent standard normals, in order of normal() calls.
  Eigen::VectorXd normal_vector(Eigen::Index n);
  /// Filled column by column.
  Eigen::MatrixXd normal_matrix(Eigen::Index rows, Eigen::Index cols);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace gradflow
