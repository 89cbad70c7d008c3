#include <gradflow/problems/mlp.hpp>

#include <gradflow/core/detail/kernels.hpp>
#include <gradflow/core/thread_pool.hpp>
#include <gradflow/problems/detail/gemm.hpp>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace gradflow {
namespace {

// The products through kernels::gemm (AVX2 when the machine has it). W_l is stored row-major, which
// is the memory of W_l^T column-major (rows x cols becomes cols x rows). A block of samples
// c0 <= i < c1 of a rows x n workspace matrix is the contiguous memory from column c0.

// out (rows x m) = W_l input (+ out when accumulate) for m samples; input is cols x m.
void weights_times(const double* theta, const MlpArchitecture::Layer& layer, const double* input, Eigen::Index m,
                   bool accumulate, double* out) {
  kernels::gemm(true, false, layer.rows, m, layer.cols, theta + layer.weight_offset, input, accumulate, out);
}

// out (cols x m) = W_l^T delta (+ out when accumulate) for m samples; delta is rows x m.
void weights_transposed_times(const double* theta, const MlpArchitecture::Layer& layer, const double* delta,
                              Eigen::Index m, bool accumulate, double* out) {
  kernels::gemm(false, false, layer.cols, m, layer.rows, theta + layer.weight_offset, delta, accumulate, out);
}

// Rows r0 <= r < r1 of the block of W_l in grad (row-major rows x cols) = delta[r0:r1, :] input^T
// (+ those rows when accumulate), summed over all n samples; delta is rows x n, input cols x n.
// Column-major that is input delta[r0:r1, :]^T, cols x (r1 - r0), contiguous from row r0.
void outer_rows_into(const Matrix& delta, const Matrix& input, const MlpArchitecture::Layer& layer, Eigen::Index r0,
                     Eigen::Index r1, bool accumulate, double* grad) {
  kernels::gemm_strided(false, true, layer.cols, r1 - r0, input.cols(), input.data(), layer.cols, delta.data() + r0,
                        layer.rows, accumulate, grad + layer.weight_offset + r0 * layer.cols, layer.cols);
}

// The partition (Mlp::make_partition). Below kMinParallelFlops per evaluation (6 n p) everything is
// one block: starting threads would cost more than they save (about 130 microseconds of work at 30
// GFLOP/s). Above, blocks of at least kMinBlock samples or weight rows, at most kMaxBlocks per layer:
// large enough that the repeated packing of the shared operand of each product stays a few percent
// of the product, and enough blocks to keep 2 to 16 threads busy. Each block's product packs the
// whole shared operand again (the weights, or the layer's input for the weight rows), a cost of about
// 1 / (block size) of the product's, and dearer once that operand no longer fits in cache: at blocks of
// 64 OpenBLAS spent 17% of a 512 x 512 x 512 x 3 gradient packing (perf), which ran at 0.58 of dgemm's
// own rate; with blocks of 256, at 0.98 (bench/peers/gemm_rate.py). So the blocks are at least
// kMinBlock, or kMinLargeBlock when the shared operand has more than kLargeOperand entries (512 KB).
// The partition, not the thread count, decides the bits, so it is the same for every thread count;
// the price is less parallelism inside a large layer of fewer than 512 samples or rows.
constexpr double kMinParallelFlops = 4e6;
constexpr Eigen::Index kMinBlock = 64;
constexpr Eigen::Index kMinLargeBlock = 256;
constexpr Eigen::Index kLargeOperand = 65536;
constexpr Eigen::Index kMaxBlocks = 16;

// shared: the entries of the operand every block of the product packs again.
Eigen::Index block_count(Eigen::Index size, bool parallel, Eigen::Index shared) {
  const Eigen::Index min_block = shared > kLargeOperand ? kMinLargeBlock : kMinBlock;
  return parallel ? std::clamp<Eigen::Index>(size / min_block, 1, kMaxBlocks) : 1;
}

// size items in `blocks` contiguous blocks whose sizes differ by at most one: the blocks + 1 bounds.
std::vector<Eigen::Index> split(Eigen::Index size, Eigen::Index blocks) {
  std::vector<Eigen::Index> bounds;
  for (Eigen::Index b = 0; b <= blocks; ++b) bounds.push_back(size * b / blocks);
  return bounds;
}

}  // namespace

