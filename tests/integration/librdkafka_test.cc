// librdkafka's C++ API against a real strata broker.
//
// The test spawns build/strata itself (fork/exec, fresh temp dir, port 0, the
// "listening on" line parsed from a pipe), creates a 3-partition topic per
// codec with the C admin API, produces keyed messages with headers (including
// repeated keys and null header values) and null keys/values with
// RdKafka::Producer for none/gzip/snappy/lz4/zstd, and reads them back with the
// legacy RdKafka::Consumer (no consumer group needed), byte-exact and in order
// per partition. The broker binary is $STRATA_BIN, else the one next to this
// build (compiled in).
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#ifndef STRATA_BIN_DEFAULT
#define STRATA_BIN_DEFAULT "build/strata"
#endif

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string strata_bin() {
  const char* e = std::getenv("STRATA_BIN");
  return e && *e ? e : STRATA_BIN_DEFAULT;
}

// ---- the broker process -------------------------------------------------------
class broker_process {
 public:
  explicit broker_process(std::vector<std::string> overrides = {}) : overrides_(std::move(overrides)) {
    char tmpl[] = "/tmp/strata-it-rdkafka-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (!d) throw std::runtime_error("mkdtemp failed");
    dir_ = d;
  }
  broker_process(const broker_process&) = delete;
  broker_process& operator=(const broker_process&) = delete;

  ~broker_process() {
    kill_now();
    if (!std::getenv("STRATA_IT_KEEP")) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Returns an empty string on success, else what went wrong (with the log).
  std::string start(std::chrono::milliseconds timeout = 30s) {
    if (::access(strata_bin().c_str(), X_OK) != 0)
      return "broker binary " + strata_bin() + " not found or not executable (set STRATA_BIN)";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
    std::vector<std::string> args = {strata_bin(), "serve", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                                     "--override", "log.dirs=" + dir_ + "/data"};
    for (const auto& o : overrides_) {
      args.push_back("--override");
      args.push_back(o);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
      // Child: die with the test process; stdout+stderr into the pipe.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      if (::chdir(dir_.c_str()) != 0) ::_exit(127);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    pid_ = pid;
    read_fd_ = fds[0];
    // Read lines until "listening on ...:<port>" and then "started in".
    const auto deadline = clock_type::now() + timeout;
    static const std::regex listen_re(R"(listening on PLAINTEXT://127\.0\.0\.1:(\d+))");
    std::string partial;
    int port = 0;
    bool started = false;
    while (!started) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
      if (left <= 0) {
        kill_now();
        return "broker did not start within the deadline\n" + log();
      }
      pollfd p{read_fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left, 200)));
      if (r < 0 && errno != EINTR) return "poll failed";
      if (r <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(read_fd_, buf, sizeof buf);
      if (n <= 0) {
        kill_now();
        return "broker exited during startup\n" + log();
      }
      partial.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        std::string line = partial.substr(0, nl);
        partial.erase(0, nl + 1);
        add_line(line);
        std::smatch m;
        if (port == 0 && std::regex_search(line, m, listen_re)) port = std::stoi(m[1].str());
        if (port != 0 && line.find("started in") != std::string::npos) started = true;
      }
    }
    port_ = port;
    // Keep draining the pipe so the broker never blocks on a full pipe.
    drain_ = std::thread([this, rest = partial]() mutable {
      char buf[4096];
      for (;;) {
        ssize_t n = ::read(read_fd_, buf, sizeof buf);
        if (n <= 0) break;
        rest.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = rest.find('\n')) != std::string::npos) {
          add_line(rest.substr(0, nl));
          rest.erase(0, nl + 1);
        }
      }
      if (!rest.empty()) add_line(rest);
    });
    return {};
  }

  // SIGTERM, wait <= 10 s; returns the exit status (or -1 on a timeout / signal).
  int stop(std::chrono::milliseconds timeout = 10s) {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        finish();
        return exit_status_;
      }
      if (clock_type::now() >= deadline) {
        kill_now();
        return -1;
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  void kill_now() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      exit_status_ = -1;
      finish();
    }
  }

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

  std::string log() {
    std::lock_guard<std::mutex> g(mu_);
    std::string s = "==== broker log (" + dir_ + ") ====\n";
    size_t from = lines_.size() > 200 ? lines_.size() - 200 : 0;
    for (size_t i = from; i < lines_.size(); ++i) s += lines_[i] + "\n";
    return s + "==== end of broker log ====";
  }

 private:
  void add_line(const std::string& l) {
    std::lock_guard<std::mutex> g(mu_);
    lines_.push_back(l);
  }
  void finish() {
    pid_ = -1;
    if (drain_.joinable()) drain_.join();
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }

  std::vector<std::string> overrides_;
  std::string dir_;
  pid_t pid_ = -1;
  int read_fd_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
  std::thread drain_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// ---- the messages -----------------------------------------------------------------
