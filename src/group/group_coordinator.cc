#include "group/group_coordinator.h"

#include <spdlog/spdlog.h>

#include <random>

namespace strata::group {

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

join_result join_error(errc e, std::string member_id = {}) {
  join_result r;
  r.error = e;
  r.member_id = std::move(member_id);
  return r;
}

// What the leader's JoinGroup answer lists: every member with its metadata
// for the selected protocol.
std::vector<join_result::member> members_for_leader(const group& g) {
  std::vector<join_result::member> out;
  for (const auto& [id, m] : g.members) {
    const protocol::bytes* meta = g.protocol_name ? m.metadata_for(*g.protocol_name) : nullptr;
    out.push_back({id, m.instance_id, meta ? *meta : protocol::bytes{}});
  }
  return out;
}

sync_result sync_error(errc e) {
  sync_result r;
  r.error = e;
  return r;
}

}  // namespace

group_coordinator::group_coordinator(coordinator_config cfg, group_log& log)
    : cfg_(std::move(cfg)), log_(log), partitions_(static_cast<size_t>(std::max(cfg_.offsets_partitions, 1))) {
  if (cfg_.owns_every_partition)
    for (auto& p : partitions_) p.state = partition_state::owned;
}

group_coordinator::~group_coordinator() { stop(); }

// Answers a member's parked JoinGroup and SyncGroup (if any) with `e`.
void group_coordinator::fail_pending(member& m, errc e, actions& out) {
  if (m.awaiting_join) {
    auto cb = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    out.push_back([cb, e] { cb(join_error(e)); });
  }
  if (m.awaiting_sync) {
    auto cb = std::move(m.awaiting_sync);
    m.awaiting_sync = nullptr;
    out.push_back([cb, e] { cb(sync_error(e)); });
  }
}

void group_coordinator::run(actions& a) {
  for (auto& f : a) f();
  a.clear();
}

int32_t group_coordinator::partition_for(const std::string& group_id) const {
  return strata::group::partition_for(group_id, cfg_.offsets_partitions);
}

std::string group_coordinator::new_member_id(const std::string& client_id) {
  // Kafka: client id + "-" + a random UUID.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  uint64_t a = rng(), b = rng();
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return (client_id.empty() ? std::string("member") : client_id) + "-" + buf;
}

group* group_coordinator::find(const std::string& id) {
  auto it = groups_.find(id);
  return it == groups_.end() || it->second.state == group_state::dead ? nullptr : &it->second;
}

group& group_coordinator::get_or_create(const std::string& id) {
  auto it = groups_.find(id);
  if (it != groups_.end() && it->second.state == group_state::dead) groups_.erase(it);
  auto [pos, inserted] = groups_.try_emplace(id);
  if (inserted) {
    pos->second.id = id;
    pos->second.partition = partition_for(id);
    pos->second.state_timestamp_ms = wall_ms();
  }
  return pos->second;
}

void group_coordinator::reset_session(member& m) {
  m.session_deadline = clock::now() + std::chrono::milliseconds(m.session_timeout_ms);
}

void group_coordinator::start() {
  {
    std::lock_guard lk(mu_);
    for (auto& [id, g] : groups_)
      for (auto& [mid, m] : g.members) reset_session(m);
    next_offsets_check_ = clock::now() + std::chrono::milliseconds(cfg_.offsets_retention_check_ms);
    stopping_ = false;
  }
  thread_ = std::thread([this] { housekeeping(); });
}

void group_coordinator::stop() {
  actions out;
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    // Parked JoinGroup/SyncGroup requests are answered so connections can
    // drain; clients look for the coordinator again.
    for (auto& [id, g] : groups_)
      for (auto& [mid, m] : g.members) fail_pending(m, errc::not_coordinator, out);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  run(out);
}

size_t group_coordinator::group_count() {
  std::lock_guard lk(mu_);
  return groups_.size();
}

// ---- rebalance machinery ----

