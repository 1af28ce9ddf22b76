#pragma once
// Test support: a real standalone ZooKeeper (Debian's `zookeeper` package:
// java QuorumPeerMain, as /work/shared/reliability/zk-standalone.sh runs it)
// on 127.0.0.1, a free port and a fresh temp data dir.
//
// start() waits (at most 30 s) for `ruok` -> `imok` and for `srvr` to report a
// Mode (imok comes before the server serves); stop() sends SIGTERM to the
// recorded PID and SIGKILL after 10 s; the destructor stops it and removes
// the dir. The JVM also gets PR_SET_PDEATHSIG, so a crashed test binary does
// not leave it running. restart() keeps the port and the data dir, so sessions
// and znodes survive it as they survive a real server restart.
//
// zk_server_suite is a gtest fixture sharing one server per test suite. If
// ZooKeeper is not installed, or does not start, every test of the suite
// FAILS with the reason (never skips).
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zk/client.h"

namespace strata::test {

class zk_server {
 public:
  zk_server();  // throws std::runtime_error naming the cause
  ~zk_server();
  zk_server(const zk_server&) = delete;
  zk_server& operator=(const zk_server&) = delete;

  void start();
  void stop();
  void restart() {
    stop();
    start();
  }
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string connect_string() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  std::string log_tail(size_t bytes = 3000) const;

  // Empty when java and the ZooKeeper jars are present, else what is missing
  // and how to install it.
  static std::string missing_install();
  // A loopback port nobody listens on right now.
  static int free_port();

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
};

class zk_server_suite : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;

  // A connected client; `chroot` (e.g. "/t1") is appended to the connect string.
  std::unique_ptr<zk::client> connect(const std::string& chroot = "",
                                      std::chrono::milliseconds session_timeout = std::chrono::seconds(10));
  // A chroot unique to the running test, so tests sharing a server do not meet.
  static std::string test_chroot();

  static inline zk_server* server_ = nullptr;
  static inline std::string setup_error_;
};

// Collects events from callbacks on the client's event thread, and lets the
// test wait for a condition on them with a bound.
template <class T>
class event_log {
 public:
  void push(T v) {
    std::lock_guard lk(m_);
    items_.push_back(std::move(v));
    cv_.notify_all();
  }
  // True when pred(items) became true within `timeout`.
  bool wait_for(const std::function<bool(const std::vector<T>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, timeout, [&] { return pred(items_); });
  }
  bool wait_for_item(const T& v, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    return wait_for([&](const std::vector<T>& items) { return std::find(items.begin(), items.end(), v) != items.end(); },
                    timeout);
  }
  std::vector<T> snapshot() const {
    std::lock_guard lk(m_);
    return items_;
  }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

}  // namespace strata::test
