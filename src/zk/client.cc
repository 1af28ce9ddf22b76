#include "zk/client.h"

#include <zookeeper/zookeeper.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

namespace strata::zk {
namespace {

using clock = std::chrono::steady_clock;

// The C client logs every disconnect as ZOO_ERROR; our own session events say
// the same once, at the right level, so its lines go to debug.
void c_client_log(const char* message) { spdlog::debug("zk client: {}", message); }

void set_c_client_log_level_once() {
  static std::once_flag once;
  std::call_once(once, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
}

node_stat to_node_stat(const Stat* s) {
  node_stat n;
  if (s == nullptr) return n;
  n.czxid = s->czxid;
  n.mzxid = s->mzxid;
  n.ctime = s->ctime;
  n.mtime = s->mtime;
  n.version = s->version;
  n.cversion = s->cversion;
  n.aversion = s->aversion;
  n.ephemeral_owner = s->ephemeralOwner;
  n.data_length = s->dataLength;
  n.num_children = s->numChildren;
  n.pzxid = s->pzxid;
  return n;
}

int to_c_mode(create_mode m) {
  switch (m) {
    case create_mode::persistent: return ZOO_PERSISTENT;
    case create_mode::ephemeral: return ZOO_EPHEMERAL;
    case create_mode::persistent_sequential: return ZOO_PERSISTENT_SEQUENTIAL;
    case create_mode::ephemeral_sequential: return ZOO_EPHEMERAL_SEQUENTIAL;
  }
  return ZOO_PERSISTENT;
}

std::optional<watch_event> to_watch_event(int type) {
  if (type == ZOO_CREATED_EVENT) return watch_event::created;
  if (type == ZOO_DELETED_EVENT) return watch_event::deleted;
  if (type == ZOO_CHANGED_EVENT) return watch_event::data_changed;
  if (type == ZOO_CHILD_EVENT) return watch_event::children_changed;
  if (type == ZOO_NOTWATCHING_EVENT) return watch_event::not_watching;
  return std::nullopt;
}

// One request in flight. Shared by the caller, who may stop waiting at its
// deadline, and the C client's completion, which may come later (or at
// zookeeper_close, with ZCLOSING). Whoever finishes last frees it.
struct pending {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  int rc = ZOK;
  std::string value;  // create: the path; get: the data
  node_stat stat;
  std::vector<std::string> children;
  // multi(): the C client reads and writes these until the completion runs.
  std::vector<std::string> paths;
  std::vector<std::optional<std::string>> datas;
  std::vector<zoo_op_t> ops;
  std::vector<zoo_op_result_t> results;
  std::vector<std::vector<char>> path_bufs;
  std::vector<Stat> stats;

  void finish(int r) {
    std::lock_guard lk(m);
    rc = r;
    done = true;
    cv.notify_all();
  }
};
using pending_ptr = std::shared_ptr<pending>;

// The `data` pointer handed to the C client: a heap copy of the shared_ptr,
// freed by the completion (or by us when the submission itself failed).
const void* hand_off(const pending_ptr& p) { return new pending_ptr(p); }
pending_ptr take_back(const void* data) {
  std::unique_ptr<pending_ptr> holder(static_cast<pending_ptr*>(const_cast<void*>(data)));
  return *holder;
}

void on_string(int rc, const char* value, const void* data) {
  auto p = take_back(data);
  if (rc == ZOK && value != nullptr) {
    std::lock_guard lk(p->m);
    p->value = value;
  }
  p->finish(rc);
}
void on_data(int rc, const char* value, int len, const Stat* stat, const void* data) {
  auto p = take_back(data);
  if (rc == ZOK) {
    std::lock_guard lk(p->m);
    if (value != nullptr && len > 0) p->value.assign(value, static_cast<size_t>(len));
    p->stat = to_node_stat(stat);
  }
  p->finish(rc);
}
void on_stat(int rc, const Stat* stat, const void* data) {
  auto p = take_back(data);
  if (rc == ZOK) {
    std::lock_guard lk(p->m);
    p->stat = to_node_stat(stat);
  }
  p->finish(rc);
}
void on_strings(int rc, const String_vector* strings, const void* data) {
  auto p = take_back(data);
  if (rc == ZOK && strings != nullptr) {
    std::lock_guard lk(p->m);
    for (int32_t i = 0; i < strings->count; ++i) p->children.emplace_back(strings->data[i]);
  }
  p->finish(rc);
}
void on_void(int rc, const void* data) { take_back(data)->finish(rc); }

// A short-lived handle for bootstrap work (creating the chroot, expiring a
// session for tests): connects, waits for the session within a deadline.
class scratch_handle {
 public:
  scratch_handle(const std::string& hosts, int timeout_ms, const clientid_t* cid) {
    zh_ = zookeeper_init2(hosts.c_str(), &scratch_handle::watcher, timeout_ms, cid, this, 0, c_client_log);
  }
  ~scratch_handle() {
    if (zh_ != nullptr) zookeeper_close(zh_);
  }
  scratch_handle(const scratch_handle&) = delete;
  scratch_handle& operator=(const scratch_handle&) = delete;

  bool wait_connected(clock::time_point deadline) { return wait_settled(deadline) == ZOO_CONNECTED_STATE; }
  // Waits until the handle has been connected once or was told the session
  // expired (sticky, so a connect followed at once by a drop still counts).
  // Returns ZOO_EXPIRED_SESSION_STATE, ZOO_CONNECTED_STATE, or 0 at the deadline.
  int wait_settled(clock::time_point deadline) {
    if (zh_ == nullptr) return 0;
    std::unique_lock lk(m_);
    cv_.wait_until(lk, deadline, [&] { return connected_once_ || expired_; });
    return expired_ ? ZOO_EXPIRED_SESSION_STATE : connected_once_ ? ZOO_CONNECTED_STATE : 0;
  }
  zhandle_t* get() { return zh_; }

 private:
  static void watcher(zhandle_t* zh, int type, int state, const char*, void*) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<scratch_handle*>(const_cast<void*>(zoo_get_context(zh)));
    std::lock_guard lk(self->m_);
    self->connected_once_ |= state == ZOO_CONNECTED_STATE;
    self->expired_ |= state == ZOO_EXPIRED_SESSION_STATE;
    self->cv_.notify_all();
  }
  zhandle_t* zh_ = nullptr;
  std::mutex m_;
  std::condition_variable cv_;
  bool connected_once_ = false;
  bool expired_ = false;
};

}  // namespace

std::optional<connect_string> parse_connect_string(std::string_view s) {
  connect_string out;
  auto slash = s.find('/');
  out.hosts = std::string(s.substr(0, slash));
  if (slash != std::string_view::npos) {
    std::string chroot(s.substr(slash));
    while (chroot.size() > 1 && chroot.back() == '/') chroot.pop_back();
    if (chroot.find("//") != std::string::npos) return std::nullopt;
    if (chroot != "/") out.chroot = chroot;
  }
  if (out.hosts.empty()) return std::nullopt;
  return out;
}

const char* to_string(watch_event e) {
  switch (e) {
    case watch_event::created: return "created";
    case watch_event::deleted: return "deleted";
    case watch_event::data_changed: return "data_changed";
    case watch_event::children_changed: return "children_changed";
    case watch_event::not_watching: return "not_watching";
  }
  return "?";
}

const char* to_string(session_state s) {
  switch (s) {
    case session_state::connected: return "connected";
    case session_state::disconnected: return "disconnected";
    case session_state::expired: return "expired";
    case session_state::new_session: return "new_session";
  }
  return "?";
}

op op::create(std::string path, std::optional<std::string> data, create_mode m) {
  op o;
  o.type = kind::create;
  o.path = std::move(path);
  o.data = std::move(data);
  o.mode = m;
  return o;
}
op op::set(std::string path, std::string data, int32_t version) {
  op o;
  o.type = kind::set;
  o.path = std::move(path);
  o.data = std::move(data);
  o.version = version;
  return o;
}
op op::remove(std::string path, int32_t version) {
  op o;
  o.type = kind::remove;
  o.path = std::move(path);
  o.version = version;
  return o;
}
op op::check(std::string path, int32_t version) {
  op o;
  o.type = kind::check;
  o.path = std::move(path);
  o.version = version;
  return o;
}

// ---------------------------------------------------------------------------

struct client::impl {
  // The context of one zhandle_t: which client, and which generation of its
  // session (events from a handle we already replaced are ignored).
  struct handle_ctx {
    impl* self;
    uint64_t generation;
  };

