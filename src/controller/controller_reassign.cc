// Partition reassignment (KIP-455), as Kafka's KafkaController.onPartitionReassignment
// does it in ZooKeeper mode. The rules (RS/AR/RR, validation, completion, the leader
// to elect) are pure functions in reassignment.h; this file applies them.
//
// Moving partition P from ORS to TRS (RS = TRS + (ORS - TRS), AR = TRS - ORS,
// RR = ORS - TRS):
//   U.  If P's assignment changes: the topic znode gets RS with "adding_replicas" and
//       "removing_replicas" (fenced); replicas of the old RS the new one drops (a new
//       target replacing an old one, a cancellation) leave the ISR and get
//       StopReplica(delete).
//   A.  Not complete (some target replica is not in the ISR): leader epoch + 1 (fenced
//       state write); LeaderAndIsr with RS to every replica of RS (new replicas create
//       their log and fetch; followers truncate on the new epoch); UpdateMetadata to all.
//       The state znode is watched: each ISR change re-checks completion (so does every
//       ISR change notification and every reassignment event).
//   B.  Complete: RS = TRS in memory; a new leader from TRS ∩ ISR ∩ live if the leader
//       is not in TRS or not live, else the same leader; either way epoch + 1 and
//       ISR = ISR ∩ TRS, in one fenced write; LeaderAndIsr to TRS; StopReplica(delete)
//       to each replica of RR; the topic znode gets RS = TRS without adding/removing;
//       P leaves /admin/reassign_partitions; UpdateMetadata to all.
// A cancellation (null target) is a reassignment back to ORS: U stops the adding
// replicas, and B runs at once (ORS is not "being reassigned").
//
// Deviation: Kafka writes the new leader and the ISR shrink in two steps (election,
// then OfflineReplica for RR); Strata writes them once. Kafka also first sends
// StopReplica without delete to RR; Strata sends StopReplica(delete) directly, as its
// topic deletion does.
//
// Event thread only.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "cluster/leader_election.h"
#include "controller/controller.h"
#include "controller/zk_checks.h"

