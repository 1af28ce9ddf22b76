#pragma once
// Budgets for open segment files and index mappings, so that the number of partitions a
// broker holds is not capped by RLIMIT_NOFILE or vm.max_map_count.
//
// Every segment's .log descriptor and every segment's index pair (two descriptors, two
// shared mappings) is a `cache_handle`: it owns the open object through a shared_ptr
// (the cache's reference) and remembers it through a weak_ptr. Users take their own
// shared_ptr (get()) and hold it as long as they use the descriptor or the mapping: a
// read result holds it across sendfile, an index lookup holds it across the lookup.
// Eviction drops only the cache's reference; the descriptor is closed (the mapping
// unmapped) when the last user lets go. A handle reopened while a user still holds the
// old object gets that object back through the weak_ptr, so there is never more than
// one open instance of a file: the writer appends through the same mapping readers see.
//
// Eviction is a clock (second chance): a get() that finds the object open only sets
// the handle's `referenced` bit (one relaxed atomic store, plus the handle's own small
// mutex for the pointer copy). Only opening a handle takes the cache's mutex, to admit
// it; if the cache is then over its capacity, the clock hand sweeps the admitted
// handles, clearing set bits and evicting the first handle whose bit was clear. The
// objects evicted are destroyed (close, munmap) after the mutex is released, and no
// lock is held while a file is opened or mapped except the handle's own open mutex.
//
// Two process-wide caches: log_file_cache() for .log descriptors and index_cache() for
// index pairs. Their capacities come from strata.log.open.files.max and
// strata.log.index.maps.max (set_file_budgets; defaults in default_file_budgets).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace strata::storage {

class cache_entry;

class open_file_cache {
 public:
  explicit open_file_cache(size_t capacity) : capacity_(capacity) {}
  open_file_cache(const open_file_cache&) = delete;
  open_file_cache& operator=(const open_file_cache&) = delete;

  // Changing the capacity evicts down to it on the next admission.
  void set_capacity(size_t n) { capacity_.store(n < 1 ? 1 : n, std::memory_order_relaxed); }
  size_t capacity() const { return capacity_.load(std::memory_order_relaxed); }
  // Handles currently holding their object through the cache.
  size_t size() const;
  uint64_t opens() const { return opens_.load(std::memory_order_relaxed); }
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  // Evicts every handle (tests; shutdown of an idle broker).
  void evict_all();

  // --- used by cache_entry ---
  // Adds an entry that has just taken its reference, then evicts down to capacity.
  // The caller holds no entry's mutex.
  void admit(cache_entry* e);
  // Removes an entry (its owner is being destroyed or it dropped its reference itself).
  void forget(cache_entry* e);

 private:
  void evict_locked(size_t target, std::vector<std::shared_ptr<void>>& dropped);

  std::atomic<size_t> capacity_;
  mutable std::mutex mu_;
  std::vector<cache_entry*> slots_;
  size_t hand_ = 0;
  std::atomic<uint64_t> opens_{0};
  std::atomic<uint64_t> evictions_{0};
};

// The type-erased part of a cache_handle the cache works with.
class cache_entry {
 public:
  static constexpr size_t kNoSlot = size_t(-1);

 protected:
  cache_entry() = default;
  ~cache_entry() = default;

 private:
  friend class open_file_cache;
  // Under the cache's mutex: gives up the cache's reference (moved out, destroyed by the
  // cache after unlocking).
  virtual std::shared_ptr<void> release() = 0;

  size_t slot_ = kNoSlot;  // guarded by the cache's mutex

 protected:
  std::atomic<bool> referenced_{false};
};

// One lazily opened object (T: fs::file, or a segment's index pair).
template <class T>
class cache_handle final : public cache_entry {
 public:
  explicit cache_handle(open_file_cache& cache) : cache_(cache) {}
  ~cache_handle() { cache_.forget(this); }
  cache_handle(const cache_handle&) = delete;
  cache_handle& operator=(const cache_handle&) = delete;

  // The open object, or null if it has to be opened (then call install() with it after
  // opening under the owner's open mutex; see segment.cc). Marks the handle used.
  std::shared_ptr<T> get() {
    std::shared_ptr<T> p;
    bool readmit = false;
    {
      std::lock_guard lk(mu_);
      if (strong_) {
        p = strong_;
      } else if ((p = weak_.lock())) {
        strong_ = p;  // a user kept it open: take it back instead of opening a second one
        readmit = true;
      }
    }
    if (p) referenced_.store(true, std::memory_order_relaxed);
    if (readmit) cache_.admit(this);
    return p;
  }
  // The object if it is open anyway (held by the cache or a user); never opens.
  std::shared_ptr<T> peek() const {
    std::lock_guard lk(mu_);
    return strong_ ? strong_ : weak_.lock();
  }
  // Publishes a newly opened object and admits it (may evict others).
  void install(std::shared_ptr<T> p) {
    {
      std::lock_guard lk(mu_);
      weak_ = p;
      strong_ = std::move(p);
    }
    referenced_.store(true, std::memory_order_relaxed);
    cache_.admit(this);
  }
  // Drops the cache's reference now (the owner closes or replaces the object).
  void drop() {
    cache_.forget(this);
    std::shared_ptr<T> old;
    std::lock_guard lk(mu_);
    old = std::move(strong_);
  }

 private:
  std::shared_ptr<void> release() override {
    std::lock_guard lk(mu_);
    return std::move(strong_);
  }

  open_file_cache& cache_;
  mutable std::mutex mu_;  // guards the two pointers only; never held across a call
  std::shared_ptr<T> strong_;
  std::weak_ptr<T> weak_;
};

// The process-wide caches.
open_file_cache& log_file_cache();
open_file_cache& index_cache();

struct file_budgets {
  size_t open_files = 0;  // descriptors storage may keep open (logs + indexes)
  size_t index_maps = 0;  // index mappings storage may keep
};
// The defaults: open files = RLIMIT_NOFILE (soft) minus a reserve for connections,
// descriptors users hold past eviction (a fetch holds one per partition it returns until
// the response is sent) and everything else, max(256, limit / 2); index maps = vm.max_map_count / 2 (the rest is
// for the allocator, thread stacks and libraries). See storage/README.md.
file_budgets default_file_budgets();
// Splits the budgets between the caches: half of the descriptors for .log files, the
// other half for index pairs (two descriptors each), which also get at most
// index_maps / 2 pairs. Zero fields take the defaults.
void set_file_budgets(file_budgets b);

}  // namespace strata::storage
