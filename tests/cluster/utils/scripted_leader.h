#pragma once
// Test support: a leader whose answers the test writes. It listens on a free loopback
// port, serves one connection at a time on its own thread, answers ApiVersions itself
// and hands OffsetsForLeaderEpoch and Fetch requests to the test's functions. For the
// answers a single-node broker never gives (DivergingEpoch, a partial last batch).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "protocol/frame.h"
#include "protocol/generated/messages.h"
#include "protocol/wire.h"

namespace strata::cluster::testing {

class scripted_leader {
 public:
  using fetch_fn = std::function<protocol::fetch_response(const protocol::fetch_request&, int16_t version)>;
  using epoch_fn =
      std::function<protocol::offset_for_leader_epoch_response(const protocol::offset_for_leader_epoch_request&)>;

  scripted_leader(epoch_fn on_epoch, fetch_fn on_fetch)
      : on_epoch_(std::move(on_epoch)), on_fetch_(std::move(on_fetch)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("scripted_leader: cannot listen");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_leader() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  uint16_t port() const { return port_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      while (!stop_ && answer_one(c)) {
      }
      ::close(c);
    }
  }

  bool read_exact(int c, uint8_t* p, size_t n) {
    while (n > 0) {
      pollfd pf{c, POLLIN, 0};
      if (stop_) return false;
      if (::poll(&pf, 1, 20) <= 0) continue;
      ssize_t r = ::recv(c, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= size_t(r);
    }
    return true;
  }

  bool answer_one(int c) {
    uint8_t sz[4];
    if (!read_exact(c, sz, 4)) return false;
    std::vector<uint8_t> frame((uint32_t(sz[0]) << 24) | (uint32_t(sz[1]) << 16) | (uint32_t(sz[2]) << 8) | sz[3]);
    if (!read_exact(c, frame.data(), frame.size())) return false;
    auto rf = protocol::decode_request_frame(frame);
    if (rf.error != protocol::frame_error::none) return false;
    const int16_t v = rf.api_version();
    protocol::reader r(rf.body);
    protocol::writer w;
    switch (rf.api_key()) {
      case protocol::api_versions_request::api_key: {
        protocol::api_versions_response resp;
        resp.api_keys.push_back({protocol::fetch_request::api_key, 4, 12});
        resp.api_keys.push_back({protocol::offset_for_leader_epoch_request::api_key, 0, 4});
        resp.api_keys.push_back({protocol::list_offsets_request::api_key, 1, 7});
        resp.api_keys.push_back({protocol::api_versions_request::api_key, 0, 3});
        protocol::encode_response_frame(w, std::min<int16_t>(v, 3), rf.correlation_id(), resp);
        break;
      }
      case protocol::offset_for_leader_epoch_request::api_key: {
        protocol::offset_for_leader_epoch_request req;
        req.decode(r, v);
        protocol::encode_response_frame(w, v, rf.correlation_id(), on_epoch_(req));
        break;
      }
      case protocol::fetch_request::api_key: {
        protocol::fetch_request req;
        req.decode(r, v);
        protocol::encode_response_frame(w, v, rf.correlation_id(), on_fetch_(req, v));
        break;
      }
      default:
        return false;
    }
    const auto& out = w.buffer();
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::send(c, out.data() + done, out.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += size_t(n);
    }
    return true;
  }

  epoch_fn on_epoch_;
  fetch_fn on_fetch_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace strata::cluster::testing
