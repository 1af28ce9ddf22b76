#include "zk_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace strata::test {
namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

constexpr const char* zookeeper_jar = "/usr/share/java/zookeeper.jar";
constexpr const char* slf4j_simple_jar = "/usr/share/java/slf4j-simple.jar";
constexpr auto start_timeout = std::chrono::seconds(30);
constexpr auto stop_timeout = std::chrono::seconds(10);
constexpr auto poll_interval = std::chrono::milliseconds(50);

std::string find_java() {
  if (const char* home = std::getenv("JAVA_HOME"); home != nullptr && *home != '\0') {
    std::string j = std::string(home) + "/bin/java";
    if (::access(j.c_str(), X_OK) == 0) return j;
  }
  const char* path = std::getenv("PATH");
  std::stringstream ss(path != nullptr ? path : "/usr/bin:/bin");
  std::string d;
  while (std::getline(ss, d, ':')) {
    std::string j = d + "/java";
    if (::access(j.c_str(), X_OK) == 0) return j;
  }
  return "";
}

// One four-letter-word exchange ("ruok", "srvr"); the reply, "" on failure.
// Bounded by `budget`.
std::string four_letter_word(int port, const char* word, std::chrono::milliseconds budget) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto deadline = clock::now() + budget;
  auto wait = [&](short events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left)) == 1 && (p.revents & (events | POLLHUP)) != 0;
  };
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 || errno == EINPROGRESS) {
    int err = 0;
    socklen_t len = sizeof err;
    if (wait(POLLOUT) && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 &&
        ::send(fd, word, 4, MSG_NOSIGNAL) == 4) {
      char buf[512];
      while (wait(POLLIN)) {  // the server closes the connection after replying
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        reply.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return reply;
}

// `ruok` -> `imok` says the process is up; `srvr` reports a Mode only once it
// serves requests.
bool ready(int port) {
  return four_letter_word(port, "ruok", std::chrono::seconds(1)) == "imok" &&
         four_letter_word(port, "srvr", std::chrono::seconds(1)).find("Mode: ") != std::string::npos;
}

}  // namespace

std::string zk_server::missing_install() {
  std::string missing;
  if (find_java().empty()) missing += " java (a JRE)";
  if (::access(zookeeper_jar, R_OK) != 0) missing += std::string(" ") + zookeeper_jar;
  if (::access(slf4j_simple_jar, R_OK) != 0) missing += std::string(" ") + slf4j_simple_jar;
  if (missing.empty()) return "";
  return "ZooKeeper is not installed (missing:" + missing +
         "). Run `scripts/install-deps --test` to install Debian's zookeeper package and a JRE.";
}

int zk_server::free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(std::string("free_port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

zk_server::zk_server() {
  if (auto why = missing_install(); !why.empty()) throw std::runtime_error(why);
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/strata-zk-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = tmpl;
  fs::create_directories(dir_ + "/data");
  fs::create_directories(dir_ + "/conf");
  port_ = free_port();
  std::ofstream cfg(dir_ + "/conf/zoo.cfg");
  // tickTime 500: sessions may be as short as 1 s and expire with a 0.5 s
  // granularity, which keeps the session tests quick.
  cfg << "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
      << "dataDir=" << dir_ << "/data\n"
      << "clientPortAddress=127.0.0.1\nclientPort=" << port_ << "\n"
      << "admin.enableServer=false\n4lw.commands.whitelist=*\n"
      << "minSessionTimeout=1000\nmaxSessionTimeout=60000\n";
  cfg.close();
  start();
}

zk_server::~zk_server() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void zk_server::start() {
  if (pid_ > 0) return;
  std::string java = find_java();
  std::string log = dir_ + "/zk.log";
  std::string cp = dir_ + "/conf:" + zookeeper_jar + ":" + slf4j_simple_jar;
  std::vector<std::string> args = {java,
                                   "-Xmx256m",
                                   "-XX:+UseSerialGC",
                                   "-XX:TieredStopAtLevel=1",  // starts faster; the test load is small
                                   "-Dzookeeper.log.dir=" + dir_,
                                   "-Dzookeeper.forceSync=no",
                                   "-cp",
                                   cp,
                                   "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                                   dir_ + "/conf/zoo.cfg"};
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  auto deadline = clock::now() + start_timeout;
  while (clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("ZooKeeper exited during startup (status " + std::to_string(status) + "); log:\n" +
                               log_tail());
    }
    if (ready(port_)) return;
    std::this_thread::sleep_for(poll_interval);  // poll interval of a bounded wait for imok
  }
  stop();
  throw std::runtime_error("ZooKeeper did not answer ruok on 127.0.0.1:" + std::to_string(port_) + " within 30 s; log:\n" +
                           log_tail());
}

void zk_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  auto deadline = clock::now() + stop_timeout;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval of a bounded wait for exit
  }
  pid_ = -1;
}

std::string zk_server::log_tail(size_t bytes) const {
  std::ifstream in(dir_ + "/zk.log");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

// ---- fixture ------------------------------------------------------------------------

void zk_server_suite::SetUpTestSuite() {
  setup_error_.clear();
  try {
    server_ = new zk_server();
  } catch (const std::exception& e) {
    server_ = nullptr;
    setup_error_ = e.what();
  }
}

void zk_server_suite::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
}

void zk_server_suite::SetUp() {
  ASSERT_NE(server_, nullptr) << setup_error_;
  if (!server_->running()) server_->start();  // a test of the suite stopped it
}

std::unique_ptr<zk::client> zk_server_suite::connect(const std::string& chroot,
                                                     std::chrono::milliseconds session_timeout) {
  zk::client_options o;
  o.connect = server_->connect_string() + chroot;
  o.session_timeout = session_timeout;
  o.connection_timeout = std::chrono::seconds(10);
  o.request_timeout = std::chrono::seconds(5);
  auto c = std::make_unique<zk::client>(o);
  c->connect();
  return c;
}

std::string zk_server_suite::test_chroot() {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("/") + info->test_suite_name() + "_" + info->name();
}

}  // namespace strata::test
