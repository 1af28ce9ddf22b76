#include "storage/log_manager.h"

#include <sys/file.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>

#include "storage/checkpoint_file.h"
#include "storage/file_names.h"

namespace strata::storage {
namespace {

std::string random_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string out(32, '0');
  for (auto& c : out) c = hex[rng() % 16];
  return out;
}

}  // namespace

log_manager::log_manager(log_manager_options cfg) : cfg_(std::move(cfg)), fs_(*cfg_.fs) {
  flusher_.set_max_threads(cfg_.flush_threads);
  for (const auto& d : cfg_.log_dirs) dirs_.push_back({d, nullptr});
}

log_manager::~log_manager() {
  stop_threads();
  // Logs may outlive the manager (the broker holds them): stop them calling back into it.
  for (auto& lg : all_logs()) {
    lg->set_flush_scheduler({});
    lg->set_failure_listener({});
  }
}

int64_t log_manager::now_ms() const {
  if (cfg_.clock_ms) return cfg_.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::error_code log_manager::lock_dir(dir_state& d, bool* locked_by_other) {
  *locked_by_other = false;
  auto f = fs_.open(d.path + "/" + std::string(kLockFile), fs::open_mode::read_write_create);
  if (!f) return f.error();
  if (::flock(f.value()->fd(), LOCK_EX | LOCK_NB) != 0) {
    spdlog::error("storage: log directory {} is locked by another process", d.path);
    *locked_by_other = true;
    return make_error_code(errc::io_error);
  }
  d.lock = std::move(f).value();
  return {};
}

void log_manager::wire(const std::shared_ptr<log>& lg) {
  std::weak_ptr<log> weak = lg;
  lg->set_flush_scheduler([this, weak] {
    if (auto l = weak.lock()) {
      int64_t leo = l->log_end_offset();
      flusher_.flush_then(std::move(l), leo, {});
    }
  });
  lg->set_failure_listener(
      [this](const log& l, std::error_code ec, const std::string& what) { on_log_failure(l, ec, what); });
}

void log_manager::set_dir_failure_handler(std::function<void(const dir_failure&)> fn) {
  std::lock_guard lk(mu_);
  on_dir_failure_ = std::move(fn);
}

void log_manager::on_log_failure(const log& lg, std::error_code ec, const std::string& what) {
  for (size_t i = 0; i < dirs_.size(); ++i) {
    const std::string& p = dirs_[i].path;
    if (lg.dir().size() > p.size() && lg.dir().compare(0, p.size(), p) == 0 && lg.dir()[p.size()] == '/') {
      take_dir_offline(i, fmt::format("{} of {}-{} failed: {}", what, lg.topic(), lg.partition(), ec.message()));
      return;
    }
  }
}

bool log_manager::fail_dir(const std::string& dir, const std::string& reason) {
  for (size_t i = 0; i < dirs_.size(); ++i)
    if (dirs_[i].path == dir) return take_dir_offline(i, reason);
  return false;
}

bool log_manager::take_dir_offline(size_t dir, const std::string& reason) {
  dir_failure f;
  f.dir = dirs_[dir].path;
  f.reason = reason;
  std::vector<std::shared_ptr<log>> victims;
  std::function<void(const dir_failure&)> handler;
  {
    std::lock_guard lk(mu_);
    if (!dirs_[dir].offline.empty()) return false;  // one report per directory
    dirs_[dir].offline = reason;
    const std::string why = fmt::format("log directory {} is offline: {}", f.dir, reason);
    for (auto it = logs_.begin(); it != logs_.end();) {
      if (it->second.dir != dir) {
        ++it;
        continue;
      }
      victims.push_back(it->second.lg);
      offline_[it->first] = {why, dir, it->second.lg->dir()};
      f.partitions.push_back(it->first);
      it = logs_.erase(it);
    }
    size_t online = 0;
    for (const auto& d : dirs_) online += d.offline.empty() ? 1 : 0;
    f.all_offline = online == 0;
    handler = on_dir_failure_;
  }
  // Every log of the directory stops at once: whatever else it holds is not to be
  // trusted either (Kafka takes the whole directory offline).
  for (auto& v : victims) {
    v->take_offline();
    // They leave the manager (and may outlive it in a partition): no more calls back.
    v->set_flush_scheduler({});
    v->set_failure_listener({});
  }
  spdlog::error("storage: log directory {} is offline with its {} partition(s): {}", f.dir, f.partitions.size(),
                reason);
  if (handler) handler(f);
  return true;
}

std::vector<log_manager::dir_status> log_manager::dirs() const {
  std::lock_guard lk(mu_);
  std::vector<dir_status> out;
  for (const auto& d : dirs_) out.push_back({d.path, d.offline});
  return out;
}

std::string log_manager::dir_of(const std::string& topic, int32_t partition) const {
  std::lock_guard lk(mu_);
  if (auto it = logs_.find({topic, partition}); it != logs_.end()) return dirs_[it->second.dir].path;
  if (auto it = offline_.find({topic, partition}); it != offline_.end() && it->second.dir < dirs_.size())
    return dirs_[it->second.dir].path;
  return {};
}

open_all_result log_manager::open_all(
    std::function<log_config(const std::string& topic)> config_for) {
  open_all_result out;
  auto fail = [&out](std::error_code ec) {
    out.error = ec;
    return out;
  };
  struct job {
    size_t dir;
    std::string topic;
    int32_t partition;
    log_open_options opts;
    std::optional<int64_t> cleaned_to;  // cleaner-offset-checkpoint
    std::shared_ptr<log> result;
    std::error_code error;
  };
  std::vector<job> jobs;
  const int64_t now = now_ms();
  for (size_t di = 0; di < dirs_.size(); ++di) {
    auto& d = dirs_[di];
    // A directory that cannot be created, read or prepared goes offline with every
    // partition in it (KIP-112); the other directories are served.
    auto dir_offline = [&](std::string_view what, std::error_code ec) {
      d.offline = fmt::format("{} {}: {}", what, d.path, ec.message());
      spdlog::error("storage: log directory {} is offline: {}", d.path, d.offline);
      out.offline_dirs++;
    };
    if (auto ec = fs_.create_dirs(d.path)) {
      dir_offline("cannot create", ec);
      continue;
    }
    if (!d.lock) {
      // Another broker owning the directory is a configuration error, not damage; a
      // lock file that cannot be opened (a failed disk) is damage.
      bool other = false;
      if (auto ec = lock_dir(d, &other)) {
        if (other) return fail(ec);
        dir_offline("cannot open the lock file in", ec);
        continue;
      }
    }
    const std::string marker = d.path + "/" + std::string(kCleanShutdownMarker);
    const bool clean = fs_.exists(marker);
    auto rps = read_offset_checkpoint(fs_, d.path + "/" + std::string(kRecoveryPointCheckpoint));
    auto starts = read_offset_checkpoint(fs_, d.path + "/" + std::string(kLogStartOffsetCheckpoint));
    auto hws = read_offset_checkpoint(fs_, d.path + "/" + std::string(kReplicationOffsetCheckpoint));
    if (!rps) spdlog::warn("storage: {}: unreadable recovery-point checkpoint, recovering all", d.path);
    if (!starts) spdlog::warn("storage: {}: unreadable log-start-offset checkpoint", d.path);
    auto cleaned = read_offset_checkpoint(fs_, d.path + "/" + std::string(kCleanerOffsetCheckpoint));
    if (!cleaned) spdlog::warn("storage: {}: unreadable cleaner-offset checkpoint, compacted logs are cleaned again", d.path);
    // Delete the marker before touching any log: a crash from here on must be seen as
    // one by the next start (DESIGN-NOTES §5.1).
    if (clean) {
      if (auto ec = fs_.remove(marker)) {
        dir_offline("cannot remove the clean-shutdown marker in", ec);
        continue;
      }
      if (auto ec = fs_.sync_dir(d.path)) {
        dir_offline("cannot sync", ec);
        continue;
      }
    }
    auto listing = fs_.list_dir(d.path);
    if (!listing) {
      dir_offline("cannot list", listing.error());
      continue;
    }
    for (const auto& e : listing.value()) {
      if (!e.is_dir) continue;
      if (ends_with(e.name, kDeleteDirSuffix)) {
        std::lock_guard lk(mu_);
        pending_deletes_.push_back(d.path + "/" + e.name);
        continue;
      }
      auto tp = parse_partition_dir_name(e.name);
      if (!tp) continue;
      job j;
      j.dir = di;
      j.topic = tp->first;
      j.partition = tp->second;
      j.opts.fs = &fs_;
      j.opts.dir = d.path + "/" + e.name;
      j.opts.topic = tp->first;
      j.opts.partition = tp->second;
      j.opts.config = config_for ? config_for(tp->first) : cfg_.default_config;
      j.opts.clean_shutdown = clean && rps.has_value();
      j.opts.now_ms = now;
      if (rps) {
        auto it = rps.value().find(*tp);
        j.opts.recovery_point = it == rps.value().end() ? 0 : it->second;
        if (it == rps.value().end()) j.opts.clean_shutdown = false;
      }
      if (starts) {
        auto it = starts.value().find(*tp);
        if (it != starts.value().end()) j.opts.log_start_offset = it->second;
      }
      if (hws) {
        auto it = hws.value().find(*tp);
        if (it != hws.value().end()) j.opts.high_watermark = it->second;
      }
      if (cleaned) {
        auto it = cleaned.value().find(*tp);
        if (it != cleaned.value().end()) j.cleaned_to = it->second;
      }
      jobs.push_back(std::move(j));
    }
  }

  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      auto r = log::open(jobs[i].opts);
      if (r) jobs[i].result = std::move(r).value(); else jobs[i].error = r.error();
    }
  };
  std::vector<std::thread> pool;
  int threads = std::max(1, std::min<int>(cfg_.recovery_threads, int(jobs.size())));
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  size_t online_dirs = 0;
  for (const auto& d : dirs_) online_dirs += d.offline.empty() ? 1 : 0;
  if (online_dirs == 0) return fail(make_error_code(errc::io_error));  // nothing to serve (Kafka halts too)

  std::lock_guard lk(mu_);
  for (auto& j : jobs) {
    if (j.error) {
      // Once, at startup; the partition stays offline until the next start.
      std::string reason = fmt::format("cannot open log {}: {}", j.opts.dir, j.error.message());
      spdlog::error("storage: partition {}-{} is offline: {}", j.topic, j.partition, reason);
      offline_[{j.topic, j.partition}] = {std::move(reason), j.dir, j.opts.dir};
      out.offline++;
      continue;
    }
    out.logs++;
    if (j.result->was_recovered()) out.recovered++;
    if (j.cleaned_to) j.result->restore_first_dirty_offset(*j.cleaned_to);
    wire(j.result);
    logs_[{j.topic, j.partition}] = {std::move(j.result), j.dir};
  }
  spdlog::info("storage: opened {} partition logs in {} directories ({} recovered, {} offline, {} offline "
               "directories)",
               out.logs, dirs_.size(), out.recovered, out.offline, out.offline_dirs);
  return out;
}

