/// @file
/// The squared training loss of a feedforward network with scalar output,
///   f(x; theta) = W_L sigma(W_{L-1} ... sigma(W_1 x)),   L(theta) = 1/2 sum_i (f(x_i) - y_i)^2
/// (a sum, not a mean), with optional biases in every layer.
///
/// Parameter layout (the format of --theta0 and --theta-out): layer by layer from the input, each W_l
/// (rows = outputs, columns = inputs) stored row-major, followed by its bias b_l when biases are on.
///
/// Derivatives use the whole data set as one matrix (matrix-matrix products, no per-sample loops):
/// back-propagation for the gradient, the R-operator (forward-over-reverse, Pearlmutter 1994) for the
/// exact Hessian-vector product, and the per-sample back-propagated vectors for the Jacobian J of the
/// residuals and its Gram matrix J J^T = sum_l (D_l^T D_l) o (H_{l-1}^T H_{l-1}) (+ D_l^T D_l for biases),
/// formed without J.
///
/// As a ResidualObjective (problems/mlp_residual.cpp): r_i = f(x_i) - y_i, J v by the R-operator, J^T w
/// by back-propagation from the seed w, sigma_n(J) and ||J|| from the Gram matrix, and the rigorous
/// Lipschitz bound of J on a ball of docs/theory.md §5.3 (one hidden layer) and §5.4 (deeper).
///
/// Threads (set_threads): one evaluation can use several threads. The work is cut into a fixed
/// partition that depends only on the sizes (blocks of samples for the forward and backward passes
/// and the Gram matrix, blocks of weight rows for the products that sum over the samples); every block
/// is computed by the same operations in the same order whichever thread runs it, and no sum crosses
/// blocks. The results are therefore the same bits for every thread count.
///
/// Concurrent callers (core/objective.hpp): every evaluation leases a workspace of its own (activations,
/// back-propagated vectors, the R-operator's), so any number of threads may evaluate one Mlp at once
/// (each concurrent caller costs one more workspace, about the activations' memory, kept for reuse).
/// set_threads() may not run during an evaluation.
#pragma once

#include <gradflow/core/residual_objective.hpp>
#include <gradflow/core/scratch_pool.hpp>
#include <gradflow/core/size_estimate.hpp>
#include <gradflow/core/tolerances.hpp>
#include <gradflow/problems/activation.hpp>

#include <vector>

namespace gradflow {

/// The shape of the network: input dimension, hidden widths, activation, biases.
struct MlpArchitecture {
  Eigen::Index input_dim = 0;                ///< d
  std::vector<Eigen::Index> widths;          ///< hidden widths, at least one layer, each >= 1
  Activation activation = Activation::tanh;  ///< sigma, of every hidden layer (the output layer is linear)
  bool bias = false;                         ///< whether every layer has a bias b_l

  /// Where one layer's parameters W_l (rows x cols) and b_l sit in theta.
  struct Layer {
    Eigen::Index rows = 0;           ///< outputs
    Eigen::Index cols = 0;           ///< inputs
    Eigen::Index weight_offset = 0;  ///< where W_l starts in theta
    Eigen::Index bias_offset = -1;   ///< where b_l starts, -1 without biases
  };
  /// The L = widths.size() + 1 layers, the last one the scalar output.
  std::vector<Layer> layers() const;
  /// p: the weights and biases of all layers; throws std::overflow_error when it does not fit in Eigen::Index.
  Eigen::Index num_parameters() const;
  /// num_parameters(), or nothing when the count does not fit in Eigen::Index (num_parameters() and
  /// layers() throw std::overflow_error then).
  std::optional<Eigen::Index> checked_num_parameters() const;
  /// Why the architecture is not valid, or an empty string.
  std::string check() const;
};

/// The estimated memory of a network problem on n samples (data, activations, parameters, the
/// certificate's bounds), for the checks against the memory limit before it is built.
SizeEstimate network_memory(const MlpArchitecture& architecture, long n);

/// The squared training loss of a feedforward network with scalar output on a data set (see the file comment).
class Mlp final : public ResidualObjective {
 public:
  /// x: n x d (rows are samples), y: n targets; throws std::invalid_argument on a mismatch or an
  /// invalid architecture.
  Mlp(MlpArchitecture architecture, Matrix x, Vector y);

  std::string name() const override { return "mlp"; }
  /// p, the architecture's num_parameters().
  Eigen::Index dimension() const override { return num_parameters_; }
  double loss(const ConstVectorView& theta) const override;
  double loss_and_gradient(const ConstVectorView& theta, VectorView grad) const override;
  void hessian_vector(const ConstVectorView& theta, const ConstVectorView& v, VectorView hv) const override;
  /// True: hessian_vector() is the exact R-operator product.
  bool has_exact_hessian_vector() const override { return true; }
  /// Column by column from exact Hessian-vector products, for networks with at most 2000 parameters.
  bool has_hessian() const override { return num_parameters_ <= tolerances::kMaxDenseHessianParameters; }
  /// h, p x p, one exact Hessian-vector product per column; throws std::logic_error without has_hessian().
  void hessian(const ConstVectorView& theta, MatrixView h) const override;