std::vector<MlpArchitecture::Layer> MlpArchitecture::layers() const {
  std::vector<Layer> out;
  Eigen::Index offset = 0;
  Eigen::Index fan_in = input_dim;
  std::vector<Eigen::Index> sizes = widths;
  sizes.push_back(1);
  for (const Eigen::Index rows : sizes) {
    Layer layer;
    layer.rows = rows;
    layer.cols = fan_in;
    layer.weight_offset = offset;
    // Sizes come from users: a count past 2^63 - 1 is an error, never a wrapped (negative) offset.
    Eigen::Index weights = 0;
    if (__builtin_mul_overflow(rows, fan_in, &weights) || __builtin_add_overflow(offset, weights, &offset) ||
        (bias && __builtin_add_overflow(offset, rows, &offset))) {
      throw std::overflow_error("the network has more than 2^63 - 1 parameters");
    }
    if (bias) layer.bias_offset = offset - rows;
    out.push_back(layer);
    fan_in = rows;
  }
  return out;
}

std::optional<Eigen::Index> MlpArchitecture::checked_num_parameters() const {
  try {
    return num_parameters();
  } catch (const std::overflow_error&) {
    return std::nullopt;
  }
}

Eigen::Index MlpArchitecture::num_parameters() const {
  const auto all = layers();
  const auto& last = all.back();
  return (bias ? last.bias_offset + last.rows : last.weight_offset + last.rows * last.cols);
}

std::string MlpArchitecture::check() const {
  if (input_dim < 1) return "the input dimension must be >= 1";
  if (widths.empty()) return "the network needs at least one hidden layer";
  for (std::size_t l = 0; l < widths.size(); ++l) {
    if (widths[l] < 1)
      return "hidden layer " + std::to_string(l + 1) + " has width " + std::to_string(widths[l]) + " (must be >= 1)";
  }
  return "";
}

Mlp::Mlp(MlpArchitecture architecture, Matrix x, Vector y)
    : architecture_(std::move(architecture)), x_(std::move(x)), y_(std::move(y)) {
  if (const std::string why = architecture_.check(); !why.empty()) throw std::invalid_argument("Mlp(): " + why);
  if (x_.rows() < 1) throw std::invalid_argument("Mlp(): the data set is empty");
  if (x_.cols() != architecture_.input_dim) {
    throw std::invalid_argument("Mlp(): the data have " + std::to_string(x_.cols()) + " features, the network " +
                                std::to_string(architecture_.input_dim) + " inputs");
  }
  if (y_.size() != x_.rows()) throw std::invalid_argument("Mlp(): one target per sample is needed");
  if (!x_.allFinite() || !y_.allFinite()) throw std::invalid_argument("Mlp(): the data have a non-finite entry");
  layers_ = architecture_.layers();
  num_parameters_ = architecture_.num_parameters();
  x_transposed_ = x_.transpose();
  make_partition();
}

Mlp::Lease Mlp::workspace() const {
  Lease w = workspaces_.lease();
  const std::size_t count = layers_.size();
  if (w->z.size() != count) {
    for (auto* v : {&w->z, &w->h, &w->d1, &w->d2, &w->deltas, &w->backs, &w->rz, &w->rh, &w->rdeltas, &w->rbacks}) {
      v->resize(count);
    }
  }
  return w;
}