void log_manager::start() {
  flusher_.start();
  std::lock_guard lk(sched_mu_);
  if (scheduler_.joinable()) return;
  sched_stop_ = false;
  scheduler_ = std::thread([this] { scheduler_loop(); });
  if (cfg_.cleaner_enable) cleaner_ = std::thread([this] { cleaner_loop(); });
}

void log_manager::stop_threads() {
  {
    std::lock_guard lk(sched_mu_);
    sched_stop_ = true;
  }
  sched_cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  if (cleaner_.joinable()) cleaner_.join();
  flusher_.stop();
}

void log_manager::cleaner_loop() {
  const auto backoff = std::chrono::milliseconds(std::max<int64_t>(cfg_.cleaner_backoff_ms, 1));
  std::unique_lock lk(sched_mu_);
  while (!sched_stop_) {
    if (sched_cv_.wait_for(lk, backoff, [&] { return sched_stop_; })) break;
    lk.unlock();
    run_cleaner();
    lk.lock();
  }
}

size_t log_manager::run_cleaner() {
  size_t cleaned = 0;
  for (auto& lg : all_logs()) {
    if (!lg->config().compact) continue;
    {
      std::lock_guard lk(sched_mu_);
      if (sched_stop_) break;  // shutting down: the logs are about to close
    }
    auto r = lg->clean(now_ms(), cfg_.cleaner_dedupe_buffer_bytes);
    if (!r) {
      spdlog::warn("storage: cleaning {}-{} failed: {}", lg->topic(), lg->partition(), r.error().message());
    } else if (r.value()) {
      ++cleaned;
    }
  }
  if (cleaned > 0) {
    if (auto ec = checkpoint_cleaner_offsets()) spdlog::warn("storage: cleaner-offset checkpoint failed: {}", ec.message());
  }
  return cleaned;
}