void group_coordinator::prepare_rebalance(group& g, actions& out, const char* reason) {
  // Members waiting for their assignment must rejoin.
  if (g.state == group_state::completing_rebalance) {
    for (auto& [id, m] : g.members) {
      if (m.awaiting_sync) {
        auto cb = std::move(m.awaiting_sync);
        m.awaiting_sync = nullptr;
        out.push_back([cb] { cb(sync_error(errc::rebalance_in_progress)); });
      }
      m.assignment.clear();
    }
  }
  const auto now = clock::now();
  if (g.state == group_state::empty) {
    // Kafka's InitialDelayedJoin: wait group.initial.rebalance.delay.ms for
    // more members, extended as they come, up to the rebalance timeout.
    g.initial_delay_end = now + std::chrono::milliseconds(cfg_.initial_rebalance_delay_ms);
    g.initial_delay_limit = now + std::chrono::milliseconds(std::max(g.max_rebalance_timeout_ms(), cfg_.initial_rebalance_delay_ms));
    g.rebalance_deadline = g.initial_delay_limit;
  } else {
    g.initial_delay_end.reset();
    g.rebalance_deadline = now + std::chrono::milliseconds(g.max_rebalance_timeout_ms());
  }
  spdlog::info("group '{}': preparing rebalance from generation {} ({})", g.id, g.generation, reason);
  g.state = group_state::preparing_rebalance;
  g.state_timestamp_ms = wall_ms();
  cv_.notify_all();
}

void group_coordinator::maybe_complete_join(group& g, actions& out) {
  if (g.state != group_state::preparing_rebalance) return;
  if (g.initial_delay_end) return;  // the housekeeper ends the initial delay
  if (g.all_members_joined()) complete_join(g, out);
}

void group_coordinator::complete_join(group& g, actions& out) {
  // Members that did not rejoin in time leave the group.
  for (auto it = g.members.begin(); it != g.members.end();) {
    if (!it->second.awaiting_join) {
      spdlog::info("group '{}': member {} did not rejoin in time", g.id, it->first);
      if (it->second.instance_id) g.static_members.erase(*it->second.instance_id);
      it = g.members.erase(it);
    } else {
      ++it;
    }
  }
  g.pending_members.clear();
  g.rebalance_deadline.reset();
  g.initial_delay_end.reset();
  ++g.generation;
  g.state_timestamp_ms = wall_ms();
  if (g.members.empty()) {
    g.state = group_state::empty;
    g.protocol_name.reset();
    g.leader_id.reset();
    spdlog::info("group '{}': empty at generation {}", g.id, g.generation);
    persist_group(g, out, nullptr);
    return;
  }
  g.protocol_name = g.select_protocol();
  if (!g.leader_id || !g.has_member(*g.leader_id)) g.leader_id = g.members.begin()->first;
  g.state = group_state::completing_rebalance;
  spdlog::info("group '{}': generation {} with {} member(s), protocol {}, leader {}", g.id, g.generation,
               g.members.size(), g.protocol_name.value_or("?"), *g.leader_id);
  for (auto& [id, m] : g.members) {
    join_result r;
    r.error = errc::ok;
    r.generation = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = *g.leader_id;
    r.member_id = id;
    if (id == *g.leader_id) r.members = members_for_leader(g);
    auto cb = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    m.is_new = false;
    reset_session(m);
    out.push_back([cb, r = std::move(r)]() mutable { cb(std::move(r)); });
  }
  cv_.notify_all();
}

void group_coordinator::remove_member(group& g, const std::string& member_id, actions& out, const char* reason) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  member& m = it->second;
  fail_pending(m, errc::unknown_member_id, out);
  if (m.instance_id) g.static_members.erase(*m.instance_id);
  spdlog::info("group '{}': member {} removed ({})", g.id, member_id, reason);
  g.members.erase(it);
  switch (g.state) {
    case group_state::stable:
    case group_state::completing_rebalance:
      if (g.members.empty()) {
        // Kafka goes through a rebalance that ends empty; do it at once.
        g.state = group_state::preparing_rebalance;
        complete_join(g, out);
      } else {
        prepare_rebalance(g, out, reason);
      }
      break;
    case group_state::preparing_rebalance:
      if (g.members.empty() && g.pending_members.empty())
        complete_join(g, out);
      else
        maybe_complete_join(g, out);
      break;
    default: break;
  }
}

