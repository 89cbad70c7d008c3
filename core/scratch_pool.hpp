/// @file
/// Scratch space for const evaluations that any number of threads may make at once on one object (the
/// thread-safety contract of core/objective.hpp): the built-in objectives keep their buffers here.
///
/// A ScratchPool<W> owns one workspace W for the common case, one caller at a time, which lease() takes
/// with one atomic exchange (no lock, no allocation). A caller that finds it taken (another thread is
/// evaluating the same object, or this thread is, one evaluation inside another) gets a spare from a
/// free list under a mutex: made on first need, given back when its lease ends and kept for the next
/// such caller. No two leases ever hold the same workspace, so concurrent callers never share a buffer,
/// and repeated concurrent use does not allocate on every call. The pool holds as many spares as the
/// most callers that ever overlapped, less one, until clear() or the end of the object.
///
///   struct Work { Vector r; };
///   ScratchPool<Work> scratch_;
///   double loss(const ConstVectorView& theta) const {
///     const auto work = scratch_.lease();  // released at the end of the scope
///     work->r.resize(n);                   // a workspace may be fresh: size it, write before reading
///     ...
///   }
///
/// W is default-constructed, empty: the caller sizes it on each lease (a check of the size when it
/// already fits). What one lease leaves in a workspace the next lease of it may find: a workspace that
/// caches something (the network's Hessian-vector products at one point) says for which input it holds.
///
/// Copying or moving a pool gives the copy its own, empty pool (workspaces are scratch, never state, and
/// an atomic does not copy): an objective that holds one keeps its implicit copy and move constructors.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace gradflow {

/// Per-call workspaces of type W for const members that may run concurrently (see above).
template <class W>
class ScratchPool {
 public:
  /// The exclusive use of one workspace until the lease ends.
  class Lease {
   public:
    /// Takes over other's workspace; other then releases nothing.
    Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), workspace_(other.workspace_) {}
    Lease& operator=(Lease&&) = delete;
    /// Gives the workspace back to the pool.
    ~Lease() {
      if (pool_) pool_->release(workspace_);
    }
    W& operator*() const { return *workspace_; }  ///< the leased workspace
    W* operator->() const { return workspace_; }  ///< pointer to the leased workspace

   private:
    friend class ScratchPool;
    Lease(const ScratchPool* pool, W* workspace) : pool_(pool), workspace_(workspace) {}
    const ScratchPool* pool_;
    W* workspace_;
  };

  /// An empty pool: no spares, the primary workspace default-constructed.
  ScratchPool() = default;
  /// A new, empty pool: workspaces are not copied.
  ScratchPool(const ScratchPool&) noexcept : ScratchPool() {}
  /// Leaves this pool as it is: workspaces are not copied.
  ScratchPool& operator=(const ScratchPool&) noexcept { return *this; }
  ~ScratchPool() = default;

  /// A workspace that no other lease holds: the primary one when it is free, else a spare.
  [[nodiscard]] Lease lease() const {
    if (!busy_.exchange(true, std::memory_order_acquire)) return Lease(this, &primary_);
    return Lease(this, take_spare());
  }

  /// Forgets every workspace (their sizes and whatever they cached). Not while a lease is held.
  void clear() {
    primary_ = W{};
    const std::lock_guard<std::mutex> lock(mutex_);
    free_.clear();
    owned_.clear();
  }

  /// The spares made so far: 0 unless leases have overlapped.
  std::size_t spares() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return owned_.size();
  }

 private:
  W* take_spare() const {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        W* w = free_.back();
        free_.pop_back();
        return w;
      }
    }
    auto made = std::make_unique<W>();  // outside the lock
    W* w = made.get();
    const std::lock_guard<std::mutex> lock(mutex_);
    free_.reserve(owned_.size() + 1);  // room for every spare: release() never allocates
    owned_.push_back(std::move(made));
    return w;
  }

  void release(W* w) const noexcept {
    if (w == &primary_) {
      busy_.store(false, std::memory_order_release);
      return;
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(w);  // within the capacity reserved by take_spare()
  }

  mutable std::atomic<bool> busy_{false};  ///< the primary workspace is leased
  mutable W primary_{};
  mutable std::mutex mutex_;                       ///< guards owned_ and free_
  mutable std::vector<std::unique_ptr<W>> owned_;  ///< every spare
  mutable std::vector<W*> free_;                   ///< the spares no lease holds
};

}  // namespace gradflow