void log_manager::scheduler_loop() {
  using clock = std::chrono::steady_clock;
  auto ms = [](int64_t v) { return std::chrono::milliseconds(std::max<int64_t>(v, 1)); };
  auto next_retention = clock::now() + ms(cfg_.retention_check_interval_ms);
  auto next_flush = clock::now() + ms(cfg_.flush_check_interval_ms);
  auto next_rp = clock::now() + ms(cfg_.recovery_point_checkpoint_interval_ms);
  auto next_ls = clock::now() + ms(cfg_.log_start_offset_checkpoint_interval_ms);
  auto next_hw = clock::now() + ms(cfg_.high_watermark_checkpoint_interval_ms);
  std::unique_lock lk(sched_mu_);
  while (!sched_stop_) {
    auto wake = std::min({next_retention, next_flush, next_rp, next_ls, next_hw});
    sched_cv_.wait_until(lk, wake, [&] {
      std::lock_guard g(mu_);
      return sched_stop_ || !pending_deletes_.empty();
    });
    if (sched_stop_) break;
    lk.unlock();
    delete_pending_dirs();
    auto now = clock::now();
    if (now >= next_retention) {
      run_retention();
      next_retention = now + ms(cfg_.retention_check_interval_ms);
    }
    if (now >= next_flush) {
      flush_due_logs();
      next_flush = now + ms(cfg_.flush_check_interval_ms);
    }
    if (now >= next_rp) {
      if (auto ec = checkpoint_recovery_points()) {
        spdlog::warn("storage: recovery-point checkpoint failed: {}", ec.message());
      }
      next_rp = now + ms(cfg_.recovery_point_checkpoint_interval_ms);
    }
    if (now >= next_ls) {
      if (auto ec = checkpoint_log_start_offsets()) {
        spdlog::warn("storage: log-start-offset checkpoint failed: {}", ec.message());
      }
      next_ls = now + ms(cfg_.log_start_offset_checkpoint_interval_ms);
    }
    if (now >= next_hw) {
      if (auto ec = checkpoint_high_watermarks()) spdlog::warn("storage: high-watermark checkpoint failed: {}", ec.message());
      next_hw = now + ms(cfg_.high_watermark_checkpoint_interval_ms);
    }
    lk.lock();
  }
}