  explicit impl(client_options o) : opts(std::move(o)) {}

  client_options opts;
  connect_string cs;

  // Guards the handle and session state. Never held while calling into user
  // code or zookeeper_close (which joins the C client's threads).
  mutable std::mutex mu;
  std::condition_variable state_cv;
  zhandle_t* zh = nullptr;
  std::unique_ptr<handle_ctx> ctx;
  uint64_t generation = 0;
  bool replacement = false;      // the current handle replaces an expired session
  bool seen_connected = false;   // the current handle has been connected once
  bool is_connected = false;
  bool closed = false;
  int64_t session = 0;
  int negotiated_ms = 0;

  // The C client's connection state as its watcher reports it, kept apart
  // from `mu` so its thread never waits on a lock held around C calls. Calls
  // wait on this (not on `is_connected`, which the event thread updates), so a
  // callback running on the event thread still sees a reconnection.
  std::mutex hint_mu;
  std::condition_variable hint_cv;
  uint64_t hint_generation = 0;
  bool hint_connected = false;
  bool hint_closed = false;

  void set_hint(uint64_t gen, std::optional<bool> connected, bool is_closed = false) {
    std::lock_guard lk(hint_mu);
    if (is_closed) hint_closed = true;
    if (connected && gen == hint_generation) hint_connected = *connected;
    hint_cv.notify_all();
  }