void Mlp::make_partition() {
  const Eigen::Index n = x_.rows();
  const bool parallel = 6.0 * static_cast<double>(n) * static_cast<double>(num_parameters_) >= kMinParallelFlops;
  Eigen::Index largest_weights = 0;  // the sample blocks' shared operands are the layers' weights
  for (const auto& layer : layers_) largest_weights = std::max(largest_weights, layer.rows * layer.cols);
  sample_bounds_ = split(n, block_count(n, parallel, largest_weights));
  weight_blocks_.clear();
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    // A block of weight rows packs the layer's input, cols x n.
    const std::vector<Eigen::Index> rows =
        split(layers_[l].rows, block_count(layers_[l].rows, parallel, layers_[l].cols * n));
    for (std::size_t b = 0; b + 1 < rows.size(); ++b) weight_blocks_.push_back({l, rows[b], rows[b + 1]});
  }
  // The largest blocks first, so that the last ones to start are short (the order of the blocks does
  // not change any result: each one writes its own entries).
  const auto work = [&](const WeightBlock& w) { return (w.r1 - w.r0) * layers_[w.layer].cols; };
  std::stable_sort(weight_blocks_.begin(), weight_blocks_.end(),
                   [&](const WeightBlock& a, const WeightBlock& b) { return work(a) > work(b); });
}

int Mlp::set_threads(int threads) {
  if (threads < 0)
    throw std::invalid_argument("Mlp::set_threads(): threads must be >= 0, got " + std::to_string(threads));
  threads_ = threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  threads_ = shared_pool().prepare(threads_);  // fewer when the system refuses threads
  workspaces_.clear();
  return threads_;
}

template <class Task>
void Mlp::run_tasks(Eigen::Index count, const Task& task) const {
  if (threads_ <= 1 || count <= 1) {
    for (Eigen::Index i = 0; i < count; ++i) task(i);
    return;
  }
  parallel_for(static_cast<long>(count), threads_, [&](long i) { task(static_cast<Eigen::Index>(i)); });
}

void Mlp::forward(Workspace& ws, const ConstVectorView& theta, bool with_second) const {
  ws.second_order_ready = false;  // the workspace is about to hold another pass
  const std::size_t last = layers_.size() - 1;
  const Eigen::Index n = x_.rows();
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    ws.z[l].resize(layers_[l].rows, n);
    if (l < last) {
      ws.h[l].resize(layers_[l].rows, n);
      ws.d1[l].resize(layers_[l].rows, n);
      if (with_second) ws.d2[l].resize(layers_[l].rows, n);
    }
  }
  const double* w = theta.data();
  run_tasks(static_cast<Eigen::Index>(sample_bounds_.size()) - 1, [&](Eigen::Index b) {
    const Eigen::Index c0 = sample_bounds_[b], m = sample_bounds_[b + 1] - c0;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const auto& layer = layers_[l];
      const Matrix& input = layer_input(ws, l);
      double* z = ws.z[l].data() + layer.rows * c0;
      weights_times(w, layer, input.data() + input.rows() * c0, m, false, z);
      if (layer.bias_offset >= 0) {
        Eigen::Map<Matrix>(z, layer.rows, m).colwise() += Eigen::Map<const Vector>(w + layer.bias_offset, layer.rows);
      }
      if (l < last) {
        const Eigen::Index offset = layer.rows * c0;
        activate(architecture_.activation, z, ws.h[l].data() + offset, ws.d1[l].data() + offset,
                 with_second ? ws.d2[l].data() + offset : nullptr, layer.rows * m);
      }
    }
  });
  ws.output = ws.z[last].row(0);
}

void Mlp::backward(Workspace& ws, const ConstVectorView& theta, const Eigen::RowVectorXd& seed) const {
  const std::size_t last = layers_.size() - 1;
  const Eigen::Index n = x_.rows();
  ws.deltas[last] = seed;
  for (std::size_t l = last; l > 0; --l) {
    ws.backs[l - 1].resize(layers_[l].cols, n);
    ws.deltas[l - 1].resize(layers_[l - 1].rows, n);
  }
  run_tasks(static_cast<Eigen::Index>(sample_bounds_.size()) - 1, [&](Eigen::Index b) {
    const Eigen::Index c0 = sample_bounds_[b], m = sample_bounds_[b + 1] - c0;
    for (std::size_t l = last; l > 0; --l) {
      const auto& layer = layers_[l];
      double* back = ws.backs[l - 1].data() + layer.cols * c0;
      weights_transposed_times(theta.data(), layer, ws.deltas[l].data() + layer.rows * c0, m, false, back);
      Eigen::Map<Matrix>(ws.deltas[l - 1].data() + layer.cols * c0, layer.cols, m) =
          Eigen::Map<const Matrix>(back, layer.cols, m)
              .cwiseProduct(Eigen::Map<const Matrix>(ws.d1[l - 1].data() + layer.cols * c0, layer.cols, m));
    }
  });
}

