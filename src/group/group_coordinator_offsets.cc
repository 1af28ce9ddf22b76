// group_coordinator: committed offsets (OffsetCommit, OffsetFetch,
// OffsetDelete) and group administration (DescribeGroups, ListGroups,
// DeleteGroups).
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>

#include "group/group_coordinator.h"

namespace strata::group {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---- offsets ----

void group_coordinator::commit(commit_request req, std::function<void(std::vector<errc>)> done) {
  actions out;
  std::vector<errc> errors(req.offsets.size(), errc::ok);
  {
    std::lock_guard lk(mu_);
    group* g = find(req.group_id);
    errc top = errc::ok;
    if (req.group_id.empty()) {
      top = errc::invalid_group_id;
    } else if (auto owner = check_owner(req.group_id); owner != errc::ok) {
      top = owner;
    } else if (!g) {
      // Simple consumers (no membership) commit with generation -1.
      if (req.generation < 0 && req.member_id.empty())
        g = &get_or_create(req.group_id);
      else
        top = req.generation < 0 ? errc::unknown_member_id : errc::illegal_generation;
    } else if (req.generation < 0 && g->state == group_state::empty) {
      // A simple consumer's commit to a group with no members: allowed.
    } else if (auto e = check_static(*g, req.member_id, req.group_instance_id); e != errc::ok) {
      top = e;
    } else if (g->state == group_state::completing_rebalance) {
      top = errc::rebalance_in_progress;
    } else if (!g->has_member(req.member_id)) {
      top = errc::unknown_member_id;
    } else if (req.generation != g->generation) {
      top = errc::illegal_generation;
    }
    std::vector<log_record> recs;
    if (top != errc::ok) {
      std::fill(errors.begin(), errors.end(), top);
    } else {
      if (g->has_member(req.member_id)) reset_session(g->members[req.member_id]);
      const int64_t now = wall_ms();
      for (size_t i = 0; i < req.offsets.size(); ++i) {
        auto& [tp, off] = req.offsets[i];
        if (off.metadata.size() > cfg_.max_metadata_bytes) {
          errors[i] = errc::offset_metadata_too_large;
          continue;
        }
        if (off.commit_timestamp < 0) off.commit_timestamp = now;
        recs.push_back({encode_offset_key(req.group_id, tp.topic, tp.partition), encode_offset_value(off)});
      }
    }
    if (recs.empty()) {
      out.push_back([done, errors] { done(errors); });
    } else {
      // Offsets become visible once stored, and the commit is answered then,
      // as Kafka's are (GroupMetadataManager.storeOffsets).
      const int32_t part = g->partition;
      const uint64_t gen = generation_of(part);
      auto offsets = std::make_shared<std::vector<std::pair<topic_partition, committed_offset>>>(std::move(req.offsets));
      auto errs = std::make_shared<std::vector<errc>>(errors);
      out.push_back([this, part, gen, gid = req.group_id, recs = std::move(recs), offsets, errs, done]() mutable {
        log_.append(part, std::move(recs), [this, part, gen, gid, offsets, errs, done](std::error_code e) {
          if (e) spdlog::warn("group '{}': cannot store committed offsets: {}", gid, e.message());
          const errc stored = offset_write_error(e);
          {
            std::lock_guard lk2(mu_);
            // Unloaded (and maybe reloaded) meanwhile: the commit is in the
            // log and answered, but the groups now come from a load of it.
            const bool apply = stored == errc::ok && owns(part, gen);
            for (size_t i = 0; i < offsets->size(); ++i) {
              if ((*errs)[i] != errc::ok) continue;
              if (stored != errc::ok) {
                (*errs)[i] = stored;
                continue;
              }
              if (!apply) continue;
              // The group may have been deleted meanwhile; the commit recreates it, as in Kafka.
              group& gg = get_or_create(gid);
              gg.offsets[{(*offsets)[i].first.topic, (*offsets)[i].first.partition}] = (*offsets)[i].second;
            }
          }
          done(*errs);
        });
      });
    }
  }
  run(out);
}

fetched_offsets group_coordinator::fetch_committed(const std::string& group_id,
                                                   const std::optional<std::vector<topic_partition>>& partitions) {
  std::lock_guard lk(mu_);
  fetched_offsets result;
  if (result.error = check_owner(group_id); result.error != errc::ok) return result;
  auto& out = result.offsets;
  group* g = find(group_id);
  if (!partitions) {
    if (g)
      for (const auto& [k, v] : g->offsets) out.push_back({{k.first, k.second}, v});
    return result;
  }
  for (const auto& tp : *partitions) {
    std::optional<committed_offset> v;
    if (g) {
      auto it = g->offsets.find({tp.topic, tp.partition});
      if (it != g->offsets.end()) v = it->second;
    }
    out.push_back({tp, v});
  }
  return result;
}

group_description group_coordinator::describe(const std::string& group_id) {
  std::lock_guard lk(mu_);
  group_description d;
  d.group_id = group_id;
  if (d.error = check_owner(group_id); d.error != errc::ok) return d;
  group* g = find(group_id);
  if (!g) {
    d.state = "Dead";
    return d;
  }
  d.state = std::string(state_name(g->state));
  d.protocol_type = g->protocol_type;
  if (g->state == group_state::stable || g->state == group_state::completing_rebalance)
    d.protocol_data = g->protocol_name.value_or("");
  for (const auto& [id, m] : g->members) {
    group_description::member_info mi;
    mi.member_id = id;
    mi.group_instance_id = m.instance_id;
    mi.client_id = m.client_id;
    mi.client_host = m.client_host;
    if (g->state == group_state::stable) {
      if (g->protocol_name)
        if (const auto* meta = m.metadata_for(*g->protocol_name)) mi.metadata = *meta;
      mi.assignment = m.assignment;
    }
    d.members.push_back(std::move(mi));
  }
  return d;
}

group_listing group_coordinator::list_groups(const std::vector<std::string>& states_filter) {
  std::lock_guard lk(mu_);
  group_listing result;
  for (const auto& p : partitions_)
    if (p.state == partition_state::loading) result.error = errc::coordinator_load_in_progress;
  auto& out = result.groups;
  for (const auto& [id, g] : groups_) {
    if (g.state == group_state::dead || partitions_[g.partition].state != partition_state::owned) continue;
    std::string state(state_name(g.state));
    if (!states_filter.empty()) {
      bool match = false;
      for (const auto& s : states_filter) {
        std::string a = s, b = state;
        for (auto& c : a) c = static_cast<char>(std::tolower(c));
        for (auto& c : b) c = static_cast<char>(std::tolower(c));
        match = match || a == b;
      }
      if (!match) continue;
    }
    out.push_back({id, g.protocol_type, state});
  }
  return result;
}

void group_coordinator::delete_groups(std::vector<std::string> ids,
                                      std::function<void(std::vector<errc>)> done) {
  actions out;
  auto errors = std::make_shared<std::vector<errc>>(ids.size(), errc::ok);
  auto pending = std::make_shared<std::atomic<int>>(1);
  auto finish = [errors, pending, done] {
    if (--*pending == 0) done(*errors);
  };
  {
    std::lock_guard lk(mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      group* g = find(ids[i]);
      if (ids[i].empty()) {
        (*errors)[i] = errc::invalid_group_id;
      } else if (auto owner = check_owner(ids[i]); owner != errc::ok) {
        (*errors)[i] = owner;
      } else if (!g) {
        (*errors)[i] = errc::group_id_not_found;
      } else if (!g->members.empty()) {
        (*errors)[i] = errc::non_empty_group;
      } else {
        // Tombstones for every offset and for the group itself.
        std::vector<log_record> recs;
        for (const auto& [k, v] : g->offsets) recs.push_back({encode_offset_key(g->id, k.first, k.second), std::nullopt});
        recs.push_back({encode_group_key(g->id), std::nullopt});
        const int32_t part = g->partition;
        g->state = group_state::dead;
        spdlog::info("group '{}' deleted", g->id);
        ++*pending;
        out.push_back([this, part, recs = std::move(recs), errors, i, finish]() mutable {
          log_.append(part, std::move(recs), [errors, i, finish](std::error_code e) {
            (*errors)[i] = offset_write_error(e);
            finish();
          });
        });
      }
    }
    // Dead groups leave the map once their tombstones are queued.
    std::erase_if(groups_, [](const auto& kv) { return kv.second.state == group_state::dead; });
  }
  run(out);
  finish();
}

void group_coordinator::delete_offsets(const std::string& group_id, std::vector<topic_partition> partitions,
                                       std::function<bool(const std::string&, const group&)> subscribed,
                                       std::function<void(errc, std::vector<errc>)> done) {
  actions out;
  std::vector<errc> errors(partitions.size(), errc::ok);
  {
    std::lock_guard lk(mu_);
    group* g = find(group_id);
    if (auto owner = check_owner(group_id); owner != errc::ok) {
      out.push_back([done, errors, owner] { done(owner, errors); });
    } else if (!g) {
      out.push_back([done, errors] { done(errc::group_id_not_found, errors); });
    } else {
      std::vector<log_record> recs;
      for (size_t i = 0; i < partitions.size(); ++i) {
        const auto& tp = partitions[i];
        if (g->state != group_state::empty && subscribed && subscribed(tp.topic, *g)) {
          errors[i] = errc::group_subscribed_to_topic;
          continue;
        }
        if (g->offsets.erase({tp.topic, tp.partition}))
          recs.push_back({encode_offset_key(g->id, tp.topic, tp.partition), std::nullopt});
      }
      if (recs.empty()) {
        out.push_back([done, errors] { done(errc::ok, errors); });
      } else {
        const int32_t part = g->partition;
        out.push_back([this, part, recs = std::move(recs), errors, done]() mutable {
          log_.append(part, std::move(recs), [errors, done](std::error_code e) {
            done(offset_write_error(e), errors);
          });
        });
      }
    }
  }
  run(out);
}

}  // namespace strata::group