std::shared_ptr<log> log_manager::get(const std::string& topic, int32_t partition) const {
  std::lock_guard lk(mu_);
  auto it = logs_.find({topic, partition});
  return it == logs_.end() ? nullptr : it->second.lg;
}

result<std::shared_ptr<log>> log_manager::get_or_create(const std::string& topic,
                                                        int32_t partition,
                                                        const log_config& cfg, bool is_new) {
  std::lock_guard lk(mu_);
  if (auto it = logs_.find({topic, partition}); it != logs_.end()) return it->second.lg;
  if (offline_.count({topic, partition})) return make_error_code(errc::log_offline);
  if (dirs_.empty()) return make_error_code(errc::not_found);
  std::vector<size_t> counts(dirs_.size(), 0);
  for (const auto& [_, e] : logs_) counts[e.dir]++;
  size_t dir = dirs_.size();
  bool any_offline = false;
  for (size_t i = 0; i < dirs_.size(); ++i) {
    if (!dirs_[i].offline.empty()) {
      any_offline = true;
      continue;
    }
    if (dir == dirs_.size() || counts[i] < counts[dir]) dir = i;
  }
  // A partition the metadata had may live in the offline directory: creating an empty
  // one elsewhere would hide its data (and give two copies once the directory is back).
  if (dir == dirs_.size() || (!is_new && any_offline)) {
    if (!is_new) {
      std::string why;
      for (const auto& d : dirs_)
        if (!d.offline.empty()) why += (why.empty() ? "" : "; ") + d.offline;
      offline_[{topic, partition}] = {"log directory offline: " + why, dirs_.size(), ""};
    }
    return make_error_code(errc::log_offline);
  }
  log_open_options o;
  o.fs = &fs_;
  o.dir = dirs_[dir].path + "/" + partition_dir_name(topic, partition);
  o.topic = topic;
  o.partition = partition;
  o.config = cfg;
  o.now_ms = now_ms();
  // What a failed creation leaves behind is removed, so a later creation starts clean;
  // something that was there before (a file in the way, an old directory) is left alone.
  const bool existed = fs_.exists(o.dir);
  // It is renamed to a -delete directory (a rename needs no file descriptor, so this
  // works out of descriptors too) and removed in the background, or at the next start.
  auto undo = [&](std::error_code ec) -> result<std::shared_ptr<log>> {
    if (!existed && fs_.exists(o.dir)) {
      std::string target = dirs_[dir].path + "/" + partition_dir_name(topic, partition) + "." + random_id() +
                           std::string(kDeleteDirSuffix);
      if (auto rn = fs_.rename(o.dir, target)) {
        spdlog::warn("storage: cannot remove {} after a failed creation: {}", o.dir, rn.message());
      } else {
        pending_deletes_.push_back(target);
        (void)fs_.sync_dir(dirs_[dir].path);
      }
    }
    return ec;
  };
  auto lg = log::open(o);
  if (!lg) return undo(lg.error());
  if (auto ec = fs_.sync_dir(dirs_[dir].path)) {
    (void)lg.value()->close();
    return undo(ec);
  }
  wire(lg.value());
  logs_[{topic, partition}] = {lg.value(), dir};
  return lg;
}