double Mlp::loss(const ConstVectorView& theta) const {
  check_dimension("Mlp::loss", theta.size());
  const Lease w = workspace();
  forward(*w, theta, false);
  return 0.5 * (w->output.transpose() - y_).squaredNorm();
}

double Mlp::loss_and_gradient(const ConstVectorView& theta, VectorView grad) const {
  check_dimension("Mlp::loss_and_gradient", theta.size());
  check_dimension("Mlp::loss_and_gradient", grad.size());
  const Lease lease = workspace();
  Workspace& ws = *lease;
  forward(ws, theta, false);
  ws.seed = ws.output - y_.transpose();  // the residuals r^T
  backward(ws, theta, ws.seed);
  run_tasks(static_cast<Eigen::Index>(weight_blocks_.size()), [&](Eigen::Index i) {
    const WeightBlock& block = weight_blocks_[i];
    const auto& layer = layers_[block.layer];
    outer_rows_into(ws.deltas[block.layer], layer_input(ws, block.layer), layer, block.r0, block.r1, false,
                    grad.data());
    if (layer.bias_offset >= 0) {
      Eigen::Map<Vector>(grad.data() + layer.bias_offset + block.r0, block.r1 - block.r0) =
          ws.deltas[block.layer].middleRows(block.r0, block.r1 - block.r0).rowwise().sum();
    }
  });
  return 0.5 * ws.seed.squaredNorm();
}