namespace strata::controller {

using namespace detail;

namespace {

constexpr int kMaxAttempts = 3;  // as partition_changes.cc

bool contains(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

// ---- the API ----------------------------------------------------------------------------

// Kafka's processApiPartitionReassignment.
alter_reassignments_result controller::do_alter_reassignments(const std::vector<reassignment_request>& reqs) {
  alter_reassignments_result res;
  if (!active_) {
    res.error = reassign_error::not_controller;
    return res;
  }
  const auto live = ctx_.live_broker_ids();
  std::vector<std::pair<partition_key, replica_assignment>> todo;
  for (const auto& r : reqs) {
    reassignment_result out{r.topic, r.partition, reassign_error::none, {}};
    const partition_key k{r.topic, r.partition};
    const auto cur = ctx_.assignment(k);
    if (cur.replicas.empty() || ctx_.being_deleted(k.topic)) {
      out.error = reassign_error::unknown_topic_or_partition;
      out.message = "The partition does not exist.";
    } else if (auto bad = r.target ? validate_target(*r.target, cur, live) : std::nullopt) {
      out.error = reassign_error::invalid_replica_assignment;
      out.message = *bad;
    } else if (auto next = build_reassignment(cur, r.target)) {
      todo.emplace_back(k, *next);
    } else {
      out.error = reassign_error::no_reassignment_in_progress;
      out.message = fmt::format("No reassignment in progress for {}.", to_string(k));
    }
    res.partitions.push_back(std::move(out));
  }
  // The latest reassignment wins over one /admin/reassign_partitions asked for (Kafka).
  if (!todo.empty())
    remove_from_reassign_znode([&](const zk::partition_reassignment& e) {
      return std::any_of(todo.begin(), todo.end(), [&](const auto& t) {
        return t.first.topic == e.tp.topic && t.first.partition == e.tp.partition;
      });
    });
  for (const auto& [k, next] : todo) on_partition_reassignment(k, next);
  return res;
}

list_reassignments_result controller::do_list_reassignments(const std::optional<std::vector<partition_key>>& filter) {
  list_reassignments_result res;
  if (!active_) {
    res.error = reassign_error::not_controller;
    return res;
  }
  std::set<partition_key> parts;
  if (filter)
    parts.insert(filter->begin(), filter->end());
  else
    for (const auto& k : ctx_.partitions_being_reassigned()) parts.insert(k);
  for (const auto& k : parts) {
    auto a = ctx_.assignment(k);
    if (a.being_reassigned()) res.partitions.push_back({k.topic, k.partition, std::move(a)});
  }
  return res;
}

// ---- the move ---------------------------------------------------------------------------

void controller::on_partition_reassignment(const partition_key& k, const replica_assignment& next) {
  if (ctx_.being_deleted(k.topic) || ctx_.replicas(k).empty()) return;
  request_batch batch = new_batch();

  // U. Record the new assignment; stop the replicas it no longer has.
  const auto cur = ctx_.assignment(k);
  // Replicas this request adds (Kafka's NewReplica): their LeaderAndIsr says is_new,
  // so a broker creates the log even with another log dir offline. Not on a resume:
  // a replica that has a log already must not get an empty one elsewhere.
  const auto fresh = replicas_dropped(next.replicas, cur.replicas);
  if (cur != next) {
    spdlog::info("controller: {}: reassigning [{}] -> replicas [{}] (adding [{}], removing [{}])", to_string(k),
                 fmt::join(cur.replicas, ","), fmt::join(next.replicas, ","), fmt::join(next.adding, ","),
                 fmt::join(next.removing, ","));
    write_assignment(k, next);
    for (int32_t r : replicas_dropped(cur.replicas, next.replicas)) {
      add_leader_and_isr(batch, remove_from_isr({k}, r));
      batch.stop_replica(r, k, true);
    }
    // A dropped adding replica may have been leading (a preferred election moves
    // leadership to the target's first replica once it is in sync): elect among the rest.
    if (ctx_.state(k) && ctx_.is_offline(k)) add_leader_and_isr(batch, elect_leaders({k}, election_kind::offline));
  }

  if (next.being_reassigned()) {
    // The ISR may have moved on since the context read it.
    auto now = checked(kzk_.get_partition_state(k.topic, k.partition), "reading the state of " + to_string(k));
    if (now) ctx_.states[k] = *now;
    watch_reassignment_isr(k);
  }
  const auto* st = ctx_.state(k);
  if (next.being_reassigned() && (!st || !reassignment_complete(next, st->isr))) {
    // A. Every replica of RS learns RS under a new leader epoch.
    if (st && st->leader >= 0) bump_leader_epoch(k);
    batch.leader_and_isr(ctx_.live_replicas(k), k);
    for (int32_t r : fresh)
      if (ctx_.replica_online(r, k)) batch.leader_and_isr({r}, k, true);
    send(batch);
    return;
  }

  // B. Complete: RS = TRS.
  const auto target = next.target_replicas();
  if (st) {
    const auto live = ctx_.without_offline(k, ctx_.live_broker_ids());
    const bool leader_ok = contains(target, st->leader) && ctx_.replica_online(st->leader, k);
    if (!leader_ok && !reassign_partition_leader(target, st->isr, live)) {
      // No target replica can lead: finishing now would delete the replicas that hold
      // the data. The move stays pending; a broker registering or an ISR change
      // checks it again (Kafka's failed election leaves it pending too).
      spdlog::warn("controller: {}: no target replica [{}] is live and in the ISR [{}]; the move waits",
                   to_string(k), fmt::join(target, ","), fmt::join(st->isr, ","));
      send(batch);
      return;
    }
  }
  replica_assignment done{target, {}, {}};
  ctx_.set_assignment(k, done);
  if (st) {
    const auto live = ctx_.without_offline(k, ctx_.live_broker_ids());
    const bool leader_ok = contains(target, st->leader) && ctx_.replica_online(st->leader, k);
    const int32_t elected = leader_ok ? st->leader : *reassign_partition_leader(target, st->isr, live);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      const auto* s = ctx_.state(k);
      if (!s) break;
      cluster::leader_and_isr n;
      n.leader = leader_ok ? s->leader : elected;
      n.leader_epoch = s->leader_epoch + 1;
      n.isr = isr_after_reassignment(s->isr, target);
      if (n.isr.empty()) n.isr = {n.leader};
      if (write_state(k, n)) {
        spdlog::info("controller: {}: reassignment complete; leader {} in epoch {}, ISR [{}]", to_string(k),
                     n.leader, n.leader_epoch, fmt::join(n.isr, ","));
        break;
      }
    }
  }
  batch.leader_and_isr(ctx_.live_replicas(k), k);
  for (int32_t r : next.removing) batch.stop_replica(r, k, true);
  write_assignment(k, done);
  ctx_.reassignment_isr_watches.erase(k);  // a stale watch finds the partition done
  remove_from_reassign_znode([&](const zk::partition_reassignment& e) {
    return e.tp.topic == k.topic && e.tp.partition == k.partition && e.replicas == target;
  });
  batch.update_metadata(ctx_.live_or_shutting_down_ids(), {k});
  send(batch);
}

void controller::maybe_complete_reassignment(const partition_key& k) {
  if (!active_) return;
  const auto a = ctx_.assignment(k);
  if (!a.being_reassigned() || ctx_.being_deleted(k.topic)) return;
  auto now = checked(kzk_.get_partition_state(k.topic, k.partition), "reading the state of " + to_string(k));
  if (!now) return;
  ctx_.states[k] = *now;
  if (reassignment_complete(a, now->isr)) {
    spdlog::info("controller: {}: target replicas [{}] are all in the ISR", to_string(k),
                 fmt::join(a.target_replicas(), ","));
    on_partition_reassignment(k, a);
  } else {
    watch_reassignment_isr(k);
  }
}

void controller::watch_reassignment_isr(const partition_key& k) {
  if (!ctx_.reassignment_isr_watches.insert(k).second) return;
  const uint64_t gen = generation_;
  std::weak_ptr<event_queue> wq = queue_;
  zk::watch_fn w = [this, wq, gen, k](zk::watch_event, const std::string&) {
    auto q = wq.lock();
    if (!q) return;
    q->push("PartitionReassignmentIsrChange", [this, gen, k] {
      if (gen != generation_ || !active_) return;  // a watch of an earlier term
      ctx_.reassignment_isr_watches.erase(k);
      maybe_complete_reassignment(k);
    });
  };
  auto r = kzk_.get_partition_state(k.topic, k.partition, std::move(w));
  if (!r) {
    ctx_.reassignment_isr_watches.erase(k);
    fail(r.error(), "watching the state of " + to_string(k));
  }
  if (r.value()) ctx_.states[k] = *r.value();
}

void controller::resume_reassignments(const std::vector<int32_t>& on, const std::set<partition_key>& skip) {
  for (const auto& k : ctx_.partitions_being_reassigned()) {
    if (skip.count(k)) continue;
    const auto a = ctx_.assignment(k);
    if (!on.empty() && std::none_of(on.begin(), on.end(), [&](int32_t b) { return contains(a.target_replicas(), b); }))
      continue;
    on_partition_reassignment(k, a);
  }
}

// ---- state and assignment writes ----------------------------------------------------------

void controller::write_assignment(const partition_key& k, const replica_assignment& a) {
  auto t = ctx_.topics.find(k.topic);
  if (t == ctx_.topics.end()) return;
  controller_context scratch;
  scratch.topics[k.topic] = t->second;
  scratch.set_assignment(k, a);
  const auto& e = scratch.topics[k.topic];
  zk::topic_assignment z;
  z.topic_id = e.topic_id;
  z.partitions = e.partitions;
  z.adding_replicas = e.adding;
  z.removing_replicas = e.removing;
  checked(kzk_.set_topic_assignment_fenced(k.topic, z, token_), "writing the assignment of " + k.topic);
  ctx_.set_assignment(k, a);
}

bool controller::bump_leader_epoch(const partition_key& k, std::optional<std::vector<int32_t>> isr) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto* s = ctx_.state(k);
    if (!s) return false;
    cluster::leader_and_isr n{s->leader, s->leader_epoch + 1, isr ? *isr : s->isr};
    if (write_state(k, n)) {
      spdlog::info("controller: {}: leader {} in epoch {} (reassignment), ISR [{}]", to_string(k), n.leader,
                   n.leader_epoch, fmt::join(n.isr, ","));
      return true;
    }
  }
  return false;
}