struct header {
  std::string key;
  std::optional<std::string> value;
  bool operator==(const header&) const = default;
};

struct message {
  int32_t partition = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<header> headers;
  int64_t ts = 0;
  bool operator==(const message& o) const {
    return key == o.key && value == o.value && headers == o.headers && ts == o.ts;
  }
};

constexpr int kPartitions = 3;
constexpr int kMessages = 600;
// Message timestamps: an hour before the run, on the hour (recent, so that
// time-based retention keeps the records).
const int64_t kBaseTs = [] {
  using namespace std::chrono;
  const int64_t h = duration_cast<hours>(system_clock::now().time_since_epoch()).count();
  return (h - 1) * 3'600'000;
}();

std::string bytes_of(int i, size_t n) {
  std::string s = "msg-" + std::to_string(i) + "|";
  while (s.size() < n) s.push_back(static_cast<char>((i * 131 + static_cast<int>(s.size()) * 7) & 0xff));
  return s;
}

std::vector<message> make_messages(const std::string& seed) {
  std::vector<message> out;
  for (int i = 0; i < kMessages; ++i) {
    message m;
    m.partition = i % kPartitions;
    if (i % 5 != 0) m.key = seed + "key-" + std::to_string(i);
    if (i % 7 == 3) {
      // null value
    } else if (i % 11 == 4) {
      m.value = std::string();
    } else if (i % 150 == 149) {
      m.value = bytes_of(i, 100'000);
    } else {
      m.value = bytes_of(i, 20 + static_cast<size_t>((i * 37) % 700));
    }
    if (i % 4 != 0) {
      m.headers.push_back({"idx", std::to_string(i)});
      m.headers.push_back({"bin", std::string("\x01\x00\xff", 3)});
      if (i % 4 == 2) m.headers.push_back({"idx", std::string("dup")});
      if (i % 8 == 3) m.headers.push_back({"null", std::nullopt});
      if (i % 8 == 1) m.headers.push_back({"empty", std::string()});
    }
    m.ts = kBaseTs + i;
    out.push_back(std::move(m));
  }
  return out;
}

std::string describe(const message& m) {
  std::string s = "{key=" + (m.key ? "'" + m.key->substr(0, 40) + "'" : std::string("null")) +
                  " value=" + (m.value ? "len " + std::to_string(m.value->size()) : std::string("null")) +
                  " ts=" + std::to_string(m.ts) + " headers=[";
  for (const auto& h : m.headers) s += h.key + "=" + (h.value ? std::to_string(h.value->size()) + "B" : "null") + ",";
  return s + "]}";
}

// ---- librdkafka helpers -------------------------------------------------------------
std::unique_ptr<RdKafka::Conf> global_conf(const std::string& bootstrap) {
  std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const char* k, const std::string& v) {
    if (c->set(k, v, err) != RdKafka::Conf::CONF_OK) throw std::runtime_error(std::string(k) + ": " + err);
  };
  set("bootstrap.servers", bootstrap);
  set("broker.address.family", "v4");
  set("log_level", "3");
  return c;
}

