#include "cluster/local_metadata_store.h"

#include <boost/json.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace strata::cluster {

namespace json = boost::json;

namespace {

class store_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "metadata_store"; }
  std::string message(int c) const override {
    switch (static_cast<store_errc>(c)) {
      case store_errc::ok: return "ok";
      case store_errc::topic_exists: return "topic already exists";
      case store_errc::unknown_topic: return "unknown topic";
      case store_errc::io_error: return "metadata store I/O error";
      case store_errc::invalid_request: return "invalid request";
    }
    return "unknown";
  }
};

bool write_file_durably(const std::string& dir, const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return false;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return false;
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace

const std::error_category& store_category() {
  static store_category_impl c;
  return c;
}

local_metadata_store::local_metadata_store(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  path_ = dir_ + "/strata-metadata.json";
  std::ifstream in(path_);
  if (!in) {
    cluster_id_ = protocol::uuid::random().to_base64();
    std::lock_guard lk(mu_);
    if (persist_locked()) throw std::runtime_error(fmt::format("cannot write metadata file '{}'", path_));
    spdlog::info("created new cluster metadata in {} (cluster id {})", path_, cluster_id_);
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    json::value v = json::parse(ss.str());
    const auto& o = v.as_object();
    if (o.at("version").as_int64() != 1)
      throw std::runtime_error("unsupported metadata file version");
    store_version_ = static_cast<uint64_t>(o.at("store_version").as_int64());
    cluster_id_ = std::string(o.at("cluster_id").as_string());
    for (const auto& [name, tv] : o.at("topics").as_object()) {
      const auto& to = tv.as_object();
      topic_metadata t;
      t.name = std::string(name);
      auto id = protocol::uuid::from_base64(std::string(to.at("id").as_string()));
      if (!id) throw std::runtime_error("bad topic id for " + t.name);
      t.id = *id;
      t.partitions = static_cast<int32_t>(to.at("partitions").as_int64());
      t.replication_factor = static_cast<int16_t>(to.at("replication_factor").as_int64());
      for (const auto& [k, cv] : to.at("configs").as_object()) t.configs[std::string(k)] = std::string(cv.as_string());
      topics_[t.name] = std::move(t);
    }
    if (auto* bc = o.if_contains("broker_configs"))
      for (const auto& [k, cv] : bc->as_object()) broker_configs_[std::string(k)] = std::string(cv.as_string());
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("metadata file '{}' is corrupt: {}", path_, e.what()));
  }
}

std::error_code local_metadata_store::persist_locked() {
  json::object root;
  root["version"] = 1;
  root["store_version"] = ++store_version_;
  root["cluster_id"] = cluster_id_;
  json::object topics;
  for (const auto& [name, t] : topics_) {
    json::object to;
    to["id"] = t.id.to_base64();
    to["partitions"] = t.partitions;
    to["replication_factor"] = t.replication_factor;
    json::object cfg;
    for (const auto& [k, v] : t.configs) cfg[k] = v;
    to["configs"] = std::move(cfg);
    topics[name] = std::move(to);
  }
  root["topics"] = std::move(topics);
  json::object bc;
  for (const auto& [k, v] : broker_configs_) bc[k] = v;
  root["broker_configs"] = std::move(bc);
  if (!write_file_durably(dir_, path_, json::serialize(root))) {
    spdlog::error("cannot write metadata file {}: {}", path_, std::strerror(errno));
    return store_errc::io_error;
  }
  return {};
}

std::string local_metadata_store::cluster_id() const {
  std::lock_guard lk(mu_);
  return cluster_id_;
}

std::vector<topic_metadata> local_metadata_store::list_topics() const {
  std::lock_guard lk(mu_);
  std::vector<topic_metadata> out;
  for (const auto& [n, t] : topics_) out.push_back(t);
  return out;
}

std::optional<topic_metadata> local_metadata_store::get_topic(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second;
}

std::error_code local_metadata_store::create_topic(const topic_metadata& t) {
  std::lock_guard lk(mu_);
  if (topics_.count(t.name)) return store_errc::topic_exists;
  topics_[t.name] = t;
  if (auto ec = persist_locked()) {
    topics_.erase(t.name);
    return ec;
  }
  return {};
}

std::error_code local_metadata_store::delete_topic(const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return store_errc::unknown_topic;
  auto saved = it->second;
  topics_.erase(it);
  if (auto ec = persist_locked()) {
    topics_[name] = saved;
    return ec;
  }
  return {};
}

std::error_code local_metadata_store::set_partition_count(const std::string& name, int32_t partitions,
                                                          const replica_assignment&) {
  std::lock_guard lk(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return store_errc::unknown_topic;
  if (partitions < it->second.partitions) return store_errc::invalid_request;
  int32_t old = it->second.partitions;
  it->second.partitions = partitions;
  if (auto ec = persist_locked()) {
    it->second.partitions = old;
    return ec;
  }
  return {};
}

std::error_code local_metadata_store::set_topic_configs(const std::string& name,
                                                        const std::map<std::string, std::string>& c) {
  std::lock_guard lk(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return store_errc::unknown_topic;
  auto old = it->second.configs;
  it->second.configs = c;
  if (auto ec = persist_locked()) {
    it->second.configs = old;
    return ec;
  }
  return {};
}

std::map<std::string, std::string> local_metadata_store::broker_configs() const {
  std::lock_guard lk(mu_);
  return broker_configs_;
}

std::error_code local_metadata_store::set_broker_configs(const std::map<std::string, std::string>& c) {
  std::lock_guard lk(mu_);
  auto old = broker_configs_;
  broker_configs_ = c;
  if (auto ec = persist_locked()) {
    broker_configs_ = old;
    return ec;
  }
  return {};
}

}  // namespace strata::cluster
