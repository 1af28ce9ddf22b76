// The admin client's pure rules (endpoints, version choice, error wording)
// and its ApiVersions negotiation against a scripted broker on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "client/broker_connection.h"
#include "client/connection.h"
#include "client/endpoint.h"
#include "client/errors.h"
#include "client/versions.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/metadata.h"

namespace strata::client {
namespace {

TEST(endpoints, parses_lists_and_ipv6) {
  auto eps = parse_endpoints("localhost:9092, 10.0.0.1:19092,[::1]:9093");
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0], (endpoint{"localhost", 9092}));
  EXPECT_EQ(eps[1], (endpoint{"10.0.0.1", 19092}));
  EXPECT_EQ(eps[2], (endpoint{"::1", 9093}));
  EXPECT_EQ(eps[2].to_string(), "[::1]:9093");
}

TEST(endpoints, rejects_bad_forms_naming_them) {
  for (const char* bad : {"localhost", "localhost:", ":9092", "host:0", "host:70000", "host:12x", "::1:9092", ""}) {
    try {
      parse_endpoints(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const client_error& e) {
      if (*bad) {
        EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
      }
    }
  }
}

TEST(versions, picks_the_highest_shared_version) {
  EXPECT_EQ(pick_version({0, 12}, {0, 9}), 9);
  EXPECT_EQ(pick_version({1, 4}, {3, 12}), 4);
  EXPECT_EQ(pick_version({4, 6}, {0, 3}), std::nullopt);
  EXPECT_EQ(pick_version({0, 3}, {4, 6}), std::nullopt);
  EXPECT_EQ(pick_version({0, -1}, {0, 3}), std::nullopt);
}

TEST(versions, client_floors_skip_versions_with_other_meanings) {
  EXPECT_EQ(client_versions(protocol::metadata_request::api_key).min, 1);
  EXPECT_EQ(client_versions(2).min, 1);  // ListOffsets v0 answers offset arrays
  EXPECT_EQ(client_versions(protocol::metadata_request::api_key).max, protocol::metadata_request::max_version);
  EXPECT_TRUE(client_versions(9999).empty());
}

TEST(errors, text_names_the_code_and_prefers_the_broker_message) {
  EXPECT_EQ(error_text(3), "the topic or partition does not exist (UNKNOWN_TOPIC_OR_PARTITION)");
  EXPECT_EQ(error_text(37, std::string("must be larger than 3")), "must be larger than 3 (INVALID_PARTITIONS)");
  EXPECT_EQ(error_text(37, std::string()), "the number of partitions is not valid (INVALID_PARTITIONS)");
  try {
    check(29, "describing topic 't'");
    ADD_FAILURE();
  } catch (const client_error& e) {
    EXPECT_STREQ(e.what(), "describing topic 't': not authorized to access the topic (TOPIC_AUTHORIZATION_FAILED)");
    EXPECT_EQ(e.code(), protocol::error_code::topic_authorization_failed);
  }
  EXPECT_NO_THROW(check(0, "x"));
  EXPECT_TRUE(is_retriable(protocol::error_code::not_controller));
  EXPECT_FALSE(is_retriable(protocol::error_code::unknown_topic_or_partition));
}

// A broker that knows ApiVersions only up to v3 (Kafka 2.4 to 3.6): it answers
// a newer ApiVersions with a v0 body holding UNSUPPORTED_VERSION and its
// range, as Kafka does (KIP-511). The client must retry at v3.
class old_broker {
 public:
  // Records the ApiVersions version of each request in `seen`; read it once
  // the broker is destroyed (its thread joined).
  explicit old_broker(std::vector<int16_t>& seen) : versions_seen(seen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~old_broker() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<int16_t>& versions_seen;

 private:
  static bool read_exact(int fd, uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t r = ::recv(fd, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    while (true) {
      uint8_t sz[4];
      if (!read_exact(c, sz, 4)) break;
      std::vector<uint8_t> frame((uint32_t(sz[0]) << 24) | (uint32_t(sz[1]) << 16) | (uint32_t(sz[2]) << 8) | sz[3]);
      if (!read_exact(c, frame.data(), frame.size())) break;
      auto req = protocol::decode_request_frame(frame);
      versions_seen.push_back(req.api_version());
      protocol::api_versions_response resp;
      protocol::writer w;
      if (req.api_version() > 3) {
        resp.error_code = static_cast<int16_t>(protocol::error_code::unsupported_version);
        resp.api_keys.push_back({18, 0, 3});
        protocol::encode_response_frame(w, 0, req.correlation_id(), resp);
      } else {
        resp.api_keys.push_back({18, 0, 3});
        resp.api_keys.push_back({3, 0, 9});
        protocol::encode_response_frame(w, req.api_version(), req.correlation_id(), resp);
      }
      ::send(c, w.buffer().data(), w.size(), MSG_NOSIGNAL);
    }
    ::close(c);
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(broker_connection, falls_back_to_the_brokers_api_versions_version) {
  std::vector<int16_t> seen;
  {
    old_broker b(seen);
    broker_connection conn(endpoint{"127.0.0.1", b.port()}, -1, clock::now() + std::chrono::seconds(10));
    EXPECT_EQ(conn.version_for(protocol::metadata_request::api_key), 9);
    EXPECT_FALSE(conn.supports(19));  // CreateTopics: not advertised
    try {
      conn.version_for(19);
      ADD_FAILURE();
    } catch (const client_error& e) {
      EXPECT_NE(std::string(e.what()).find("does not support CreateTopics"), std::string::npos) << e.what();
    }
  }
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], client_versions(18).max);
  EXPECT_EQ(seen[1], 3);
}

TEST(connection, refused_names_the_server) {
  // A port nobody listens on: bind one, then close it.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const uint16_t port = ntohs(a.sin_port);
  ::close(s);
  try {
    connection c(endpoint{"127.0.0.1", port}, clock::now() + std::chrono::seconds(5));
    ADD_FAILURE();
  } catch (const client_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  }
}

// A replica fetcher reads every Fetch response into one vector: receive(deadline,
// frame) must reuse its capacity (no new buffer per response: that cost a follower
// an allocation, a zero fill and a page fault per 4 KiB) and still deliver each
// frame exactly, shorter or longer than the one before.
TEST(connection, receive_into_reuses_the_callers_buffer) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const std::vector<size_t> sizes{100'000, 60'000, 100'000, 8};
  std::thread server([&] {
    int c = ::accept(s, nullptr, nullptr);
    if (c < 0) return;
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::vector<uint8_t> f(4 + sizes[i], uint8_t('a' + i));
      const uint32_t n = static_cast<uint32_t>(sizes[i]);
      f[0] = uint8_t(n >> 24), f[1] = uint8_t(n >> 16), f[2] = uint8_t(n >> 8), f[3] = uint8_t(n);
      ::send(c, f.data(), f.size(), MSG_NOSIGNAL);
    }
    ::close(c);
  });
  {
    connection conn(endpoint{"127.0.0.1", ntohs(a.sin_port)}, clock::now() + std::chrono::seconds(5));
    std::vector<uint8_t> frame;
    const uint8_t* first = nullptr;
    for (size_t i = 0; i < sizes.size(); ++i) {
      conn.receive(clock::now() + std::chrono::seconds(5), frame);
      ASSERT_EQ(frame.size(), sizes[i]) << "frame " << i;
      EXPECT_EQ(std::count(frame.begin(), frame.end(), uint8_t('a' + i)), static_cast<ptrdiff_t>(sizes[i]))
          << "frame " << i << " holds bytes of another frame";
      if (i == 0) first = frame.data();
      EXPECT_EQ(frame.data(), first) << "frame " << i << " was read into a new buffer";
    }
  }
  server.join();
  ::close(s);
}

}  // namespace
}  // namespace strata::client