void group_coordinator::persist_group(group& g, actions& out, std::function<void(errc)> then) {
  std::vector<log_record> recs;
  recs.push_back({encode_group_key(g.id), encode_group_value(g.to_record())});
  const int32_t part = g.partition;
  out.push_back([this, part, id = g.id, recs = std::move(recs), then = std::move(then)]() mutable {
    log_.append(part, std::move(recs), [then, id](std::error_code e) {
      if (e) spdlog::error("group '{}': cannot store group metadata: {}", id, e.message());
      if (then) then(group_write_error(e));
    });
  });
}

errc group_coordinator::check_static(const group& g, const std::string& member_id,
                                                     const std::optional<std::string>& instance_id) const {
  // Kafka's GroupMetadata.isStaticMemberFenced: the instance id now belongs
  // to another member id. Checked before membership, as Kafka does.
  if (!instance_id) return errc::ok;
  auto it = g.static_members.find(*instance_id);
  if (it != g.static_members.end() && it->second != member_id) return errc::fenced_instance_id;
  return errc::ok;
}

// ---- JoinGroup ----

void group_coordinator::join(join_request req, join_callback cb) {
  actions out;
  {
    std::lock_guard lk(mu_);
    if (req.group_id.empty()) {
      out.push_back([cb] { cb(join_error(errc::invalid_group_id)); });
    } else if (auto owner = check_owner(req.group_id); owner != errc::ok) {
      out.push_back([cb, owner] { cb(join_error(owner)); });
    } else if (req.session_timeout_ms < cfg_.min_session_timeout_ms ||
               req.session_timeout_ms > cfg_.max_session_timeout_ms) {
      out.push_back([cb] { cb(join_error(errc::invalid_session_timeout)); });
    } else {
      group* existing = find(req.group_id);
      if (!existing && !req.member_id.empty() && !req.group_instance_id) {
        out.push_back([cb, id = req.member_id] { cb(join_error(errc::unknown_member_id, id)); });
      } else {
        group& g = existing ? *existing : get_or_create(req.group_id);
        if (req.rebalance_timeout_ms < 0) req.rebalance_timeout_ms = req.session_timeout_ms;
        if (!g.supports_protocols(req.protocol_type, req.protocols)) {
          out.push_back([cb] { cb(join_error(errc::inconsistent_group_protocol)); });
        } else if (req.member_id.empty() && req.group_instance_id && g.static_members.count(*req.group_instance_id)) {
          static_rejoin(g, std::move(req), std::move(cb), out);
        } else if (req.member_id.empty()) {
          if (static_cast<int32_t>(g.members.size() + g.pending_members.size()) >= cfg_.max_group_size) {
            out.push_back([cb] { cb(join_error(errc::group_max_size_reached)); });
          } else {
            std::string id = new_member_id(req.client_id);
            if (req.require_known_member_id && !req.group_instance_id) {
              // KIP-394: hand out the id and let the client come back with it.
              g.pending_members[id] = clock::now() + std::chrono::milliseconds(req.session_timeout_ms);
              cv_.notify_all();
              out.push_back([cb, id] { cb(join_error(errc::member_id_required, id)); });
            } else {
              req.member_id = id;
              join_existing(g, std::move(req), std::move(cb), out);
            }
          }
        } else if (!g.has_member(req.member_id) && !g.pending_members.count(req.member_id)) {
          out.push_back([cb, id = req.member_id] { cb(join_error(errc::unknown_member_id, id)); });
        } else if (auto e = check_static(g, req.member_id, req.group_instance_id);
                   req.group_instance_id && g.has_member(req.member_id) && e != errc::ok) {
          out.push_back([cb, e, id = req.member_id] { cb(join_error(e, id)); });
        } else {
          join_existing(g, std::move(req), std::move(cb), out);
        }
      }
    }
  }
  run(out);
}