  // The event thread and its queue.
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<std::function<void()>> queue;
  bool stopping = false;
  std::thread events;
  std::thread::id events_id;

  std::mutex wmu;  // one-shot watches by id; the C client holds only the id
  std::unordered_map<uint64_t, watch_fn> watches;
  uint64_t next_watch = 1;

  std::mutex lmu;
  std::map<int, session_listener> listeners;
  int next_listener = 1;

  void post(std::function<void()> f) {
    std::lock_guard lk(qmu);
    if (stopping) return;
    queue.push_back(std::move(f));
    qcv.notify_one();
  }

  void run_events() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock lk(qmu);
        qcv.wait(lk, [&] { return stopping || !queue.empty(); });
        if (stopping) return;  // no user code runs once close() began
        f = std::move(queue.front());
        queue.pop_front();
      }
      f();
    }
  }

  void notify_listeners(session_state s) {
    std::vector<session_listener> ls;
    {
      std::lock_guard lk(lmu);
      for (auto& [id, l] : listeners) ls.push_back(l);
    }
    for (auto& l : ls) l(s);
  }

  // C client thread: the global watcher. Only queues.
  static void session_watcher(zhandle_t* zh, int type, int state, const char*, void*) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* c = static_cast<handle_ctx*>(const_cast<void*>(zoo_get_context(zh)));
    if (c == nullptr) return;
    impl* self = c->self;
    uint64_t gen = c->generation;
    self->set_hint(gen, state == ZOO_CONNECTED_STATE);
    self->post([self, gen, state] { self->on_session_event(gen, state); });
  }

  // C client thread: a one-shot node watch fired. Only queues.
  static void node_watcher(zhandle_t* zh, int type, int, const char* path, void* watch_ctx) {
    if (type == ZOO_SESSION_EVENT) return;  // session events go to the listeners
    auto* c = static_cast<handle_ctx*>(const_cast<void*>(zoo_get_context(zh)));
    auto ev = to_watch_event(type);
    if (c == nullptr || !ev) return;
    impl* self = c->self;
    auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(watch_ctx));
    std::string p = path != nullptr ? path : "";
    self->post([self, id, ev = *ev, p = std::move(p)] {
      watch_fn fn;
      {
        std::lock_guard lk(self->wmu);
        auto it = self->watches.find(id);
        if (it == self->watches.end()) return;
        fn = std::move(it->second);
        self->watches.erase(it);
      }
      fn(ev, p);
    });
  }

  // Event thread.
  void on_session_event(uint64_t gen, int state) {
    std::optional<session_state> ev;
    {
      std::lock_guard lk(mu);
      if (gen != generation || closed) return;
      if (state == ZOO_CONNECTED_STATE) {
        is_connected = true;
        if (const clientid_t* cid = zoo_client_id(zh)) session = cid->client_id;
        negotiated_ms = zoo_recv_timeout(zh);
        ev = (replacement && !seen_connected) ? session_state::new_session : session_state::connected;
        seen_connected = true;
      } else if (state == ZOO_EXPIRED_SESSION_STATE) {
        is_connected = false;
        ev = session_state::expired;
      } else if (state == ZOO_AUTH_FAILED_STATE) {
        is_connected = false;
        spdlog::error("zk: authentication failed for '{}'; the session is unusable", opts.connect);
      } else if (is_connected) {  // CONNECTING / ASSOCIATING / NOTCONNECTED
        is_connected = false;
        ev = session_state::disconnected;
      }
      state_cv.notify_all();
    }
    if (!ev) return;
    if (*ev == session_state::expired) {
      spdlog::warn("zk: session 0x{:x} expired at '{}'; starting a new session", session, opts.connect);
    } else if (*ev == session_state::disconnected) {
      spdlog::warn("zk: disconnected from '{}'; the C client is reconnecting", opts.connect);
    } else {
      spdlog::info("zk: {} to '{}', session 0x{:x}", to_string(*ev), opts.connect, session);
    }
    notify_listeners(*ev);
    if (*ev == session_state::expired) replace_session();
  }

  // Event thread: the expired handle is dead for good; open a new session.
  void replace_session() {
    zhandle_t* old = nullptr;
    std::unique_ptr<handle_ctx> old_ctx;
    {
      std::lock_guard lk(mu);
      if (closed) return;
      old = std::exchange(zh, nullptr);
      old_ctx = std::move(ctx);
      open_handle_locked(/*is_replacement=*/true);
    }
    {
      std::lock_guard lk(wmu);
      watches.clear();  // they belonged to the old session and will never fire
    }
    if (old != nullptr) zookeeper_close(old);
  }

  void open_handle_locked(bool is_replacement) {
    ++generation;
    {
      std::lock_guard lk(hint_mu);
      hint_generation = generation;
      hint_connected = false;
      hint_closed = false;
    }
    ctx = std::make_unique<handle_ctx>(handle_ctx{this, generation});
    replacement = is_replacement;
    seen_connected = false;
    is_connected = false;
    zh = zookeeper_init2(opts.connect.c_str(), &impl::session_watcher, static_cast<int>(opts.session_timeout.count()),
                         nullptr, ctx.get(), 0, c_client_log);
    if (zh == nullptr) spdlog::error("zk: zookeeper_init('{}') failed: {}", opts.connect, std::strerror(errno));
  }

  // Waits (bounded) for the C client to be connected. Call without `mu`.
  result<void> wait_connected(clock::time_point deadline, const std::string& what) {
    std::unique_lock lk(hint_mu);
    hint_cv.wait_until(lk, deadline, [&] { return hint_closed || hint_connected; });
    if (hint_closed) return error(errc::closing, what);
    if (!hint_connected) return error(errc::connection_loss, what + " (not connected to '" + opts.connect + "')");
    return success();
  }

  // Submits one async request and waits for its completion (bounded).
  template <class Submit>
  result<pending_ptr> call(const std::string& what, Submit submit, pending_ptr p = std::make_shared<pending>()) {
    auto deadline = clock::now() + opts.request_timeout;
    if (auto w = wait_connected(deadline, what); !w) return w.error();
    {
      std::lock_guard lk(mu);
      if (closed) return error(errc::closing, what);
      if (zh == nullptr) return error(errc::connection_loss, what + " (no session with '" + opts.connect + "')");
      const void* data = hand_off(p);
      // A connection lost since the check fails this request with ZCONNECTIONLOSS.
      int rc = submit(zh, data);
      if (rc != ZOK) {
        // Refused before it was queued: no completion will run.
        if (rc == ZBADARGUMENTS || rc == ZINVALIDSTATE) take_back(data);
        return error(from_zk_rc(rc), what);
      }
    }
    std::unique_lock plk(p->m);
    if (!p->cv.wait_until(plk, deadline, [&] { return p->done; })) {
      return error(errc::operation_timeout, what + " (no reply within " + std::to_string(opts.request_timeout.count()) + " ms)");
    }
    if (p->rc != ZOK) return error(from_zk_rc(p->rc), what);
    return p;
  }

  // A watch id for the C client, or 0 for no watch.
  uint64_t register_watch(watch_fn fn) {
    if (!fn) return 0;
    std::lock_guard lk(wmu);
    uint64_t id = next_watch++;
    watches.emplace(id, std::move(fn));
    return id;
  }
  void drop_watch(uint64_t id) {
    if (id == 0) return;
    std::lock_guard lk(wmu);
    watches.erase(id);
  }
  static void* watch_ctx(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }

  void shutdown() {
    zhandle_t* h = nullptr;
    {
      std::lock_guard lk(mu);
      if (closed) return;
      closed = true;
      is_connected = false;
      h = std::exchange(zh, nullptr);
      state_cv.notify_all();
    }
    set_hint(0, std::nullopt, /*is_closed=*/true);
    // Completions of requests in flight run now with ZCLOSING; the C client's
    // threads are joined before zookeeper_close returns.
    if (h != nullptr) zookeeper_close(h);
    {
      std::lock_guard lk(qmu);
      stopping = true;
      qcv.notify_all();
    }
    if (events.joinable()) events.join();
    std::lock_guard lk(wmu);
    watches.clear();
  }
};