// ---- /admin/reassign_partitions -------------------------------------------------------------

// One exists-watch at a time. Kafka acts on the creation only (its
// PartitionReassignmentHandler.handleCreation); a change or the deletion (ours, when
// every move is done) only re-arms the watch.
void controller::watch_reassign_partitions_znode() {
  const uint64_t gen = generation_;
  std::weak_ptr<event_queue> wq = queue_;
  zk::watch_fn w = [this, wq, gen](zk::watch_event ev, const std::string&) {
    auto q = wq.lock();
    if (!q) return;
    q->push("ZkPartitionReassignment", [this, gen, ev] {
      if (gen != generation_ || !active_) return;
      if (ev == zk::watch_event::created)
        on_reassign_partitions_znode();
      else
        watch_reassign_partitions_znode();
    });
  };
  checked(zk_.exists(zk::paths::reassign_partitions, std::move(w)), "watching /admin/reassign_partitions");
}

// Kafka's processZkPartitionReassignment.
std::set<partition_key> controller::on_reassign_partitions_znode() {
  std::set<partition_key> started;
  if (!active_) return started;
  watch_reassign_partitions_znode();
  auto r = kzk_.get_partition_reassignment();
  if (!r) {
    if (!(r.error() == zk::kafka_errc::malformed_znode) && !(r.error() == zk::kafka_errc::unsupported_version))
      fail(r.error(), "reading /admin/reassign_partitions");
    // Deviation: Kafka logs a znode it cannot parse and leaves it, which blocks its
    // tool for good; Strata deletes it.
    spdlog::warn("controller: deleting /admin/reassign_partitions: {}", r.error().message());
    checked(kzk_.set_partition_reassignment({}, token_), "deleting /admin/reassign_partitions");
    return started;
  }
  if (!r.value()) return started;
  const auto live = ctx_.live_broker_ids();
  std::set<std::pair<std::string, int32_t>> failed;
  for (const auto& e : *r.value()) {
    const partition_key k{e.tp.topic, e.tp.partition};
    const auto cur = ctx_.assignment(k);
    std::optional<std::string> why;
    if (cur.replicas.empty() || ctx_.being_deleted(k.topic))
      why = "the partition does not exist";
    else
      why = validate_target(e.replicas, cur, live);
    if (why) {
      spdlog::warn("controller: /admin/reassign_partitions: {}: {}", to_string(k), *why);
      failed.insert({k.topic, k.partition});
      continue;
    }
    spdlog::info("controller: /admin/reassign_partitions asks {} -> [{}]", to_string(k), fmt::join(e.replicas, ","));
    on_partition_reassignment(k, *build_reassignment(cur, e.replicas));
    started.insert(k);
  }
  if (!failed.empty())
    remove_from_reassign_znode(
        [&](const zk::partition_reassignment& e) { return failed.count({e.tp.topic, e.tp.partition}) > 0; });
  return started;
}

void controller::remove_from_reassign_znode(const std::function<bool(const zk::partition_reassignment&)>& drop) {
  auto r = kzk_.get_partition_reassignment();
  if (!r) {
    if (r.error() == zk::kafka_errc::malformed_znode || r.error() == zk::kafka_errc::unsupported_version) return;
    fail(r.error(), "reading /admin/reassign_partitions");
  }
  if (!r.value()) return;
  std::vector<zk::partition_reassignment> keep;
  for (const auto& e : *r.value())
    if (!drop(e)) keep.push_back(e);
  if (keep.size() == r.value()->size()) return;
  if (keep.empty()) spdlog::info("controller: every reassignment of /admin/reassign_partitions is done; deleting it");
  checked(kzk_.set_partition_reassignment(keep, token_), "updating /admin/reassign_partitions");
}

}  // namespace strata::controller