// Adds or updates a member with a known id and parks its JoinGroup until the
// rebalance completes (or answers at once when nothing changed).
void group_coordinator::join_existing(group& g, join_request req, join_callback cb, actions& out) {
  g.pending_members.erase(req.member_id);
  auto it = g.members.find(req.member_id);
  const bool is_new = it == g.members.end();
  if (!is_new && g.state == group_state::completing_rebalance && it->second.protocols == req.protocols) {
    // A retried JoinGroup after the join phase ended: answer with the current generation.
    member& m = it->second;
    join_result r;
    r.generation = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = g.leader_id.value_or("");
    r.member_id = m.id;
    if (m.id == r.leader) r.members = members_for_leader(g);
    reset_session(m);
    out.push_back([cb, r = std::move(r)]() mutable { cb(std::move(r)); });
    return;
  }
  if (!is_new && g.state == group_state::stable && it->second.protocols == req.protocols &&
      g.leader_id != req.member_id) {
    // A follower rejoining a stable group with the same subscription: nothing
    // changes (Kafka answers with the current generation as well).
    member& m = it->second;
    join_result r;
    r.generation = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = g.leader_id.value_or("");
    r.member_id = m.id;
    reset_session(m);
    out.push_back([cb, r = std::move(r)]() mutable { cb(std::move(r)); });
    return;
  }
  member& m = g.members[req.member_id];
  if (m.awaiting_join) {
    // A duplicate JoinGroup replaces the earlier one (Kafka answers the old with an error).
    auto old = std::move(m.awaiting_join);
    out.push_back([old] { old(join_error(errc::rebalance_in_progress)); });
  }
  if (g.members.size() == 1 && is_new) g.protocol_type = req.protocol_type;
  m.id = req.member_id;
  m.instance_id = req.group_instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.protocol_type = req.protocol_type;
  m.protocols = std::move(req.protocols);
  m.awaiting_join = std::move(cb);
  m.is_new = is_new;
  reset_session(m);
  if (m.instance_id) g.static_members[*m.instance_id] = m.id;
  if (g.protocol_type.empty()) g.protocol_type = m.protocol_type;

  switch (g.state) {
    case group_state::empty:
    case group_state::stable:
    case group_state::completing_rebalance:
      prepare_rebalance(g, out, is_new ? "a member joined" : "a member rejoined");
      break;
    case group_state::preparing_rebalance:
      if (g.initial_delay_end) {
        // Each new member extends the initial delay, up to its limit.
        auto next = clock::now() + std::chrono::milliseconds(cfg_.initial_rebalance_delay_ms);
        g.initial_delay_end = std::min(next, g.initial_delay_limit);
        cv_.notify_all();
      }
      break;
    case group_state::dead: break;
  }
  maybe_complete_join(g, out);
}

// A static member (group.instance.id) rejoining with an empty member id: it
// takes a new member id and keeps its assignment; a stable group does not
// rebalance (KIP-345).
void group_coordinator::static_rejoin(group& g, join_request req, join_callback cb, actions& out) {
  const std::string old_id = g.static_members[*req.group_instance_id];
  auto it = g.members.find(old_id);
  if (it == g.members.end()) {
    g.static_members.erase(*req.group_instance_id);
    req.member_id = new_member_id(req.client_id);
    join_existing(g, std::move(req), std::move(cb), out);
    return;
  }
  member m = std::move(it->second);
  g.members.erase(it);
  fail_pending(m, errc::fenced_instance_id, out);
  const member before = m;
  const std::string new_id = new_member_id(req.client_id);
  const bool protocols_same = m.protocols == req.protocols;
  m.id = new_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.protocols = req.protocols;
  reset_session(m);
  g.static_members[*req.group_instance_id] = new_id;
  if (g.leader_id == old_id) g.leader_id = new_id;
  g.members.emplace(new_id, std::move(m));
  spdlog::info("group '{}': static member {} rejoined as {}", g.id, *req.group_instance_id, new_id);

  if (g.state == group_state::stable && protocols_same) {
    join_result r;
    r.generation = g.generation;
    r.protocol_type = g.protocol_type;
    r.protocol_name = g.protocol_name;
    r.leader = g.leader_id.value_or("");
    r.member_id = new_id;
    if (r.leader == new_id) {
      // The leader gets the members so it could assign, but the current
      // assignment stands (v9: told to skip it).
      r.skip_assignment = true;
      r.members = members_for_leader(g);
    }
    // Answered once the new member id is stored; if that fails, the old one
    // is restored (Kafka's GroupCoordinator.updateStaticMemberAndRebalance).
    persist_group(g, out,
                  [this, cb, r = std::move(r), before, gid = g.id, gen = generation_of(g.partition)](errc e) mutable {
                    if (e != errc::ok) {
                      {
                        std::lock_guard lk(mu_);
                        revert_static_rejoin(gid, gen, r.generation, r.member_id, before);
                      }
                      join_result fail;
                      fail.error = e;
                      fail.generation = r.generation;
                      fail.protocol_type = r.protocol_type;
                      fail.protocol_name = r.protocol_name;
                      fail.leader = r.leader == r.member_id ? before.id : r.leader;
                      r = std::move(fail);
                    }
                    cb(std::move(r));
                  });
    return;
  }
  req.member_id = new_id;
  join_existing(g, std::move(req), std::move(cb), out);
}

