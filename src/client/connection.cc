#include "client/connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "client/errors.h"

namespace strata::client {

namespace {

// Responses larger than this are refused: a wrong port (an HTTP server, say)
// must give an error, not a huge allocation.
constexpr uint32_t max_response_bytes = 256u << 20;

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Non-blocking connect bounded by the deadline; returns the socket or -1 with
// errno set to the reason.
int connect_one(const addrinfo* ai, clock::time_point deadline) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0) return -1;
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int n;
  do {
    n = ::poll(&p, 1, remaining_ms(deadline));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    ::close(fd);
    errno = n == 0 ? ETIMEDOUT : errno;
    return -1;
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

}  // namespace

connection::connection(endpoint ep, clock::time_point deadline) : peer_(std::move(ep)), started_(clock::now()) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(peer_.port);
  int rc = ::getaddrinfo(peer_.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0)
    throw client_error("cannot connect to " + peer_.to_string() + ": cannot resolve host: " + ::gai_strerror(rc));
  int last_errno = ECONNREFUSED;
  for (auto* ai = res; ai && fd_ < 0; ai = ai->ai_next) {
    if (clock::now() >= deadline) {
      last_errno = ETIMEDOUT;
      break;
    }
    fd_ = connect_one(ai, deadline);
    if (fd_ < 0) last_errno = errno;
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) throw client_error("cannot connect to " + peer_.to_string() + ": " + std::strerror(last_errno));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

connection::~connection() {
  if (fd_ >= 0) ::close(fd_);
}

void connection::interrupt() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void connection::wait_ready(short events, clock::time_point deadline, const char* waiting_for) {
  pollfd p{fd_, events, 0};
  while (true) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw client_error(std::string("polling the connection to ") + peer_.to_string() + ": " + std::strerror(errno));
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started_).count();
    throw client_error("timed out after " + std::to_string(waited) + " ms " + waiting_for + " " + peer_.to_string() +
                       " (raise --timeout-ms?)");
  }
}

void connection::send(const std::vector<uint8_t>& frame, clock::time_point deadline) {
  size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = ::send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_ready(POLLOUT, deadline, "sending to");
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      throw client_error("lost the connection to " + peer_.to_string() + ": " + std::strerror(errno));
    }
  }
}

void connection::read_exact(uint8_t* p, size_t n, clock::time_point deadline) {
  while (n > 0) {
    ssize_t r = ::recv(fd_, p, n, 0);
    if (r > 0) {
      p += r;
      n -= static_cast<size_t>(r);
    } else if (r == 0) {
      throw client_error("the broker at " + peer_.to_string() +
                         " closed the connection (not a Kafka listener, or it rejected the request)");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_ready(POLLIN, deadline, "waiting for a response from");
    } else if (errno != EINTR) {
      throw client_error("lost the connection to " + peer_.to_string() + ": " + std::strerror(errno));
    }
  }
}

std::vector<uint8_t> connection::receive(clock::time_point deadline) {
  std::vector<uint8_t> frame;
  receive(deadline, frame);
  return frame;
}

void connection::receive(clock::time_point deadline, std::vector<uint8_t>& frame) {
  uint8_t sz[4];
  read_exact(sz, 4, deadline);
  const uint32_t n = (uint32_t(sz[0]) << 24) | (uint32_t(sz[1]) << 16) | (uint32_t(sz[2]) << 8) | sz[3];
  if (n < 4 || n > max_response_bytes)
    throw client_error("the broker at " + peer_.to_string() + " sent a malformed response (frame size " +
                       std::to_string(n) + "); is it a Kafka listener?");
  frame.resize(n);  // within the capacity: no allocation; only growth is zero-filled
  read_exact(frame.data(), n, deadline);
}

}  // namespace strata::client