// Creates a topic with rd_kafka_CreateTopics on the producer's handle.
std::string create_topic(rd_kafka_t* rk, const std::string& name, int partitions) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(name.c_str(), partitions, 1, errstr, sizeof errstr);
  if (!nt) return errstr;
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
  std::string result = "no CreateTopics result within 30 s";
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev) {
    if (rd_kafka_event_error(ev)) {
      result = rd_kafka_event_error_string(ev);
    } else {
      size_t n = 0;
      const rd_kafka_topic_result_t** tr =
          rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
      result = n == 1 ? (rd_kafka_topic_result_error(tr[0]) ? rd_kafka_err2str(rd_kafka_topic_result_error(tr[0]))
                                                            : "")
                      : "unexpected result count";
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  return result;
}

struct delivery : public RdKafka::DeliveryReportCb {
  std::mutex mu;
  std::map<intptr_t, std::pair<int32_t, int64_t>> acked;
  std::vector<std::string> errors;
  void dr_cb(RdKafka::Message& m) override {
    std::lock_guard<std::mutex> g(mu);
    if (m.err() != RdKafka::ERR_NO_ERROR)
      errors.push_back(m.errstr());
    else
      acked[reinterpret_cast<intptr_t>(m.msg_opaque())] = {m.partition(), m.offset()};
  }
};

class LibrdkafkaRoundTrip : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string err = broker_.start();
    ASSERT_EQ(err, "");
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "%s\n", broker_.log().c_str());
    EXPECT_TRUE(broker_.alive()) << "broker died";
    EXPECT_EQ(broker_.stop(), 0) << "broker exit status after SIGTERM\n" << broker_.log();
  }
  broker_process broker_;
};