  /// ResidualObjective: r = f(X) - y, its Jacobian, and the certificate's inputs.
  Eigen::Index num_residuals() const override { return x_.rows(); }
  void residuals(const ConstVectorView& theta, VectorView r) const override;
  void jacobian(const ConstVectorView& theta, MatrixView j) const override;  ///< only for n p <= 5e7 entries
  void jv(const ConstVectorView& theta, const ConstVectorView& v, VectorView out) const override;
  void jtv(const ConstVectorView& theta, const ConstVectorView& w, VectorView out) const override;
  /// l(r) of docs/theory.md §5.3 (one hidden layer) or §5.4 (deeper networks): rigorous for every
  /// activation that qualifies; empty for the others (relu, silu, gelu). With two or more hidden layers
  /// an evaluation of the bound polls the cancellation check at every layer and throws Cancelled when it
  /// says stop (core/cancellation.hpp).
  std::optional<double> jacobian_lipschitz(const ConstVectorView& theta0, double radius) const override;
  std::string jacobian_lipschitz_kind() const override;
  std::optional<LipschitzBound> jacobian_lipschitz_bound(const ConstVectorView& theta0) const override;
  JacobianSpectrum jacobian_spectrum(const ConstVectorView& theta) const override;  ///< from gram()
  /// A non-qualifying activation, biases, or inputs that are not linearly independent.
  std::string certificate_obstacle(const ConstVectorView& theta0) const override;

  /// f(x_i; theta) for every sample.
  Vector predict(const ConstVectorView& theta) const;
  /// d f(x_i) / d theta: n x p (only for n p <= 5e7 entries).
  Matrix jacobian(const ConstVectorView& theta) const;
  /// J J^T (n x n), without forming J.
  bool has_gram() const override { return true; }
  /// k = J J^T (n x n).
  void gram(const ConstVectorView& theta, MatrixView k) const override;
  /// J J^T (n x n), returned.
  Matrix gram(const ConstVectorView& theta) const;
  /// The n-th singular value of J (0 when n > p), from the Gram matrix.
  double sigma_min(const ConstVectorView& theta) const;

  /// The network's shape.
  const MlpArchitecture& architecture() const { return architecture_; }
  const Matrix& inputs() const { return x_; }  ///< X, n x d
  /// y, the n targets.
  const Vector& targets() const { return y_; }
  /// n, the samples.
  Eigen::Index num_samples() const { return x_.rows(); }

  /// Threads of one evaluation (loss, gradient, Hessian-vector product, Hessian, Gram): 1 by default;
  /// 0 = all cores. Throws std::invalid_argument when negative. The results do not depend on it. The
  /// threads are started here; threads() is lower than asked when the system refused some.
  /// Not to be called while another thread evaluates this instance.
  int set_threads(int threads) override;
  int threads() const override { return threads_; }  ///< the threads used (>= 1; 0 resolved to the cores)

  /// The fixed partition of an evaluation (a function of the sizes only): blocks of samples, and
  /// blocks of weight rows over all layers. One block of each (a network too small to gain from
  /// threads) means one thread does all the work.
  struct Partition {
    Eigen::Index sample_blocks = 1;  ///< the blocks of samples
    Eigen::Index weight_blocks = 1;  ///< the blocks of weight rows
  };
  /// This network's partition (fixed at construction).
  Partition partition() const {
    return {static_cast<Eigen::Index>(sample_bounds_.size()) - 1, static_cast<Eigen::Index>(weight_blocks_.size())};
  }

 private:
  /// A block of rows r0 <= r < r1 of W_l: its gradient entries sum over every sample.
  struct WeightBlock {
    std::size_t layer = 0;
    Eigen::Index r0 = 0, r1 = 0;
  };
  void make_partition();
  /// The buffers of one evaluation, one entry per layer (core/scratch_pool.hpp: one workspace per
  /// concurrent call).
  struct Workspace {
    std::vector<Matrix> z, h, d1, d2, deltas, backs;
    std::vector<Matrix> rz, rh, rdeltas, rbacks;
    Eigen::RowVectorXd output, seed;
    /// The point whose forward pass (with sigma'') and back-propagation this workspace holds for
    /// hessian_vector: products at the same point (a Lanczos run, a dense Hessian) reuse them. Any
    /// other forward pass clears second_order_ready.
    Vector second_order_theta;
    bool second_order_ready = false;
  };
  using Lease = ScratchPool<Workspace>::Lease;
  /// A workspace with one entry per layer.
  Lease workspace() const;
  /// Runs task(i) for i < count on up to threads_ threads (serially when threads_ is 1 or count is 1).
  template <class Task>
  void run_tasks(Eigen::Index count, const Task& task) const;
  /// The input of layer l (H_{l-1}; H_0 = X^T), cols x n.
  const Matrix& layer_input(const Workspace& w, std::size_t l) const { return l == 0 ? x_transposed_ : w.h[l - 1]; }
  /// Forward pass into the workspace; with_second also keeps sigma''.
  void forward(Workspace& w, const ConstVectorView& theta, bool with_second) const;
  /// Back-propagation from the row seed (1 x n) into w.deltas and w.backs (G_l = W_{l+1}^T delta_{l+1}).
  void backward(Workspace& w, const ConstVectorView& theta, const Eigen::RowVectorXd& seed) const;

  MlpArchitecture architecture_;
  std::vector<MlpArchitecture::Layer> layers_;
  Eigen::Index num_parameters_ = 0;
  Matrix x_;
  Matrix x_transposed_;  ///< d x n: the input activations H_0
  Vector y_;

  int threads_ = 1;
  std::vector<Eigen::Index> sample_bounds_;  ///< block b holds the samples sample_bounds_[b] <= i < [b + 1]
  std::vector<WeightBlock> weight_blocks_;   ///< every weight row of every layer, in blocks, largest first

  ScratchPool<Workspace> workspaces_;
};

}  // namespace gradflow