void Mlp::hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const {
  check_dimension("Mlp::hessian_vector", theta.size());
  check_dimension("Mlp::hessian_vector", v.size());
  check_dimension("Mlp::hessian_vector", hv.size());
  const std::size_t last = layers_.size() - 1;
  const Eigen::Index n = x_.rows();
  const Lease lease = workspace();
  Workspace& ws = *lease;
  // The forward pass with sigma'' and the back-propagation of the residuals depend on theta only: the
  // products of a Lanczos run (all at one point) make them once, in the workspace that holds them (a
  // concurrent call in another workspace makes them again: the same bits).
  const bool same_point = ws.second_order_ready && ws.second_order_theta.size() == theta.size() &&
                          std::memcmp(ws.second_order_theta.data(), theta.data(),
                                      sizeof(double) * static_cast<std::size_t>(theta.size())) == 0;
  if (!same_point) {
    forward(ws, theta, true);
    ws.seed = ws.output - y_.transpose();
    backward(ws, theta, ws.seed);
    ws.second_order_theta = theta;
    ws.second_order_ready = true;
  }
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    ws.rz[l].resize(layers_[l].rows, n);
    ws.rdeltas[l].resize(layers_[l].rows, n);
    if (l < last) ws.rh[l].resize(layers_[l].rows, n);
    if (l > 0) ws.rbacks[l].resize(layers_[l].cols, n);
  }
  run_tasks(static_cast<Eigen::Index>(sample_bounds_.size()) - 1, [&](Eigen::Index b) {
    const Eigen::Index c0 = sample_bounds_[b], m = sample_bounds_[b + 1] - c0;
    const auto block = [&](const Matrix& a) { return Eigen::Map<const Matrix>(a.data() + a.rows() * c0, a.rows(), m); };
    const auto mutable_block = [&](Matrix& a) { return Eigen::Map<Matrix>(a.data() + a.rows() * c0, a.rows(), m); };
    // R-forward: R{z_l} = V_l h_{l-1} + W_l R{h_{l-1}} (+ R{b_l}), R{h_l} = sigma'(z_l) o R{z_l}.
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const auto& layer = layers_[l];
      const Matrix& input = layer_input(ws, l);
      double* rz = ws.rz[l].data() + layer.rows * c0;
      weights_times(v.data(), layer, input.data() + input.rows() * c0, m, false, rz);
      if (l > 0) weights_times(theta.data(), layer, ws.rh[l - 1].data() + ws.rh[l - 1].rows() * c0, m, true, rz);
      if (layer.bias_offset >= 0) {
        Eigen::Map<Matrix>(rz, layer.rows, m).colwise() +=
            Eigen::Map<const Vector>(v.data() + layer.bias_offset, layer.rows);
      }
      if (l < last) mutable_block(ws.rh[l]) = block(ws.d1[l]).cwiseProduct(block(ws.rz[l]));
    }
    // R-backward: R{delta_L} = R{f}; R{G_{l-1}} = V_l^T delta_l + W_l^T R{delta_l};
    // R{delta_{l-1}} = R{G_{l-1}} o sigma'(z_{l-1}) + G_{l-1} o sigma''(z_{l-1}) o R{z_{l-1}}.
    mutable_block(ws.rdeltas[last]) = block(ws.rz[last]);
    for (std::size_t l = last; l > 0; --l) {
      const auto& layer = layers_[l];
      double* rback = ws.rbacks[l].data() + layer.cols * c0;
      weights_transposed_times(v.data(), layer, ws.deltas[l].data() + layer.rows * c0, m, false, rback);
      weights_transposed_times(theta.data(), layer, ws.rdeltas[l].data() + layer.rows * c0, m, true, rback);
      mutable_block(ws.rdeltas[l - 1]) =
          block(ws.rbacks[l]).cwiseProduct(block(ws.d1[l - 1])) +
          block(ws.backs[l - 1]).cwiseProduct(block(ws.d2[l - 1])).cwiseProduct(block(ws.rz[l - 1]));
    }
  });
  // R{dW_l} = R{delta_l} h_{l-1}^T + delta_l R{h_{l-1}}^T, R{db_l} = R{delta_l} 1.
  run_tasks(static_cast<Eigen::Index>(weight_blocks_.size()), [&](Eigen::Index i) {
    const WeightBlock& block = weight_blocks_[i];
    const std::size_t l = block.layer;
    const auto& layer = layers_[l];
    outer_rows_into(ws.rdeltas[l], layer_input(ws, l), layer, block.r0, block.r1, false, hv.data());
    if (l > 0) outer_rows_into(ws.deltas[l], ws.rh[l - 1], layer, block.r0, block.r1, true, hv.data());
    if (layer.bias_offset >= 0) {
      Eigen::Map<Vector>(hv.data() + layer.bias_offset + block.r0, block.r1 - block.r0) =
          ws.rdeltas[l].middleRows(block.r0, block.r1 - block.r0).rowwise().sum();
    }
  });
}

void Mlp::hessian(const ConstVectorView& theta, MatrixView h) const {
  if (!has_hessian()) Objective::hessian(theta, h);
  check_dimension("Mlp::hessian", theta.size());
  Vector e = Vector::Zero(num_parameters_);
  Vector column(num_parameters_);
  for (Eigen::Index j = 0; j < num_parameters_; ++j) {
    e[j] = 1.0;
    hessian_vector(theta, e, column);
    h.col(j) = column;
    e[j] = 0.0;
  }
  h = (0.5 * (h + h.transpose())).eval();  // exact up to the rounding of the two triangles
}

Vector Mlp::predict(const ConstVectorView& theta) const {
  check_dimension("Mlp::predict", theta.size());
  const Lease w = workspace();
  forward(*w, theta, false);
  return w->output.transpose();
}

