// The Beast listener over real loopback sockets: status codes, limits,
// keep-alive, the connection bound, and respond_to_bytes (the fuzz entry).
#include "admin/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "admin/router.h"
#include "fake_source.h"

namespace strata::admin {
namespace {

// A blocking loopback client with a receive deadline (no test waits forever).
class client {
 public:
  explicit client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~client() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads until the peer closes or `until` appears in what was read (or 5 s).
  std::string read(std::string_view until = {}) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!until.empty() && out.find(until) != std::string::npos) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class http_server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    rt.set_source(&src);
    rt.set_health(health::ready);
    opts.port = 0;
    opts.max_connections = 2;
    opts.max_header_bytes = 1024;
    opts.timeout = std::chrono::milliseconds(2000);
    srv = std::make_unique<http_server>(opts, rt);
    srv->start();
    ASSERT_NE(srv->port(), 0);
  }
  void TearDown() override {
    srv->stop();
    rt.set_source(nullptr);
  }

  router rt{0};
  testing::fake_source src;
  http_server_options opts;
  std::unique_ptr<http_server> srv;
};

TEST_F(http_server_test, get_health_and_keep_alive) {
  client c(srv->port());
  ASSERT_TRUE(c.connected());
  c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.read(R"({"status":"ready"})");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: application/json"), std::string::npos) << r;
  // Same connection, second request.
  c.send("GET /v1/brokers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  r = c.read();
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find(R"("self":true)"), std::string::npos) << r;
}

TEST_F(http_server_test, garbage_is_400) {
  client c(srv->port());
  c.send("NOT HTTP AT ALL\r\n\r\n");
  std::string r = c.read();
  EXPECT_EQ(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << r;
}

TEST_F(http_server_test, oversized_header_is_431) {
  client c(srv->port());
  c.send("GET /health HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  std::string r = c.read();
  EXPECT_EQ(r.rfind("HTTP/1.1 431 ", 0), 0u) << r.substr(0, 100);
}

TEST_F(http_server_test, oversized_body_is_413) {
  client c(srv->port());
  c.send("POST /metrics HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n");
  std::string r = c.read();
  EXPECT_EQ(r.rfind("HTTP/1.1 413 ", 0), 0u) << r.substr(0, 100);
}

TEST_F(http_server_test, unknown_path_404_and_wrong_method_405) {
  client c(srv->port());
  c.send("GET /nope HTTP/1.1\r\n\r\nDELETE /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
  std::string r = c.read();
  EXPECT_EQ(r.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("HTTP/1.1 405 Method Not Allowed\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Allow: GET\r\n"), std::string::npos) << r;
}

TEST_F(http_server_test, connections_beyond_the_limit_get_503) {
  client a(srv->port()), b(srv->port());
  // Make sure both are being served before the third arrives.
  a.send("GET /health HTTP/1.1\r\n\r\n");
  b.send("GET /health HTTP/1.1\r\n\r\n");
  ASSERT_NE(a.read("ready").find("200 OK"), std::string::npos);
  ASSERT_NE(b.read("ready").find("200 OK"), std::string::npos);
  client c(srv->port());
  std::string r = c.read();
  EXPECT_EQ(r.rfind("HTTP/1.1 503 ", 0), 0u) << r;
}

TEST_F(http_server_test, idle_connection_is_closed_after_the_timeout) {
  client c(srv->port());
  auto t0 = std::chrono::steady_clock::now();
  std::string r = c.read();  // returns when the server closes (or after 5 s)
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r, "");
  EXPECT_GE(waited, std::chrono::milliseconds(1500));
  EXPECT_LT(waited, std::chrono::milliseconds(4500));
}

TEST(respond_to_bytes, parses_and_answers_like_the_server) {
  router rt{0};
  http_server_options o;
  o.max_header_bytes = 256;
  EXPECT_EQ(respond_to_bytes("GET /health HTTP/1.1\r\n\r\n", rt, o).rfind("HTTP/1.1 503 ", 0), 0u);
  EXPECT_EQ(respond_to_bytes("GET /health HTTP/1.1\r\n", rt, o), "");  // incomplete: the server would wait
  EXPECT_EQ(respond_to_bytes("\x01\x02\r\n\r\n", rt, o).rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_EQ(respond_to_bytes("GET / HTTP/1.1\r\nA: " + std::string(300, 'x') + "\r\n\r\n", rt, o).rfind("HTTP/1.1 431 ", 0),
            0u);
}

TEST(parse_listener, forms) {
  auto o = parse_listener("127.0.0.1:9644");
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 9644);
  o = parse_listener("[::1]:0");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 0);
  o = parse_listener(":80");
  EXPECT_EQ(o.host, "");
  EXPECT_THROW(parse_listener("localhost"), std::invalid_argument);
  EXPECT_THROW(parse_listener("localhost:"), std::invalid_argument);
  EXPECT_THROW(parse_listener("localhost:70000"), std::invalid_argument);
  EXPECT_THROW(parse_listener("::1:80"), std::invalid_argument);
}

}  // namespace
}  // namespace strata::admin