std::string log_manager::offline_reason(const std::string& topic, int32_t partition) const {
  std::lock_guard lk(mu_);
  auto it = offline_.find({topic, partition});
  return it == offline_.end() ? std::string() : it->second.reason;
}

std::vector<int32_t> log_manager::partitions_of(const std::string& topic) const {
  std::lock_guard lk(mu_);
  std::vector<int32_t> out;
  for (auto it = logs_.lower_bound({topic, INT32_MIN}); it != logs_.end() && it->first.first == topic; ++it)
    out.push_back(it->first.second);
  for (auto it = offline_.lower_bound({topic, INT32_MIN}); it != offline_.end() && it->first.first == topic; ++it)
    out.push_back(it->first.second);
  return out;
}

size_t log_manager::offline_count() const {
  std::lock_guard lk(mu_);
  return offline_.size();
}

std::error_code log_manager::delete_partition(const std::string& topic, int32_t partition) {
  std::shared_ptr<log> lg;
  size_t dir;
  {
    std::lock_guard lk(mu_);
    auto it = logs_.find({topic, partition});
    if (it == logs_.end()) {
      auto off = offline_.find({topic, partition});
      if (off == offline_.end()) return make_error_code(errc::not_found);
      offline_entry gone = off->second;
      offline_.erase(off);
      // Its directory (when known and its log dir is online) goes the way of a deleted
      // partition's, so a later topic of the same name starts empty.
      if (gone.path.empty() || gone.dir >= dirs_.size() || !dirs_[gone.dir].offline.empty() ||
          !fs_.exists(gone.path))
        return {};
      std::string target = dirs_[gone.dir].path + "/" + partition_dir_name(topic, partition) + "." + random_id() +
                           std::string(kDeleteDirSuffix);
      if (auto ec = fs_.rename(gone.path, target)) return ec;
      pending_deletes_.push_back(target);
      return fs_.sync_dir(dirs_[gone.dir].path);
    }
    lg = it->second.lg;
    dir = it->second.dir;
    logs_.erase(it);
  }
  lg->mark_deleted();
  std::string target = dirs_[dir].path + "/" + partition_dir_name(topic, partition) + "." +
                       random_id() + std::string(kDeleteDirSuffix);
  if (auto ec = fs_.rename(lg->dir(), target)) return ec;
  lg.reset();  // its files close now unless a reader still holds it
  {
    // Renamed is as good as gone: it is removed even if the sync below fails.
    std::lock_guard lk(mu_);
    pending_deletes_.push_back(target);
  }
  { std::lock_guard g(sched_mu_); }  // no lost wake-up between the predicate and the wait
  sched_cv_.notify_all();
  return fs_.sync_dir(dirs_[dir].path);
}

void log_manager::delete_pending_dirs() {
  std::vector<std::string> todo;
  {
    std::lock_guard lk(mu_);
    todo.swap(pending_deletes_);
  }
  for (const auto& d : todo) {
    if (auto ec = fs_.remove_all(d)) {
      spdlog::warn("storage: removing {} failed: {}", d, ec.message());
    }
  }
}

void log_manager::update_config(const std::string& topic, const log_config& cfg) {
  std::vector<std::shared_ptr<log>> targets;
  {
    std::lock_guard lk(mu_);
    for (const auto& [k, e] : logs_) {
      if (k.first == topic) targets.push_back(e.lg);
    }
  }
  for (auto& lg : targets) lg->set_config(cfg);
}

std::vector<std::shared_ptr<log>> log_manager::all_logs() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<log>> out;
  out.reserve(logs_.size());
  for (const auto& [_, e] : logs_) out.push_back(e.lg);
  return out;
}

void log_manager::flush_then(std::shared_ptr<log> lg, int64_t last_offset,
                             std::function<void(std::error_code)> done) {
  flusher_.flush_then(std::move(lg), last_offset + 1, std::move(done));
}