client::client(client_options o) : impl_(std::make_unique<impl>(std::move(o))) {}

client::~client() { close(); }

void client::close() {
  if (impl_->events.joinable() && std::this_thread::get_id() == impl_->events_id) {
    spdlog::critical("zk: client::close() called from a zk callback; this would deadlock");
    std::abort();
  }
  impl_->shutdown();
}

const client_options& client::options() const { return impl_->opts; }

void client::connect() {
  auto& m = *impl_;
  set_c_client_log_level_once();
  auto cs = parse_connect_string(m.opts.connect);
  if (!cs) throw std::runtime_error("zk: malformed connect string '" + m.opts.connect + "'");
  m.cs = *cs;
  auto timeout_ms = m.opts.connection_timeout.count();
  auto no_answer = [&](const std::string& target) {
    return std::runtime_error("zk: no ZooKeeper server answered at '" + target + "' within " +
                              std::to_string(timeout_ms) + " ms (connection timeout)");
  };

  if (!m.cs.chroot.empty()) {
    // The chroot must exist before a handle rooted there can create anything.
    scratch_handle boot(m.cs.hosts, static_cast<int>(m.opts.session_timeout.count()), nullptr);
    if (!boot.wait_connected(clock::now() + m.opts.connection_timeout)) throw no_answer(m.opts.connect);
    const std::string& root = m.cs.chroot;
    for (size_t pos = 1; pos <= root.size(); ++pos) {
      if (pos < root.size() && root[pos] != '/') continue;
      std::string path = root.substr(0, pos);
      int rc = zoo_create(boot.get(), path.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
      if (rc != ZOK && rc != ZNODEEXISTS) {
        throw std::runtime_error("zk: cannot create chroot " + path + " at '" + m.cs.hosts + "': " + zerror(rc));
      }
    }
  }

  {
    std::lock_guard lk(m.qmu);
    m.stopping = false;
  }
  if (!m.events.joinable()) {
    m.events = std::thread([&m] { m.run_events(); });
    m.events_id = m.events.get_id();
  }
  std::unique_lock lk(m.mu);
  if (m.zh != nullptr) return;  // already connected
  m.closed = false;
  m.open_handle_locked(false);
  if (m.zh == nullptr) {
    lk.unlock();
    close();
    throw std::runtime_error("zk: cannot create a ZooKeeper handle for '" + m.opts.connect + "'");
  }
  if (!m.state_cv.wait_until(lk, clock::now() + m.opts.connection_timeout, [&] { return m.is_connected; })) {
    lk.unlock();
    close();
    throw no_answer(m.opts.connect);
  }
}

bool client::connected() const {
  std::lock_guard lk(impl_->hint_mu);
  return impl_->hint_connected && !impl_->hint_closed;
}

int64_t client::session_id() const {
  std::lock_guard lk(impl_->mu);
  return impl_->session;
}

std::chrono::milliseconds client::negotiated_session_timeout() const {
  std::lock_guard lk(impl_->mu);
  return std::chrono::milliseconds(impl_->negotiated_ms);
}

int client::add_session_listener(session_listener l) {
  std::lock_guard lk(impl_->lmu);
  int id = impl_->next_listener++;
  impl_->listeners.emplace(id, std::move(l));
  return id;
}

void client::remove_session_listener(int id) {
  std::lock_guard lk(impl_->lmu);
  impl_->listeners.erase(id);
}

result<std::string> client::create(const std::string& path, std::optional<std::string_view> data, create_mode mode) {
  auto r = impl_->call("create " + path, [&](zhandle_t* zh, const void* d) {
    return zoo_acreate(zh, path.c_str(), data ? data->data() : nullptr, data ? static_cast<int>(data->size()) : -1,
                       &ZOO_OPEN_ACL_UNSAFE, to_c_mode(mode), on_string, d);
  });
  if (!r) return r.error();
  return std::move(r.value()->value);
}

result<void> client::ensure_path(const std::string& path) {
  if (path.empty() || path == "/") return success();
  auto r = create(path, std::nullopt);
  if (r || r.error() == errc::node_exists) return success();
  if (r.error() != errc::no_node) return r.error();
  auto parent = path.substr(0, path.rfind('/'));
  if (auto p = ensure_path(parent); !p) return p.error();
  r = create(path, std::nullopt);
  if (r || r.error() == errc::node_exists) return success();
  return r.error();
}

result<node_data> client::get(const std::string& path, watch_fn watch) {
  uint64_t wid = impl_->register_watch(std::move(watch));
  auto r = impl_->call("get " + path, [&](zhandle_t* zh, const void* d) {
    if (wid == 0) return zoo_aget(zh, path.c_str(), 0, on_data, d);
    return zoo_awget(zh, path.c_str(), &impl::node_watcher, impl::watch_ctx(wid), on_data, d);
  });
  // The C client arms a data watch only on success.
  if (!r) {
    impl_->drop_watch(wid);
    return r.error();
  }
  return node_data{std::move(r.value()->value), r.value()->stat};
}

result<node_stat> client::set(const std::string& path, std::string_view data, int32_t version) {
  auto r = impl_->call("set " + path, [&](zhandle_t* zh, const void* d) {
    return zoo_aset(zh, path.c_str(), data.data(), static_cast<int>(data.size()), version, on_stat, d);
  });
  if (!r) return r.error();
  return r.value()->stat;
}

result<void> client::remove(const std::string& path, int32_t version) {
  auto r = impl_->call("delete " + path,
                       [&](zhandle_t* zh, const void* d) { return zoo_adelete(zh, path.c_str(), version, on_void, d); });
  if (!r) return r.error();
  return success();
}

result<std::optional<node_stat>> client::exists(const std::string& path, watch_fn watch) {
  uint64_t wid = impl_->register_watch(std::move(watch));
  auto r = impl_->call("exists " + path, [&](zhandle_t* zh, const void* d) {
    if (wid == 0) return zoo_aexists(zh, path.c_str(), 0, on_stat, d);
    return zoo_awexists(zh, path.c_str(), &impl::node_watcher, impl::watch_ctx(wid), on_stat, d);
  });
  if (r) return std::optional<node_stat>(r.value()->stat);
  // An exists watch is armed on ZNONODE too (it fires on create).
  if (r.error() == errc::no_node) return std::optional<node_stat>();
  impl_->drop_watch(wid);
  return r.error();
}

result<std::vector<std::string>> client::get_children(const std::string& path, watch_fn watch) {
  uint64_t wid = impl_->register_watch(std::move(watch));
  auto r = impl_->call("get_children " + path, [&](zhandle_t* zh, const void* d) {
    if (wid == 0) return zoo_aget_children(zh, path.c_str(), 0, on_strings, d);
    return zoo_awget_children(zh, path.c_str(), &impl::node_watcher, impl::watch_ctx(wid), on_strings, d);
  });
  if (!r) {
    impl_->drop_watch(wid);
    return r.error();
  }
  return std::move(r.value()->children);
}

result<std::vector<op_result>> client::multi(const std::vector<op>& ops) {
  if (ops.empty()) return std::vector<op_result>{};
  auto p = std::make_shared<pending>();
  const size_t n = ops.size();
  // Everything the C client points into lives in `p` until the completion.
  p->paths.reserve(n);
  p->datas.reserve(n);
  p->ops.resize(n);
  p->results.resize(n);
  p->path_bufs.resize(n);
  p->stats.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const op& o = ops[i];
    p->paths.push_back(o.path);
    p->datas.push_back(o.data);
    const char* path = p->paths[i].c_str();
    const auto& data = p->datas[i];
    const char* dp = data ? data->data() : nullptr;
    int dl = data ? static_cast<int>(data->size()) : -1;
    switch (o.type) {
      case op::kind::create:
        p->path_bufs[i].resize(o.path.size() + impl_->cs.chroot.size() + 64);
        zoo_create_op_init(&p->ops[i], path, dp, dl, &ZOO_OPEN_ACL_UNSAFE, to_c_mode(o.mode), p->path_bufs[i].data(),
                           static_cast<int>(p->path_bufs[i].size()));
        break;
      case op::kind::set:
        zoo_set_op_init(&p->ops[i], path, dp, dl, o.version, &p->stats[i]);
        break;
      case op::kind::remove:
        zoo_delete_op_init(&p->ops[i], path, o.version);
        break;
      case op::kind::check:
        zoo_check_op_init(&p->ops[i], path, o.version);
        break;
    }
  }
  std::string what = "multi of " + std::to_string(n) + " ops starting " + ops[0].path;
  auto r = impl_->call(
      what,
      [&](zhandle_t* zh, const void* d) {
        return zoo_amulti(zh, static_cast<int>(n), p->ops.data(), p->results.data(), on_void, d);
      },
      p);
  if (!r) {
    auto e = r.error();
    std::lock_guard lk(p->m);
    if (p->done) {
      for (size_t i = 0; i < n; ++i) {
        int err = p->results[i].err;
        if (err != ZOK && err != ZRUNTIMEINCONSISTENCY) {
          const char* kinds[] = {"create", "set", "delete", "check"};
          return error(from_zk_rc(err),
                       "multi op #" + std::to_string(i) + " (" + kinds[int(ops[i].type)] + " " + ops[i].path + ")",
                       static_cast<int>(i));
        }
      }
    }
    return e;
  }
  std::vector<op_result> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (ops[i].type == op::kind::create) out[i].created_path = p->path_bufs[i].data();
    if (ops[i].type == op::kind::set) out[i].stat = to_node_stat(&p->stats[i]);
  }
  return out;
}

result<void> client::expire_session_for_testing() {
  clientid_t cid{};
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->zh == nullptr || !impl_->is_connected) return error(errc::connection_loss, "expire session");
    cid = *zoo_client_id(impl_->zh);
  }
  // A twin attaching to the session makes the server drop our connection, and
  // the C client may re-attach before the twin's close lands, keeping the
  // session alive. So repeat until a twin is told the session has expired.
  constexpr int max_attempts = 20;
  for (int i = 0; i < max_attempts; ++i) {
    scratch_handle twin(impl_->opts.connect, static_cast<int>(impl_->opts.session_timeout.count()), &cid);
    int state = twin.wait_settled(clock::now() + impl_->opts.connection_timeout);
    if (state == ZOO_EXPIRED_SESSION_STATE) return success();
    if (state == 0) return error(errc::connection_loss, "expire session: the second handle did not connect");
    // Connected: ~scratch_handle closes the session on the server.
  }
  return error(errc::operation_timeout, "expire session: still alive after " + std::to_string(max_attempts) + " closes");
}

}  // namespace strata::zk