// A static member's new id could not be stored: give the instance its old
// member back, unless the group moved on meanwhile (another rejoin of the
// instance, a rebalance, an unload).
void group_coordinator::revert_static_rejoin(const std::string& group_id, uint64_t partition_generation,
                                             int32_t generation, const std::string& new_id, const member& before) {
  group* g = find(group_id);
  if (!g || !owns(g->partition, partition_generation) || g->generation != generation) return;
  auto sit = g->static_members.find(before.instance_id.value_or(""));
  auto mit = g->members.find(new_id);
  if (sit == g->static_members.end() || sit->second != new_id || mit == g->members.end()) return;
  g->members.erase(mit);
  member old = before;
  reset_session(old);
  sit->second = old.id;
  if (g->leader_id == new_id) g->leader_id = old.id;
  g->members.emplace(old.id, std::move(old));
  spdlog::info("group '{}': static member {} keeps member id {} (storing {} failed)", group_id, sit->first,
               sit->second, new_id);
}

// ---- SyncGroup ----

void group_coordinator::sync(sync_request req, sync_callback cb) {
  actions out;
  {
    std::lock_guard lk(mu_);
    auto fail = [&](errc e) { out.push_back([cb, e] { cb(sync_error(e)); }); };
    group* g = find(req.group_id);
    if (auto owner = check_owner(req.group_id); owner != errc::ok) {
      fail(owner);
    } else if (!g) {
      fail(errc::unknown_member_id);
    } else if (auto e = check_static(*g, req.member_id, req.group_instance_id); e != errc::ok) {
      fail(e);
    } else if (!g->has_member(req.member_id)) {
      fail(errc::unknown_member_id);
    } else if (req.generation != g->generation) {
      fail(errc::illegal_generation);
    } else if ((req.protocol_type && *req.protocol_type != g->protocol_type) ||
               (req.protocol_name && *req.protocol_name != g->protocol_name.value_or(""))) {
      fail(errc::inconsistent_group_protocol);
    } else if (g->state == group_state::preparing_rebalance || g->state == group_state::empty) {
      fail(errc::rebalance_in_progress);
    } else {
      member& m = g->members[req.member_id];
      reset_session(m);
      if (g->state == group_state::stable) {
        sync_result r;
        r.protocol_type = g->protocol_type;
        r.protocol_name = g->protocol_name;
        r.assignment = m.assignment;
        out.push_back([cb, r = std::move(r)]() mutable { cb(std::move(r)); });
      } else {
        m.awaiting_sync = std::move(cb);
        if (req.member_id == g->leader_id) {
          for (auto& [id, mm] : g->members) mm.assignment.clear();
          for (auto& [id, a] : req.assignments) {
            auto it = g->members.find(id);
            if (it != g->members.end()) it->second.assignment = std::move(a);
          }
          finish_sync(*g, out);
        }
      }
    }
  }
  run(out);
}

