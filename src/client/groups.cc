#include "client/groups.h"

#include <algorithm>

#include "protocol/generated/consumer_protocol.h"
#include "protocol/generated/delete_groups.h"
#include "protocol/generated/describe_groups.h"
#include "protocol/generated/list_groups.h"
#include "protocol/generated/offset_commit.h"
#include "protocol/generated/offset_fetch.h"
#include "protocol/versioned_bytes.h"

namespace strata::client {

namespace {

std::string group_context(const std::string& verb, const std::string& group) {
  return verb + " group '" + group + "'";
}

// A consumer member's assignment (int16 version, then ConsumerProtocolAssignment).
// Undecodable bytes give no assignment rather than an error: describe is for
// looking, not validating.
std::vector<topic_partition> decode_assignment(const protocol::bytes& b) {
  std::vector<topic_partition> out;
  auto a = protocol::decode_versioned<protocol::consumer_protocol_assignment>(b);
  if (!a) return out;
  for (auto& t : a->assigned_partitions)
    for (int32_t p : t.partitions) out.push_back({t.topic, p});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<group_listing> list_groups(cluster_client& c) {
  std::vector<group_listing> out;
  for (auto& b : c.brokers()) {
    protocol::list_groups_request req;
    auto resp = c.broker(b.node_id).call<protocol::list_groups_response>(req, c.deadline());
    check(resp.error_code, "listing the groups of broker " + std::to_string(b.node_id));
    for (auto& g : resp.groups) out.push_back({g.group_id, g.protocol_type, g.group_state, b.node_id});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.group_id < b.group_id; });
  return out;
}

group_description describe_group(cluster_client& c, const std::string& group_id) {
  return c.with_retries([&] {
    auto& conn = c.coordinator(group_id);
    protocol::describe_groups_request req;
    req.groups = {group_id};
    auto resp = conn.call<protocol::describe_groups_response>(req, c.deadline());
    for (auto& g : resp.groups) {
      if (g.group_id != group_id) continue;
      check(g.error_code, group_context("describing", group_id));
      group_description d;
      d.group_id = g.group_id;
      d.state = g.group_state;
      d.protocol_type = g.protocol_type;
      d.protocol = g.protocol_data;
      d.coordinator = conn.node_id();
      for (auto& m : g.members) {
        group_member gm;
        gm.member_id = m.member_id;
        gm.group_instance_id = m.group_instance_id;
        gm.client_id = m.client_id;
        gm.client_host = m.client_host;
        if (g.protocol_type == "consumer") gm.assignment = decode_assignment(m.member_assignment);
        d.members.push_back(std::move(gm));
      }
      std::sort(d.members.begin(), d.members.end(), [](auto& a, auto& b) { return a.member_id < b.member_id; });
      return d;
    }
    throw client_error(group_context("describing", group_id) + ": the broker's answer does not mention the group");
  });
}

std::map<topic_partition, int64_t> committed_offsets(cluster_client& c, const std::string& group_id) {
  return c.with_retries([&] {
    auto& conn = c.coordinator(group_id);
    const int16_t v = conn.version_for(protocol::offset_fetch_request::api_key);
    protocol::offset_fetch_request req;
    const std::string what = group_context("fetching the committed offsets of", group_id);
    if (v >= 8) {
      protocol::offset_fetch_request::offset_fetch_request_group g;
      g.group_id = group_id;
      g.topics.reset();  // null: every topic
      req.groups.push_back(std::move(g));
    } else if (v >= 2) {
      req.group_id = group_id;
      req.topics.reset();
    } else {
      throw client_error("the broker at " + conn.peer().to_string() +
                         " is too old to list a group's offsets (OffsetFetch v" + std::to_string(v) + ")");
    }
    auto resp = conn.call_at<protocol::offset_fetch_response>(req, v, c.deadline());
    std::map<topic_partition, int64_t> out;
    auto take = [&](const auto& topics) {
      for (auto& t : topics)
        for (auto& p : t.partitions) {
          check(p.error_code, what + " (partition " + t.name + "-" + std::to_string(p.partition_index) + ")");
          if (p.committed_offset >= 0) out[{t.name, p.partition_index}] = p.committed_offset;
        }
    };
    if (v >= 8) {
      for (auto& g : resp.groups) {
        if (g.group_id != group_id) continue;
        check(g.error_code, what);
        take(g.topics);
      }
    } else {
      check(resp.error_code, what);
      take(resp.topics);
    }
    return out;
  });
}

void commit_offsets(cluster_client& c, const std::string& group_id, const std::map<topic_partition, int64_t>& offsets) {
  protocol::offset_commit_request req;
  req.group_id = group_id;
  req.generation_id_or_member_epoch = -1;
  req.member_id = "";
  for (auto& [tp, off] : offsets) {
    auto& p = topic_entry(req.topics, tp.topic).partitions.emplace_back();
    p.partition_index = tp.partition;
    p.committed_offset = off;
    p.committed_metadata = "";
  }
  c.with_retries([&] {
    auto resp = c.coordinator(group_id).call<protocol::offset_commit_response>(req, c.deadline());
    for (auto& t : resp.topics)
      for (auto& p : t.partitions)
        check(p.error_code, group_context("committing offsets of", group_id) + " (partition " + t.name + "-" +
                                std::to_string(p.partition_index) + ")");
  });
}

void delete_group(cluster_client& c, const std::string& group_id) {
  c.with_retries([&] {
    protocol::delete_groups_request req;
    req.groups_names = {group_id};
    auto resp = c.coordinator(group_id).call<protocol::delete_groups_response>(req, c.deadline());
    for (auto& r : resp.results) {
      if (r.group_id != group_id) continue;
      check(r.error_code, group_context("deleting", group_id));
      return;
    }
    throw client_error(group_context("deleting", group_id) + ": the broker's answer does not mention the group");
  });
}

}  // namespace strata::client
