#include "zk/kafka_zk.h"

#include <algorithm>
#include <charconv>
#include <climits>

namespace strata::zk {
namespace {

// Ops per multi when a write is split (ZooKeeper's request limit,
// jute.maxbuffer, is 1 MiB; 500 short ops stay far below it).
constexpr size_t max_ops_per_multi = 500;
// BADVERSION retries before claim_producer_id_block gives up.
constexpr int max_block_claim_attempts = 100;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int32_t> parse_id(const std::string& s) {
  int32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string hex(int64_t v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<uint64_t>(v), 16);
  return "0x" + std::string(buf, p);
}

// Prefixes a decode error with the znode it came from.
error at(const std::string& path, const error& e) { return error(e.code, path + ": " + e.detail); }

}  // namespace

result<void> kafka_zk::ensure_persistent_paths() {
  for (const auto& p : paths::persistent()) {
    if (auto r = zk_.ensure_path(p); !r) return r.error();
  }
  return success();
}

// ---- cluster id ------------------------------------------------------------------

result<std::optional<std::string>> kafka_zk::get_cluster_id() {
  auto r = zk_.get(paths::cluster_id);
  if (!r) {
    if (r.error() == errc::no_node) return std::optional<std::string>();
    return r.error();
  }
  auto id = decode_cluster_id(r.value().data);
  if (!id) return at(paths::cluster_id, id.error());
  return std::optional<std::string>(id.value());
}

result<std::string> kafka_zk::get_or_create_cluster_id(const std::string& proposed) {
  auto existing = get_cluster_id();
  if (!existing) return existing.error();
  if (existing.value()) return *existing.value();
  if (auto r = zk_.ensure_path("/cluster"); !r) return r.error();
  auto c = zk_.create(paths::cluster_id, encode_cluster_id(proposed));
  if (c) return proposed;
  if (c.error() != errc::node_exists) return c.error();
  auto again = get_cluster_id();  // another broker won the race: use its id
  if (!again) return again.error();
  if (!again.value()) return error(errc::no_node, "/cluster/id vanished after a create race");
  return *again.value();
}

// ---- brokers -----------------------------------------------------------------------

result<int64_t> kafka_zk::register_broker(const broker_registration& b) {
  broker_registration reg = b;
  if (reg.timestamp_ms == 0) reg.timestamp_ms = now_ms();
  const std::string path = paths::broker(b.id);
  // The znode can vanish between a create answered NODEEXISTS and the look at its
  // owner: an earlier session of this broker expiring right then (a restart after a
  // crash). Then the create is tried again.
  for (int attempt = 0;; ++attempt) {
    auto c = zk_.create(path, encode_broker(reg), create_mode::ephemeral);
    if (!c && c.error() == errc::no_node) {
      if (auto e = zk_.ensure_path(paths::broker_ids); !e) return e.error();
      c = zk_.create(path, encode_broker(reg), create_mode::ephemeral);
    }
    if (!c && c.error() != errc::node_exists) return c.error();
    auto s = zk_.exists(path);
    if (!s) return s.error();
    if (!s.value()) {
      if (attempt < 3) continue;
      return error(errc::no_node, "register broker " + std::to_string(b.id) + ": " + path + " keeps vanishing");
    }
    if (s.value()->ephemeral_owner == zk_.session_id()) return s.value()->czxid;
    return error(kafka_errc::broker_already_registered,
                 "broker id " + std::to_string(b.id) + " is already registered at " + path + " by another session (" +
                     hex(s.value()->ephemeral_owner) + "); is another broker running with broker.id=" +
                     std::to_string(b.id) + "?");
  }
}

result<std::vector<int32_t>> kafka_zk::list_brokers(watch_fn w) {
  auto r = zk_.get_children(paths::broker_ids, std::move(w));
  if (!r) {
    if (r.error() == errc::no_node) return std::vector<int32_t>{};
    return r.error();
  }
  std::vector<int32_t> ids;
  for (auto& c : r.value()) {
    if (auto id = parse_id(c)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

result<std::optional<broker_registration>> kafka_zk::get_broker(int32_t id, watch_fn w) {
  const std::string path = paths::broker(id);
  auto r = zk_.get(path, std::move(w));
  if (!r) {
    if (r.error() == errc::no_node) return std::optional<broker_registration>();
    return r.error();
  }
  auto b = decode_broker(r.value().data);
  if (!b) return at(path, b.error());
  b.value().id = id;
  b.value().broker_epoch = r.value().stat.czxid;
  return std::optional<broker_registration>(std::move(b.value()));
}

result<std::vector<broker_registration>> kafka_zk::get_all_brokers() {
  auto ids = list_brokers();
  if (!ids) return ids.error();
  std::vector<broker_registration> out;
  for (int32_t id : ids.value()) {
    auto b = get_broker(id);
    if (!b) return b.error();
    if (b.value()) out.push_back(std::move(*b.value()));  // gone since the listing: skip
  }
  return out;
}

// ---- controller --------------------------------------------------------------------

result<std::optional<controller_info>> kafka_zk::get_controller(watch_fn w) {
  if (w) {
    auto e = zk_.exists(paths::controller, std::move(w));
    if (!e) return e.error();
    if (!e.value()) return std::optional<controller_info>();
  }
  auto r = zk_.get(paths::controller);
  if (!r) {
    if (r.error() == errc::no_node) return std::optional<controller_info>();
    return r.error();
  }
  auto c = decode_controller(r.value().data);
  if (!c) return at(paths::controller, c.error());
  return std::optional<controller_info>(c.value());
}

result<std::optional<controller_epoch_state>> kafka_zk::get_controller_epoch() {
  auto r = zk_.get(paths::controller_epoch);
  if (!r) {
    if (r.error() == errc::no_node) return std::optional<controller_epoch_state>();
    return r.error();
  }
  auto e = decode_controller_epoch(r.value().data);
  if (!e) return e.error();
  return std::optional<controller_epoch_state>(controller_epoch_state{e.value(), r.value().stat.version});
}

result<election> kafka_zk::try_elect_controller(int32_t broker_id) {
  auto cur = get_controller_epoch();
  if (!cur) return cur.error();
  if (!cur.value()) {
    // Kafka's KafkaController.InitialControllerEpoch is 0.
    auto c = zk_.create(paths::controller_epoch, encode_controller_epoch(0));
    if (!c && c.error() != errc::node_exists) return c.error();
    cur = get_controller_epoch();
    if (!cur) return cur.error();
    if (!cur.value()) return error(errc::no_node, "/controller_epoch vanished after its creation");
  }
  const controller_epoch_state read = *cur.value();
  const int32_t new_epoch = read.epoch + 1;
  auto m = zk_.multi({
      op::create(paths::controller, encode_controller({broker_id, now_ms()}), create_mode::ephemeral),
      op::set(paths::controller_epoch, encode_controller_epoch(new_epoch), read.zk_version),
  });
  if (m) return election{true, {new_epoch, m.value()[1].stat.version}, broker_id};
  if (m.error() != errc::node_exists && m.error() != errc::bad_version) return m.error();

  // Lost, or our own earlier attempt landed before a lost reply
  // (Kafka's checkControllerAndEpoch).
  auto ctrl = get_controller();
  if (!ctrl) return ctrl.error();
  auto now = get_controller_epoch();
  if (!now) return now.error();
  election lost;
  lost.epoch = now.value().value_or(read);
  lost.controller_id = ctrl.value() ? ctrl.value()->broker_id : -1;
  if (lost.controller_id == broker_id && lost.epoch.epoch == new_epoch) lost.elected = true;
  return lost;
}

result<void> kafka_zk::resign_controller(int32_t epoch_zk_version) {
  auto r = fenced_multi({op::remove(paths::controller, -1)}, epoch_zk_version);
  if (!r) return r.error();
  return success();
}

std::vector<op> kafka_zk::fenced(std::vector<op> ops, int32_t epoch_zk_version) {
  ops.insert(ops.begin(), op::check(paths::controller_epoch, epoch_zk_version));
  return ops;
}

result<std::vector<op_result>> kafka_zk::fenced_multi(std::vector<op> ops, int32_t epoch_zk_version) {
  auto r = zk_.multi(fenced(std::move(ops), epoch_zk_version));
  if (!r && r.error().failed_op == 0 && r.error() == errc::bad_version) {
    return error(errc::bad_version,
                 "controller epoch fence: /controller_epoch is no longer at version " +
                     std::to_string(epoch_zk_version) + " (a newer controller was elected)",
                 0);
  }
  if (!r) return r.error();
  r.value().erase(r.value().begin());  // the check op's result
  return r;
}

result<void> kafka_zk::fenced_chunks(const std::vector<op>& ops, int32_t epoch_zk_version) {
  for (size_t i = 0; i < ops.size(); i += max_ops_per_multi) {
    std::vector<op> chunk(ops.begin() + i, ops.begin() + std::min(ops.size(), i + max_ops_per_multi));
    if (auto r = fenced_multi(std::move(chunk), epoch_zk_version); !r) return r.error();
  }
  return success();
}

// ---- topics --------------------------------------------------------------------------

result<void> kafka_zk::create_topic(const std::string& topic, const topic_assignment& a, const config_map& configs) {
  auto existing = zk_.exists(paths::topic(topic));
  if (!existing) return existing.error();
  if (existing.value()) return error(kafka_errc::topic_exists, "topic " + topic);
  if (auto r = set_entity_config("topics", topic, configs); !r) return r.error();
  auto c = zk_.create(paths::topic(topic), encode_topic(a));
  if (!c && c.error() == errc::no_node) {
    if (auto e = zk_.ensure_path(paths::broker_topics); !e) return e.error();
    c = zk_.create(paths::topic(topic), encode_topic(a));
  }
  if (!c && c.error() == errc::node_exists) return error(kafka_errc::topic_exists, "topic " + topic);
  if (!c) return c.error();
  return success();
}

result<std::optional<topic_assignment>> kafka_zk::get_topic(const std::string& topic, watch_fn w) {
  const std::string path = paths::topic(topic);
  auto r = zk_.get(path, std::move(w));
  if (!r) {
    if (r.error() == errc::no_node) return std::optional<topic_assignment>();
    return r.error();
  }
  auto t = decode_topic(r.value().data);
  if (!t) return at(path, t.error());
  t.value().zk_version = r.value().stat.version;
  return std::optional<topic_assignment>(std::move(t.value()));
}

result<std::vector<std::string>> kafka_zk::list_topics(watch_fn w) {
  return sorted_children(paths::broker_topics, std::move(w));
}

result<int32_t> kafka_zk::add_partitions(const std::string& topic, const replica_map& added,
                                         int32_t expected_zk_version) {
  auto cur = get_topic(topic);
  if (!cur) return cur.error();
  if (!cur.value()) return error(kafka_errc::unknown_topic, "add partitions to " + topic);
  topic_assignment a = std::move(*cur.value());
  int32_t next = static_cast<int32_t>(a.partitions.size());
  for (auto& [p, replicas] : added) {
    if (p != next++ || replicas.empty()) {
      return error(kafka_errc::invalid_assignment, "add partitions to " + topic + ": partition " + std::to_string(p) +
                                                       " is not the next one, or has no replicas");
    }
    a.partitions[p] = replicas;
  }
  int32_t version = expected_zk_version >= 0 ? expected_zk_version : a.zk_version;
  auto s = zk_.set(paths::topic(topic), encode_topic(a), version);
  if (!s) return s.error();
  return s.value().version;
}

result<int32_t> kafka_zk::set_topic_assignment_fenced(const std::string& topic, const topic_assignment& a,
                                                       int32_t epoch_zk_version) {
  auto r = fenced_multi({op::set(paths::topic(topic), encode_topic(a), -1)}, epoch_zk_version);
  if (!r) return r.error();
  return r.value()[0].stat.version;
}

// ---- /admin/reassign_partitions ----------------------------------------------------------

result<std::optional<std::vector<partition_reassignment>>> kafka_zk::get_partition_reassignment(watch_fn w) {
  using out_t = std::optional<std::vector<partition_reassignment>>;
  auto st = zk_.exists(paths::reassign_partitions, std::move(w));
  if (!st) return st.error();
  if (!st.value()) return out_t();
  auto r = zk_.get(paths::reassign_partitions);
  if (!r) {
    if (r.error() == errc::no_node) return out_t();
    return r.error();
  }
  auto d = decode_reassignment(r.value().data);
  if (!d) return at(paths::reassign_partitions, d.error());
  return out_t(std::move(d.value()));
}

result<void> kafka_zk::set_partition_reassignment(const std::vector<partition_reassignment>& r,
                                                  int32_t epoch_zk_version) {
  if (r.empty()) {
    auto d = fenced_multi({op::remove(paths::reassign_partitions, -1)}, epoch_zk_version);
    if (!d && !(d.error() == errc::no_node)) return d.error();
    return success();
  }
  auto s = fenced_multi({op::set(paths::reassign_partitions, encode_reassignment(r), -1)}, epoch_zk_version);
  if (!s && s.error() == errc::no_node)
    s = fenced_multi({op::create(paths::reassign_partitions, encode_reassignment(r))}, epoch_zk_version);
  if (!s) return s.error();
  return success();
}

result<void> kafka_zk::create_partition_reassignment(const std::vector<partition_reassignment>& r) {
  auto c = zk_.create(paths::reassign_partitions, encode_reassignment(r));
  if (!c) return c.error();
  return success();
}

result<std::vector<std::string>> kafka_zk::sorted_children(const std::string& path, watch_fn w) {
  auto r = zk_.get_children(path, std::move(w));
  if (!r) {
    if (r.error() == errc::no_node) return std::vector<std::string>{};
    return r.error();
  }
  std::sort(r.value().begin(), r.value().end());
  return r;
}

// ---- partition state ---------------------------------------------------------------------

result<void> kafka_zk::create_partition_states(const std::string& topic,
                                               const std::map<int32_t, leader_and_isr>& states,
                                               int32_t epoch_zk_version) {
  std::vector<op> ops;
  for (auto& [p, s] : states) {
    if (auto r = zk_.ensure_path(paths::partition(topic, p)); !r) return r.error();
    ops.push_back(op::create(paths::partition_state(topic, p), encode_partition_state(s)));
  }
  return fenced_chunks(ops, epoch_zk_version);
}

result<std::optional<leader_and_isr>> kafka_zk::get_partition_state(const std::string& topic, int32_t partition,
                                                                    watch_fn w) {
  const std::string path = paths::partition_state(topic, partition);
  auto r = zk_.get(path, std::move(w));
  if (!r) {
    if (r.error() == errc::no_node) return std::optional<leader_and_isr>();
    return r.error();
  }
  auto s = decode_partition_state(r.value().data);
  if (!s) return at(path, s.error());
  s.value().partition_epoch = r.value().stat.version;
  return std::optional<leader_and_isr>(std::move(s.value()));
}

result<int32_t> kafka_zk::update_partition_state_fenced(const std::string& topic, int32_t partition,
                                                        const leader_and_isr& s, int32_t epoch_zk_version) {
  auto r = fenced_multi({op::set(paths::partition_state(topic, partition), encode_partition_state(s), s.partition_epoch)},
                        epoch_zk_version);
  if (!r) return r.error();
  return r.value()[0].stat.version;
}

result<int32_t> kafka_zk::update_partition_state_conditional(const std::string& topic, int32_t partition,
                                                             const leader_and_isr& s) {
  const std::string path = paths::partition_state(topic, partition);
  auto w = zk_.set(path, encode_partition_state(s), s.partition_epoch);
  if (w) return w.value().version;
  if (w.error() != errc::bad_version) return w.error();
  // Re-read: a write of ours whose reply was lost looks like a conflict.
  auto now = get_partition_state(topic, partition);
  if (!now) return now.error();
  if (now.value() && now.value()->same_state(s)) return now.value()->partition_epoch;
  return error(errc::bad_version, "partition state " + path + " changed since version " +
                                      std::to_string(s.partition_epoch) + " (now " +
                                      (now.value() ? std::to_string(now.value()->partition_epoch) : "gone") +
                                      "); the controller owns it");
}

// ---- ISR change notifications --------------------------------------------------------------

result<std::string> kafka_zk::create_isr_change_notification(const std::vector<topic_partition>& tps) {
  const std::string prefix = std::string(paths::isr_change_notification) + "/" + paths::isr_change_prefix;
  auto c = zk_.create(prefix, encode_isr_change(tps), create_mode::persistent_sequential);
  if (!c && c.error() == errc::no_node) {
    if (auto e = zk_.ensure_path(paths::isr_change_notification); !e) return e.error();
    c = zk_.create(prefix, encode_isr_change(tps), create_mode::persistent_sequential);
  }
  if (!c) return c.error();
  return c.value().substr(c.value().rfind('/') + 1);
}

result<std::vector<std::string>> kafka_zk::list_isr_change_notifications(watch_fn w) {
  return sorted_children(paths::isr_change_notification, std::move(w));
}

result<std::vector<topic_partition>> kafka_zk::get_isr_change_notification(const std::string& name) {
  const std::string path = std::string(paths::isr_change_notification) + "/" + name;
  auto r = zk_.get(path);
  if (!r) return r.error();
  auto tps = decode_isr_change(r.value().data);
  if (!tps) return at(path, tps.error());
  return tps;
}

result<void> kafka_zk::delete_isr_change_notifications(const std::vector<std::string>& names,
                                                       int32_t epoch_zk_version) {
  for (auto& n : names) {
    auto r = fenced_multi({op::remove(std::string(paths::isr_change_notification) + "/" + n, -1)}, epoch_zk_version);
    if (!r && !(r.error() == errc::no_node)) return r.error();
  }
  return success();
}

// ---- log dir event notifications -----------------------------------------------------------

result<std::string> kafka_zk::create_log_dir_event_notification(int32_t broker_id) {
  const std::string prefix = std::string(paths::log_dir_event_notification) + "/" + paths::log_dir_event_prefix;
  auto c = zk_.create(prefix, encode_log_dir_event(broker_id), create_mode::persistent_sequential);
  if (!c && c.error() == errc::no_node) {
    if (auto e = zk_.ensure_path(paths::log_dir_event_notification); !e) return e.error();
    c = zk_.create(prefix, encode_log_dir_event(broker_id), create_mode::persistent_sequential);
  }
  if (!c) return c.error();
  return c.value().substr(c.value().rfind('/') + 1);
}

result<std::vector<std::string>> kafka_zk::list_log_dir_event_notifications(watch_fn w) {
  return sorted_children(paths::log_dir_event_notification, std::move(w));
}

result<int32_t> kafka_zk::get_log_dir_event_notification(const std::string& name) {
  const std::string path = std::string(paths::log_dir_event_notification) + "/" + name;
  auto r = zk_.get(path);
  if (!r) return r.error();
  auto id = decode_log_dir_event(r.value().data);
  if (!id) return at(path, id.error());
  return id;
}

result<void> kafka_zk::delete_log_dir_event_notifications(const std::vector<std::string>& names,
                                                          int32_t epoch_zk_version) {
  for (auto& n : names) {
    auto r =
        fenced_multi({op::remove(std::string(paths::log_dir_event_notification) + "/" + n, -1)}, epoch_zk_version);
    if (!r && !(r.error() == errc::no_node)) return r.error();
  }
  return success();
}

// ---- topic deletion ------------------------------------------------------------------------

result<void> kafka_zk::request_topic_deletion(const std::string& topic) {
  auto c = zk_.create(paths::delete_topic(topic), std::nullopt);
  if (!c && c.error() == errc::no_node) {
    if (auto e = zk_.ensure_path(paths::delete_topics); !e) return e.error();
    c = zk_.create(paths::delete_topic(topic), std::nullopt);
  }
  if (c || c.error() == errc::node_exists) return success();
  return c.error();
}

result<std::vector<std::string>> kafka_zk::list_topic_deletions(watch_fn w) {
  return sorted_children(paths::delete_topics, std::move(w));
}

result<void> kafka_zk::remove_topic_deletion_request(const std::string& topic, int32_t epoch_zk_version) {
  auto r = fenced_multi({op::remove(paths::delete_topic(topic), -1)}, epoch_zk_version);
  if (!r && !(r.error() == errc::no_node)) return r.error();
  return success();
}

result<void> kafka_zk::delete_recursive_fenced(const std::string& path, int32_t epoch_zk_version) {
  // Post-order walk: children before their parent.
  std::vector<op> ops;
  std::vector<std::pair<std::string, bool>> stack{{path, false}};
  while (!stack.empty()) {
    auto [p, expanded] = stack.back();
    stack.pop_back();
    if (expanded) {
      ops.push_back(op::remove(p, -1));
      continue;
    }
    auto kids = zk_.get_children(p);
    if (!kids) {
      if (kids.error() == errc::no_node) continue;
      return kids.error();
    }
    stack.push_back({p, true});
    for (auto& k : kids.value()) stack.push_back({p + "/" + k, false});
  }
  auto r = fenced_chunks(ops, epoch_zk_version);
  // A concurrent deleter may have removed some of them first: walk again.
  if (!r && r.error() == errc::no_node) return delete_recursive_fenced(path, epoch_zk_version);
  return r;
}

result<void> kafka_zk::delete_topic_znodes(const std::string& topic, int32_t epoch_zk_version) {
  if (auto r = delete_recursive_fenced(paths::topic(topic), epoch_zk_version); !r) return r.error();
  return delete_recursive_fenced(paths::config_entity("topics", topic), epoch_zk_version);
}

// ---- configs ---------------------------------------------------------------------------------

result<config_map> kafka_zk::get_entity_config(const std::string& type, const std::string& name) {
  const std::string path = paths::config_entity(type, name);
  auto r = zk_.get(path);
  if (!r) {
    if (r.error() == errc::no_node) return config_map{};
    return r.error();
  }
  if (r.value().data.empty()) return config_map{};
  auto c = decode_entity_config(r.value().data);
  if (!c) return at(path, c.error());
  return c;
}

result<void> kafka_zk::set_entity_config(const std::string& type, const std::string& name, const config_map& c) {
  const std::string path = paths::config_entity(type, name);
  const std::string data = encode_entity_config(c);
  auto s = zk_.set(path, data, -1);
  if (!s && s.error() == errc::no_node) {
    auto parent = path.substr(0, path.rfind('/'));
    if (auto e = zk_.ensure_path(parent); !e) return e.error();
    auto cr = zk_.create(path, data);
    if (!cr && cr.error() == errc::node_exists) {
      s = zk_.set(path, data, -1);  // created concurrently: ours is the later write
    } else if (!cr) {
      return cr.error();
    } else {
      s = node_stat{};
    }
  }
  if (!s) return s.error();
  const std::string prefix = std::string(paths::config_changes) + "/" + paths::config_change_prefix;
  auto n = zk_.create(prefix, encode_config_change(type, name), create_mode::persistent_sequential);
  if (!n && n.error() == errc::no_node) {
    if (auto e = zk_.ensure_path(paths::config_changes); !e) return e.error();
    n = zk_.create(prefix, encode_config_change(type, name), create_mode::persistent_sequential);
  }
  if (!n) return n.error();
  return success();
}

result<std::vector<std::string>> kafka_zk::list_config_changes(watch_fn w) {
  return sorted_children(paths::config_changes, std::move(w));
}

result<config_change> kafka_zk::get_config_change(const std::string& name) {
  const std::string path = std::string(paths::config_changes) + "/" + name;
  auto r = zk_.get(path);
  if (!r) return r.error();
  auto c = decode_config_change(r.value().data);
  if (!c) return at(path, c.error());
  return c;
}

result<void> kafka_zk::delete_config_changes(const std::vector<std::string>& names) {
  for (auto& n : names) {
    auto r = zk_.remove(std::string(paths::config_changes) + "/" + n, -1);
    if (!r && !(r.error() == errc::no_node)) return r.error();
  }
  return success();
}

// ---- producer id blocks ------------------------------------------------------------------------

result<producer_id_block> kafka_zk::claim_producer_id_block(int32_t broker_id) {
  const std::string path = paths::latest_producer_id_block;
  for (int attempt = 0; attempt < max_block_claim_attempts; ++attempt) {
    auto cur = zk_.get(path);
    if (!cur && !(cur.error() == errc::no_node)) return cur.error();
    producer_id_block next{broker_id, 0, producer_id_block::size - 1};
    if (cur && !cur.value().data.empty()) {
      auto b = decode_producer_id_block(cur.value().data);
      if (!b) return at(path, b.error());
      if (b.value().last > INT64_MAX - producer_id_block::size) {
        return error(kafka_errc::producer_id_space_exhausted, "last block ends at " + std::to_string(b.value().last));
      }
      next.first = b.value().last + 1;
      next.last = next.first + producer_id_block::size - 1;
    }
    if (!cur) {
      // Deviation: Kafka relies on makeSurePersistentPathsExist having created
      // the znode; we create it with the first block if it is missing.
      auto c = zk_.create(path, encode_producer_id_block(next));
      if (c) return next;
      if (c.error() == errc::node_exists) continue;
      return c.error();
    }
    auto s = zk_.set(path, encode_producer_id_block(next), cur.value().stat.version);
    if (s) return next;
    if (!(s.error() == errc::bad_version)) return s.error();
  }
  return error(kafka_errc::too_many_conflicts, "claim producer id block: " +
                                                   std::to_string(max_block_claim_attempts) +
                                                   " conflicting updates of " + path);
}

}  // namespace strata::zk