// The leader's assignment arrived: store the group, then answer everyone.
void group_coordinator::finish_sync(group& g, actions& out) {
  const int32_t generation = g.generation;
  const std::string id = g.id;
  persist_group(g, out, [this, id, generation, gen = generation_of(g.partition)](errc e) {
    actions after;
    {
      std::lock_guard lk(mu_);
      group* gg = find(id);
      // Unloaded meanwhile: the unload answered the parked SyncGroups.
      if (!gg || !owns(gg->partition, gen)) return;
      if (gg->generation != generation || gg->state != group_state::completing_rebalance) return;
      if (e != errc::ok) {
        for (auto& [mid, m] : gg->members) {
          if (!m.awaiting_sync) continue;
          auto cb = std::move(m.awaiting_sync);
          m.awaiting_sync = nullptr;
          after.push_back([cb, e] { cb(sync_error(e)); });
        }
        prepare_rebalance(*gg, after, "storing the group failed");
      } else {
        gg->state = group_state::stable;
        gg->state_timestamp_ms = wall_ms();
        for (auto& [mid, m] : gg->members) {
          if (!m.awaiting_sync) continue;
          sync_result r;
          r.protocol_type = gg->protocol_type;
          r.protocol_name = gg->protocol_name;
          r.assignment = m.assignment;
          auto cb = std::move(m.awaiting_sync);
          m.awaiting_sync = nullptr;
          after.push_back([cb, r = std::move(r)]() mutable { cb(std::move(r)); });
        }
      }
    }
    run(after);
  });
}

// ---- Heartbeat / LeaveGroup ----

errc group_coordinator::heartbeat(const std::string& group_id, const std::string& member_id,
                                  const std::optional<std::string>& instance_id, int32_t generation) {
  std::lock_guard lk(mu_);
  if (auto owner = check_owner(group_id); owner != errc::ok) return owner;
  group* g = find(group_id);
  if (!g) return errc::unknown_member_id;
  if (auto e = check_static(*g, member_id, instance_id); e != errc::ok) return e;
  if (!g->has_member(member_id)) return errc::unknown_member_id;
  if (generation != g->generation) return errc::illegal_generation;
  reset_session(g->members[member_id]);
  switch (g->state) {
    case group_state::preparing_rebalance: return errc::rebalance_in_progress;
    case group_state::completing_rebalance:
    case group_state::stable: return errc::ok;
    default: return errc::unknown_member_id;
  }
}

std::pair<errc, std::vector<errc>> group_coordinator::leave(
    const std::string& group_id, const std::vector<member_identity>& members) {
  actions out;
  std::pair<errc, std::vector<errc>> result{errc::ok, {}};
  {
    std::lock_guard lk(mu_);
    group* g = find(group_id);
    if (auto owner = check_owner(group_id); owner != errc::ok) {
      result.first = owner;
    } else if (!g) {
      // Kafka: no top-level error, each member is unknown.
      result.second.assign(members.size(), errc::unknown_member_id);
    } else {
      for (const auto& mi : members) {
        std::string id = mi.member_id;
        if (mi.group_instance_id) {
          auto it = g->static_members.find(*mi.group_instance_id);
          if (it == g->static_members.end()) {
            result.second.push_back(errc::unknown_member_id);
            continue;
          }
          if (!id.empty() && id != it->second) {
            result.second.push_back(errc::fenced_instance_id);
            continue;
          }
          id = it->second;
        }
        if (g->pending_members.erase(id)) {
          result.second.push_back(errc::ok);
          maybe_complete_join(*g, out);
          continue;
        }
        if (!g->has_member(id)) {
          result.second.push_back(errc::unknown_member_id);
          continue;
        }
        remove_member(*g, id, out, "left the group");
        result.second.push_back(errc::ok);
      }
    }
  }
  run(out);
  return result;
}

// ---- housekeeping ----

