#pragma once
// zk::client: a C++ wrapper around the multithreaded ZooKeeper C client
// (libzookeeper-mt, Debian's 3.8). The only file that includes the C client's
// headers is client.cc (STYLE §2.10).
//
// Lifecycle: construct with options, connect(), use, then close() or destroy.
// Destruction closes the session, so the server deletes our ephemerals at
// once (not after the session timeout).
//
// Sessions. The C client reconnects on its own after a lost connection and
// keeps the session if it comes back within the session timeout; our
// listeners then see disconnected -> connected. When the server reports the
// session expired, every ephemeral znode and watch of the session is gone: the
// client tells listeners `expired`, builds a new session (zookeeper_init again,
// as Kafka's ZooKeeperClient.reinitialize does) and, once it is connected,
// tells them `new_session` so they re-create ephemerals and re-arm watches.
// Watches armed in the old session never fire.
//
// Calls are synchronous and bounded. A call made while disconnected waits for
// the connection at most `request_timeout` and then fails with
// errc::connection_loss; a call whose reply does not come within
// `request_timeout` fails with errc::operation_timeout (the request may still
// have been applied: re-read before retrying a non-idempotent write).
//
// Threading. Every method is thread-safe. Watch callbacks and session
// listeners run on the client's own event thread, one at a time, in the order
// the C client delivered them.
// Deviation: Kafka's ZooKeeperClient runs handlers on the ZooKeeper event
// thread, and the C client's equivalent is its completion thread, where a
// synchronous call would wait on itself. Here the C client's callbacks only
// queue an event; our event thread runs user code, so callbacks MAY make any
// synchronous call of this client (re-read and re-arm a watch, re-register an
// ephemeral). They must not call close() or destroy the client, and a slow
// callback delays the others. Callbacks may run until close() returns (it
// joins the event thread), so what they capture must outlive that.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zk/result.h"

namespace strata::zk {

struct client_options {
  // "host:port[,host:port...][/chroot]". A missing chroot path is created
  // (persistent, no data) at connect(), as Kafka does.
  std::string connect;
  std::chrono::milliseconds session_timeout{18000};  // Kafka's zookeeper.session.timeout.ms
  // How long connect() waits for the first session (Kafka's
  // zookeeper.connection.timeout.ms defaults to the session timeout).
  std::chrono::milliseconds connection_timeout{18000};
  // Bound on one call: the wait for a connection plus the wait for the reply.
  std::chrono::milliseconds request_timeout{5000};
};

// "host:port,host:port/chroot" split into its two parts; chroot is "" or
// starts with '/' and has no trailing '/'.
struct connect_string {
  std::string hosts;
  std::string chroot;
};
// nullopt when the string has no host or a malformed chroot.
std::optional<connect_string> parse_connect_string(std::string_view s);

enum class create_mode { persistent, ephemeral, persistent_sequential, ephemeral_sequential };

// ZooKeeper's Stat. `version` is the data version that conditional writes
// compare against (for a partition state znode, the partition epoch).
struct node_stat {
  int64_t czxid = 0;  // zxid of the create (Kafka's broker epoch for /brokers/ids/<id>)
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;  // session id, 0 for persistent znodes
  int32_t data_length = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;
};

struct node_data {
  std::string data;  // a znode created with null data reads as ""
  node_stat stat;
};

enum class watch_event { created, deleted, data_changed, children_changed, not_watching };
const char* to_string(watch_event e);
// One-shot: runs once, on the event thread, when the watched znode changes.
using watch_fn = std::function<void(watch_event, const std::string& path)>;

enum class session_state {
  connected,     // (re)connected; the session, its ephemerals and watches are intact
  disconnected,  // the connection dropped; the session may still be alive
  expired,       // the session is gone, with its ephemerals and watches
  new_session,   // a replacement session is connected: re-create, re-arm
};
const char* to_string(session_state s);
using session_listener = std::function<void(session_state)>;

// One operation of a multi(); all of them apply, or none.
struct op {
  enum class kind { create, set, remove, check };
  kind type = kind::check;
  std::string path;
  std::optional<std::string> data;  // create/set; nullopt creates a null znode
  int32_t version = -1;             // set/remove/check; -1 = any (not for check)
  create_mode mode = create_mode::persistent;

  static op create(std::string path, std::optional<std::string> data, create_mode m = create_mode::persistent);
  static op set(std::string path, std::string data, int32_t version);
  static op remove(std::string path, int32_t version);
  static op check(std::string path, int32_t version);
};
struct op_result {
  std::string created_path;  // create
  node_stat stat;            // set
};

class client {
 public:
  explicit client(client_options o);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Opens the session. Throws std::runtime_error naming the connect string
  // and the timeout when no server answers within connection_timeout.
  void connect();
  // Closes the session (idempotent). Not from a callback.
  void close();

  const client_options& options() const;
  bool connected() const;
  int64_t session_id() const;  // 0 before the first session
  std::chrono::milliseconds negotiated_session_timeout() const;

  // Returns an id for remove_session_listener. Listeners run on the event thread.
  int add_session_listener(session_listener l);
  void remove_session_listener(int id);

  // Returns the path created (with the sequence suffix for sequential modes,
  // without the chroot).
  result<std::string> create(const std::string& path, std::optional<std::string_view> data,
                             create_mode mode = create_mode::persistent);
  // Creates `path` and any missing parent, persistent with null data. An
  // existing znode is success (Kafka's createRecursive, throwIfPathExists=false).
  result<void> ensure_path(const std::string& path);
  result<node_data> get(const std::string& path, watch_fn watch = {});
  // version -1 = any. Returns the new stat.
  result<node_stat> set(const std::string& path, std::string_view data, int32_t version = -1);
  result<void> remove(const std::string& path, int32_t version = -1);
  // nullopt when the znode does not exist; a watch is armed either way.
  result<std::optional<node_stat>> exists(const std::string& path, watch_fn watch = {});
  result<std::vector<std::string>> get_children(const std::string& path, watch_fn watch = {});
  // On failure error.code is the failing op's code and error.failed_op its index.
  result<std::vector<op_result>> multi(const std::vector<op>& ops);

  // Fault injection for tests: ends this client's session on the server by
  // opening a second handle with the same session id and password and closing
  // it (what Curator's KillSession does). This client then sees `expired`.
  result<void> expire_session_for_testing();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace strata::zk
