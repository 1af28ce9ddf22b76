#pragma once
// Test support: runs the real `strata` binary on a free loopback port with a
// fresh data directory, and a minimal Kafka wire client built on the
// project's generated codec. The process is killed by PID when the fixture
// goes away.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/frame.h"
#include "protocol/generated/api_keys.h"
#include "protocol/wire.h"

namespace strata::test {

class broker_process {
 public:
  explicit broker_process(std::vector<std::string> overrides = {}) {
    char tmpl[] = "/tmp/strata-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    start(overrides);
  }
  ~broker_process() {
    kill_now();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void start(std::vector<std::string> overrides) {
    overrides_ = overrides;
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      std::vector<std::string> args = {STRATA_BINARY, "serve", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                                       "--override", "log.dirs=" + dir_ + "/data", "--override",
                                       "group.initial.rebalance.delay.ms=0"};
      for (auto& o : overrides) {
        args.push_back("--override");
        args.push_back(o);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    // Read the log until the broker says where it listens and that it started.
    std::string log;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      log.append(buf, static_cast<size_t>(n));
      auto at = log.find("listening on PLAINTEXT://127.0.0.1:");
      if (at != std::string::npos && log.find("started in") != std::string::npos) {
        port_ = std::atoi(log.c_str() + at + std::strlen("listening on PLAINTEXT://127.0.0.1:"));
        return;
      }
    }
    throw std::runtime_error("broker did not start:\n" + log);
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

  // SIGTERM and wait; returns the exit status.
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    ::close(out_);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    ::close(out_);
  }
  void restart() {
    stop();
    start(overrides_);
  }

 private:
  std::string dir_;
  std::vector<std::string> overrides_;
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

// A blocking Kafka wire client for tests.
class wire_client {
 public:
  explicit wire_client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~wire_client() { ::close(fd_); }

  void send_raw(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      ssize_t w = ::send(fd_, b, n, MSG_NOSIGNAL);
      if (w <= 0) throw std::runtime_error("send");
      b += w;
      n -= static_cast<size_t>(w);
    }
  }

  template <class Req>
  void send(const Req& req, int16_t version, int32_t correlation_id) {
    protocol::writer w;
    protocol::encode_request_frame(w, version, correlation_id, "wire-test", req);
    send_raw(w.buffer().data(), w.size());
  }

  // Reads one response frame; empty on EOF or timeout.
  std::vector<uint8_t> read_frame() {
    uint8_t sz[4];
    if (!read_exact(sz, 4)) return {};
    uint32_t n = (uint32_t(sz[0]) << 24) | (uint32_t(sz[1]) << 16) | (uint32_t(sz[2]) << 8) | sz[3];
    std::vector<uint8_t> body(n);
    if (!read_exact(body.data(), n)) return {};
    return body;
  }

  // Decoded `records` fields point into the frame, which stays alive until
  // the next receive() on this client.
  template <class Resp>
  Resp receive(int16_t api_key, int16_t version, int32_t* correlation_id = nullptr) {
    frames_.push_back(read_frame());
    if (frames_.size() > 4) frames_.erase(frames_.begin());
    const auto& frame = frames_.back();
    if (frame.empty()) throw std::runtime_error("connection closed");
    auto rf = protocol::decode_response_frame(frame, api_key, version);
    if (rf.error != protocol::frame_error::none) throw std::runtime_error("bad response header");
    if (correlation_id) *correlation_id = rf.correlation_id;
    protocol::reader r(rf.body);
    Resp resp;
    resp.decode(r, version);
    if (!r.ok()) throw std::runtime_error("response does not decode");
    return resp;
  }

  template <class Resp, class Req>
  Resp call(const Req& req, int16_t version) {
    send(req, version, ++cid_);
    int32_t got = 0;
    auto resp = receive<Resp>(Req::api_key, version, &got);
    if (got != cid_) throw std::runtime_error("correlation id mismatch");
    return resp;
  }

  // True when the broker closed the connection (EOF) within the timeout.
  bool closed_by_peer() {
    uint8_t b;
    ssize_t n = ::recv(fd_, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool read_exact(uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t r = ::recv(fd_, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  int32_t cid_ = 0;
  std::vector<std::vector<uint8_t>> frames_;  // the last few responses, for views into them
};

}  // namespace strata::test