void group_coordinator::expire_offsets(actions& out) {
  const int64_t cutoff = wall_ms() - cfg_.offsets_retention_ms;
  for (auto& [id, g] : groups_) {
    if (g.state != group_state::empty || partitions_[g.partition].state != partition_state::owned) continue;
    std::vector<log_record> recs;
    for (auto it = g.offsets.begin(); it != g.offsets.end();) {
      // Kafka (KIP-211): offsets of an empty group expire retention after the
      // group became empty or after the commit, whichever is later.
      int64_t since = std::max(it->second.commit_timestamp, g.state_timestamp_ms);
      if (since < cutoff) {
        recs.push_back({encode_offset_key(id, it->first.first, it->first.second), std::nullopt});
        it = g.offsets.erase(it);
      } else {
        ++it;
      }
    }
    if (!recs.empty()) spdlog::info("group '{}': {} committed offset(s) expired", id, recs.size());
    // Kafka's cleanupGroupMetadata: an empty group with no offsets left is
    // dead; its group record (if it ever wrote one) gets a tombstone.
    if (g.offsets.empty() && g.members.empty() && g.pending_members.empty()) {
      g.state = group_state::dead;
      if (g.generation > 0) recs.push_back({encode_group_key(id), std::nullopt});
    }
    if (recs.empty()) continue;
    const int32_t part = g.partition;
    out.push_back([this, part, recs = std::move(recs)]() mutable {
      log_.append(part, std::move(recs), [](std::error_code) {});
    });
  }
  std::erase_if(groups_, [](const auto& kv) { return kv.second.state == group_state::dead; });
}

void group_coordinator::housekeeping() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    const auto now = clock::now();
    auto next = now + std::chrono::seconds(60);
    actions out;
    for (auto& [id, g] : groups_) {
      // A loading partition's groups wait for finish_loading.
      if (g.state == group_state::dead || partitions_[g.partition].state != partition_state::owned) continue;
      // Expired pending member ids (KIP-394).
      for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
        if (it->second <= now) {
          it = g.pending_members.erase(it);
        } else {
          next = std::min(next, it->second);
          ++it;
        }
      }
      // Session expiry: members not waiting on a join or sync answer.
      std::vector<std::string> expired;
      for (auto& [mid, m] : g.members) {
        if (m.awaiting_join || m.awaiting_sync) continue;
        if (m.session_deadline <= now)
          expired.push_back(mid);
        else
          next = std::min(next, m.session_deadline);
      }
      for (const auto& mid : expired) remove_member(g, mid, out, "session timed out");
      if (g.state == group_state::preparing_rebalance) {
        if (g.initial_delay_end && *g.initial_delay_end <= now) {
          g.initial_delay_end.reset();
          complete_join(g, out);
        } else if (g.rebalance_deadline && *g.rebalance_deadline <= now) {
          complete_join(g, out);
        } else {
          if (!g.initial_delay_end && g.all_members_joined()) complete_join(g, out);
        }
      }
      if (g.state == group_state::preparing_rebalance) {
        if (g.initial_delay_end) next = std::min(next, *g.initial_delay_end);
        if (g.rebalance_deadline) next = std::min(next, *g.rebalance_deadline);
      }
      // A group that a request created but that never got a generation, a
      // member or an offset (a failed JoinGroup, an expired KIP-394 member
      // id, a rejected commit) has nothing to keep and nothing persisted:
      // drop it now rather than at the next offsets-retention check (Kafka
      // keeps such a group until then), so random group ids cannot pile up.
      if (g.state == group_state::empty && g.generation == 0 && g.members.empty() &&
          g.pending_members.empty() && g.offsets.empty() && g.static_members.empty())
        g.state = group_state::dead;
    }
    std::erase_if(groups_, [](const auto& kv) { return kv.second.state == group_state::dead; });
    if (now >= next_offsets_check_) {
      expire_offsets(out);
      next_offsets_check_ = now + std::chrono::milliseconds(cfg_.offsets_retention_check_ms);
    }
    next = std::min(next, next_offsets_check_);
    if (!out.empty()) {
      lk.unlock();
      run(out);
      lk.lock();
      continue;  // state may have moved; recompute deadlines
    }
    cv_.wait_until(lk, next);
  }
}

}  // namespace strata::group