TEST_P(LibrdkafkaRoundTrip, ProduceConsumeByteExact) {
  const std::string codec = GetParam();
  const std::string topic = "rdk-" + codec;
  const auto msgs = make_messages(codec + "-");

  // ---- produce ----
  delivery dr;
  auto pconf = global_conf(broker_.bootstrap());
  std::string err;
  ASSERT_EQ(pconf->set("compression.codec", codec, err), RdKafka::Conf::CONF_OK) << err;
  ASSERT_EQ(pconf->set("acks", "all", err), RdKafka::Conf::CONF_OK) << err;
  ASSERT_EQ(pconf->set("linger.ms", "20", err), RdKafka::Conf::CONF_OK) << err;
  ASSERT_EQ(pconf->set("max.in.flight.requests.per.connection", "1", err), RdKafka::Conf::CONF_OK) << err;
  ASSERT_EQ(pconf->set("message.timeout.ms", "60000", err), RdKafka::Conf::CONF_OK) << err;
  ASSERT_EQ(pconf->set("dr_cb", &dr, err), RdKafka::Conf::CONF_OK) << err;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(pconf.get(), err));
  ASSERT_TRUE(producer) << err;
  ASSERT_EQ(create_topic(producer->c_ptr(), topic, kPartitions), "");

  for (size_t i = 0; i < msgs.size(); ++i) {
    const auto& m = msgs[i];
    RdKafka::Headers* hs = RdKafka::Headers::create();
    for (const auto& h : m.headers) {
      if (h.value)
        hs->add(h.key, h.value->data(), h.value->size());
      else
        hs->add(h.key, nullptr, 0);
    }
    RdKafka::ErrorCode e;
    const auto deadline = clock_type::now() + 30s;
    do {
      e = producer->produce(topic, m.partition, RdKafka::Producer::RK_MSG_COPY,
                            m.value ? const_cast<char*>(m.value->data()) : nullptr, m.value ? m.value->size() : 0,
                            m.key ? m.key->data() : nullptr, m.key ? m.key->size() : 0, m.ts, hs,
                            reinterpret_cast<void*>(static_cast<intptr_t>(i)));
      if (e == RdKafka::ERR__QUEUE_FULL) producer->poll(50);
    } while (e == RdKafka::ERR__QUEUE_FULL && clock_type::now() < deadline);
    if (e != RdKafka::ERR_NO_ERROR) delete hs;  // ownership passes only on success
    ASSERT_EQ(e, RdKafka::ERR_NO_ERROR) << "produce " << i << ": " << RdKafka::err2str(e);
    producer->poll(0);
  }
  ASSERT_EQ(producer->flush(60000), RdKafka::ERR_NO_ERROR) << "flush timed out";
  {
    std::lock_guard<std::mutex> g(dr.mu);
    ASSERT_TRUE(dr.errors.empty()) << dr.errors.size() << " delivery errors, first: " << dr.errors.front();
    ASSERT_EQ(dr.acked.size(), msgs.size());
    std::map<int32_t, int64_t> next;
    for (size_t i = 0; i < msgs.size(); ++i) {
      auto [p, off] = dr.acked.at(static_cast<intptr_t>(i));
      ASSERT_EQ(p, msgs[i].partition);
      ASSERT_EQ(off, next[p]++) << "acknowledged offset of message " << i;
    }
  }

  // ---- consume (legacy consumer: no group) ----
  auto cconf = global_conf(broker_.bootstrap());
  ASSERT_EQ(cconf->set("enable.partition.eof", "true", err), RdKafka::Conf::CONF_OK) << err;
  ASSERT_EQ(cconf->set("fetch.wait.max.ms", "100", err), RdKafka::Conf::CONF_OK) << err;
  std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(cconf.get(), err));
  ASSERT_TRUE(consumer) << err;
  std::unique_ptr<RdKafka::Conf> tconf(RdKafka::Conf::create(RdKafka::Conf::CONF_TOPIC));
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(consumer.get(), topic, tconf.get(), err));
  ASSERT_TRUE(t) << err;

  for (int32_t p = 0; p < kPartitions; ++p) {
    std::vector<message> expected;
    for (const auto& m : msgs)
      if (m.partition == p) expected.push_back(m);
    ASSERT_EQ(consumer->start(t.get(), p, RdKafka::Topic::OFFSET_BEGINNING), RdKafka::ERR_NO_ERROR);
    std::vector<message> got;
    std::vector<int64_t> offsets;
    bool eof = false;
    const auto deadline = clock_type::now() + 60s;
    while (!(eof && got.size() >= expected.size()) && clock_type::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(t.get(), p, 200));
      if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
      if (m->err() == RdKafka::ERR__PARTITION_EOF) {
        eof = true;
        continue;
      }
      ASSERT_EQ(m->err(), RdKafka::ERR_NO_ERROR) << m->errstr();
      eof = false;
      message r;
      r.partition = m->partition();
      if (m->key_pointer()) r.key = std::string(static_cast<const char*>(m->key_pointer()), m->key_len());
      if (m->payload()) r.value = std::string(static_cast<const char*>(m->payload()), m->len());
      r.ts = m->timestamp().timestamp;
      EXPECT_EQ(m->timestamp().type, RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME);
      if (RdKafka::Headers* hs = m->headers()) {
        for (const auto& h : hs->get_all()) {
          header hh{h.key(), std::nullopt};
          if (h.value()) hh.value = std::string(static_cast<const char*>(h.value()), h.value_size());
          r.headers.push_back(std::move(hh));
        }
      }
      offsets.push_back(m->offset());
      got.push_back(std::move(r));
    }
    consumer->stop(t.get(), p);
    ASSERT_EQ(got.size(), expected.size()) << "partition " << p << (eof ? "" : " (no EOF before the deadline)");
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(offsets[i], static_cast<int64_t>(i)) << "partition " << p;
      ASSERT_TRUE(got[i] == expected[i]) << "partition " << p << " offset " << i << ": expected "
                                         << describe(expected[i]) << ", got " << describe(got[i]);
      // Null value and empty value are different things on the wire.
      ASSERT_EQ(got[i].value.has_value(), expected[i].value.has_value());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, LibrdkafkaRoundTrip, ::testing::Values("none", "gzip", "snappy", "lz4", "zstd"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