Matrix Mlp::jacobian(const ConstVectorView& theta) const {
  check_dimension("Mlp::jacobian", theta.size());
  const Eigen::Index n = x_.rows();
  if (static_cast<double>(n) * static_cast<double>(num_parameters_) > 5e7) {
    throw std::invalid_argument("Mlp::jacobian(): n p = " + std::to_string(n * num_parameters_) +
                                " entries is too large; use gram() or sigma_min()");
  }
  const Lease lease = workspace();
  Workspace& ws = *lease;
  forward(ws, theta, false);
  backward(ws, theta, Eigen::RowVectorXd::Ones(n));
  Matrix j(n, num_parameters_);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const auto& layer = layers_[l];
    const Matrix& input = layer_input(ws, l);
    for (Eigen::Index i = 0; i < n; ++i) {
      // Row i of the W_l block is the row-major flattening of delta_l[:, i] input[:, i]^T.
      for (Eigen::Index r = 0; r < layer.rows; ++r) {
        j.row(i).segment(layer.weight_offset + r * layer.cols, layer.cols) =
            ws.deltas[l](r, i) * input.col(i).transpose();
      }
      if (layer.bias_offset >= 0) j.row(i).segment(layer.bias_offset, layer.rows) = ws.deltas[l].col(i).transpose();
    }
  }
  return j;
}

Matrix Mlp::gram(const ConstVectorView& theta) const {
  Matrix g(x_.rows(), x_.rows());
  gram(theta, g);
  return g;
}

void Mlp::gram(const ConstVectorView& theta, MatrixView g) const {
  check_dimension("Mlp::gram", theta.size());
  const Eigen::Index n = x_.rows();
  const Lease lease = workspace();
  Workspace& ws = *lease;
  forward(ws, theta, false);
  backward(ws, theta, Eigen::RowVectorXd::Ones(n));
  // Column block c0 <= j < c1 of G = sum_l (D_l^T D_l) o (H_{l-1}^T H_{l-1}) (+ D_l^T D_l), layer by layer.
  run_tasks(static_cast<Eigen::Index>(sample_bounds_.size()) - 1, [&](Eigen::Index b) {
    const Eigen::Index c0 = sample_bounds_[b], m = sample_bounds_[b + 1] - c0;
    auto block = g.middleCols(c0, m);
    block.setZero();
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Matrix& input = layer_input(ws, l);
      const Matrix delta_gram = ws.deltas[l].transpose() * ws.deltas[l].middleCols(c0, m);
      const Matrix input_gram = input.transpose() * input.middleCols(c0, m);
      block += delta_gram.cwiseProduct(input_gram);
      if (layers_[l].bias_offset >= 0) block += delta_gram;
    }
  });
}

double Mlp::sigma_min(const ConstVectorView& theta) const {
  const Eigen::Index n = x_.rows();
  if (n > num_parameters_) return 0.0;
  const Eigen::SelfAdjointEigenSolver<Matrix> eig(gram(theta), Eigen::EigenvaluesOnly);
  return std::sqrt(std::max(eig.eigenvalues()[0], 0.0));
}

SizeEstimate network_memory(const MlpArchitecture& architecture, long n) {
  SizeEstimate estimate;
  long long sum_widths = 0;
  long long previous = architecture.input_dim;
  SizeEstimate parameters;
  for (const Eigen::Index w : architecture.widths) {
    parameters.add({previous, w});
    if (architecture.bias) parameters.add({w});
    sum_widths += w;
    previous = w;
  }
  parameters.add({previous});
  const long long depth = static_cast<long long>(architecture.widths.size());
  const long long p = parameters.overflowed() ? LLONG_MAX : static_cast<long long>(parameters.bytes());
  estimate.add({n, architecture.input_dim, 8, 2});  // the data in the network
  estimate.add({n, sum_widths, 8, 8});              // activations, their derivatives, the backward pass
  estimate.add({p, 8, 32});                         // theta, gradients, solver stages
  estimate.add({depth, depth, 8, 8});               // the certificate's Lipschitz bound of a deep network
  if (parameters.overflowed()) estimate.add({LLONG_MAX, LLONG_MAX});
  return estimate;
}

}  // namespace gradflow
