#include <gradflow/flow/dense_output.hpp>

#include <gradflow/core/text.hpp>

#include <algorithm>
#include <stdexcept>

namespace gradflow {

void DenseOutput::start(double t0, const ConstVectorView& theta0) {
  p_ = theta0.size();
  has_start_ = true;
  t_begin_ = t0;
  start_ = theta0;
  pieces_.clear();
  data_.clear();
}

void DenseOutput::append(const ConstVectorView& x) { data_.insert(data_.end(), x.data(), x.data() + x.size()); }

void DenseOutput::add_hermite(double t0, double t1, const ConstVectorView& x0, const ConstVectorView& v0,
                              const ConstVectorView& x1, const ConstVectorView& v1) {
  pieces_.push_back({t0, t1, t1 - t0, Kind::hermite, data_.size()});
  append(x0);
  append(v0);
  append(x1);
  append(v1);
}

void DenseOutput::add_linear(double t0, double t1, const ConstVectorView& x0, const ConstVectorView& v0) {
  pieces_.push_back({t0, t1, t1 - t0, Kind::linear, data_.size()});
  append(x0);
  append(v0);
}

void DenseOutput::add_quintic(double t0, double t1, double span, const Vector* samples[6]) {
  pieces_.push_back({t0, t1, span, Kind::quintic, data_.size()});
  for (int k = 0; k < 6; ++k) append(*samples[k]);
}

namespace {

void hermite_weights(double s, double h, double w[4]) {
  const double s2 = s * s, s3 = s2 * s;
  w[0] = 2.0 * s3 - 3.0 * s2 + 1.0;
  w[1] = (s3 - 2.0 * s2 + s) * h;
  w[2] = -2.0 * s3 + 3.0 * s2;
  w[3] = (s3 - s2) * h;
}

}  // namespace

Vector DenseOutput::hermite(double t0, const ConstVectorView& x0, const ConstVectorView& v0, double t1,
                            const ConstVectorView& x1, const ConstVectorView& v1, double t) {
  const double h = t1 - t0;
  double w[4];
  hermite_weights((t - t0) / h, h, w);
  return w[0] * x0 + w[1] * v0 + w[2] * x1 + w[3] * v1;
}

Vector DenseOutput::at(double t) const {
  if (!has_start_)
    throw std::logic_error("DenseOutput::at(): no dense output was recorded (FlowOptions::dense_output)");
  if (!(t >= t_begin_ && t <= t_end())) {
    throw std::out_of_range("DenseOutput::at(): t = " + full_precision(t) + " is outside [" + full_precision(t_begin_) +
                            ", " + full_precision(t_end()) + "], the interval of the trajectory");
  }
  if (pieces_.empty() || t == t_begin_) return start_;
  // The first piece whose end is at or after t.
  const auto it = std::lower_bound(pieces_.begin(), pieces_.end(), t,
                                   [](const Piece& piece, double value) { return piece.t1 < value; });
  const Piece& piece = *it;
  const auto block = [&](int k) {
    return Eigen::Map<const Vector>(data_.data() + piece.offset + static_cast<std::size_t>(k * p_), p_);
  };
  const double tau = t - piece.t0;
  switch (piece.kind) {
    case Kind::linear:
      return block(0) + tau * block(1);
    case Kind::hermite: {
      double w[4];
      hermite_weights(tau / piece.span, piece.span, w);
      return w[0] * block(0) + w[1] * block(1) + w[2] * block(2) + w[3] * block(3);
    }
    case Kind::quintic: {
      // Lagrange interpolation on the nodes s_j = j / 5 (the ends exactly).
      const double s = tau / piece.span;
      if (s == 0.0) return block(0);
      if (s == 1.0) return block(5);
      double weights[6];
      for (int j = 0; j < 6; ++j) {
        double w = 1.0;
        for (int m = 0; m < 6; ++m) {
          if (m != j) w *= (s - m / 5.0) / ((j - m) / 5.0);
        }
        weights[j] = w;
      }
      Vector x = weights[0] * block(0);
      for (int j = 1; j < 6; ++j) x += weights[j] * block(j);
      return x;
    }
  }
  return start_;  // not reached
}

}  // namespace gradflow