size_t log_manager::run_retention() {
  size_t total = 0;
  const int64_t now = now_ms();
  for (auto& lg : all_logs()) {
    auto r = lg->delete_old_segments(now);
    if (r) {
      total += r.value();
    } else {
      spdlog::warn("storage: retention on {}-{} failed: {}", lg->topic(), lg->partition(),
                   r.error().message());
    }
  }
  return total;
}

void log_manager::flush_due_logs() {
  const int64_t now = now_ms();
  for (auto& lg : all_logs()) {
    if (auto ec = lg->flush_if_due(now)) {
      spdlog::warn("storage: flush of {}-{} failed: {}", lg->topic(), lg->partition(), ec.message());
    }
  }
}

std::error_code log_manager::write_offsets(std::string_view file, std::optional<int64_t> (*value)(const log&)) {
  std::vector<offset_map> per_dir(dirs_.size());
  std::vector<bool> offline(dirs_.size());
  {
    std::lock_guard lk(mu_);
    for (const auto& [k, e] : logs_) {
      if (auto v = value(*e.lg)) per_dir[e.dir][k] = *v;
    }
    for (size_t i = 0; i < dirs_.size(); ++i) offline[i] = !dirs_[i].offline.empty();
  }
  std::error_code first;
  for (size_t i = 0; i < dirs_.size(); ++i) {
    if (offline[i]) continue;  // not written until it is back (next start)
    auto ec = write_offset_checkpoint(fs_, dirs_[i].path + "/" + std::string(file), per_dir[i]);
    if (ec && !first) first = ec;
    // The directory no longer takes writes (Kafka's LogDirFailureChannel); a full
    // disk is not a failure of it.
    if (ec && ec != errc::no_space)
      take_dir_offline(i, fmt::format("writing {} failed: {}", file, ec.message()));
  }
  return first;
}

std::error_code log_manager::checkpoint_recovery_points() {
  return write_offsets(kRecoveryPointCheckpoint,
                       [](const log& l) -> std::optional<int64_t> { return l.recovery_point(); });
}

std::error_code log_manager::checkpoint_high_watermarks() {
  return write_offsets(kReplicationOffsetCheckpoint,
                       [](const log& l) -> std::optional<int64_t> { return l.high_watermark(); });
}

std::error_code log_manager::checkpoint_log_start_offsets() {
  return write_offsets(kLogStartOffsetCheckpoint,
                       [](const log& l) -> std::optional<int64_t> { return l.log_start_offset(); });
}

std::error_code log_manager::checkpoint_cleaner_offsets() {
  return write_offsets(kCleanerOffsetCheckpoint, [](const log& l) -> std::optional<int64_t> {
    if (!l.config().compact) return std::nullopt;
    return l.first_dirty_offset();
  });
}

std::error_code log_manager::shutdown() {
  if (shut_down_) return {};
  shut_down_ = true;
  stop_threads();
  delete_pending_dirs();

  std::error_code first;
  for (auto& lg : all_logs()) {
    if (auto ec = lg->close()) {
      spdlog::error("storage: closing {}-{} failed: {}", lg->topic(), lg->partition(), ec.message());
      if (!first) first = ec;
    }
  }
  if (auto ec = checkpoint_recovery_points(); ec && !first) first = ec;
  if (auto ec = checkpoint_log_start_offsets(); ec && !first) first = ec;
  if (auto ec = checkpoint_high_watermarks(); ec && !first) first = ec;
  if (auto ec = checkpoint_cleaner_offsets(); ec && !first) first = ec;
  for (const auto& st : dirs()) {
    auto& d = *std::find_if(dirs_.begin(), dirs_.end(), [&](const dir_state& x) { return x.path == st.path; });
    if (!first && st.offline.empty()) {
      // The marker goes last: it vouches for everything written before it.
      auto f = fs_.open(d.path + "/" + std::string(kCleanShutdownMarker),
                        fs::open_mode::read_write_create);
      if (!f) {
        first = f.error();
      } else if (auto ec = f.value()->datasync()) {
        first = ec;
      } else if (auto ec2 = fs_.sync_dir(d.path)) {
        first = ec2;
      }
    }
    d.lock.reset();
  }
  // A directory that went offline holds logs that were never closed cleanly: say so
  // (the healthy ones got their markers above).
  if (!first) {
    for (const auto& st : dirs())
      if (!st.offline.empty()) first = make_error_code(errc::log_offline);
  }
  spdlog::info("storage: shut down {} partition logs{}", all_logs().size(),
               first ? " (unclean: " + first.message() + ")" : "");
  return first;
}

}  // namespace strata::storage
