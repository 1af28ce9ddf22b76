#include "cli/group_offsets.h"

#include "client/errors.h"
#include "client/offsets.h"

namespace strata::cli {

std::map<client::topic_partition, partition_offsets> group_partition_offsets(client::cluster_client& c,
                                                                             const client::group_description& g) {
  std::map<client::topic_partition, partition_offsets> rows;
  for (auto& [tp, off] : client::committed_offsets(c, g.group_id)) rows[tp].committed = off;
  for (auto& m : g.members)
    for (auto& tp : m.assignment) rows[tp].member = &m;
  if (rows.empty()) return rows;
  std::vector<std::string> topics;
  for (auto& [tp, r] : rows)
    if (topics.empty() || topics.back() != tp.topic) topics.push_back(tp.topic);
  auto md = c.with_retries([&] { return c.metadata(topics); });
  std::set<client::topic_partition> existing;
  for (auto& t : md.topics)
    if (t.error_code == 0)
      for (auto& p : t.partitions) existing.insert({t.name.value_or(""), p.partition_index});
  std::map<client::topic_partition, int64_t> wanted;
  for (auto& [tp, r] : rows)
    if (existing.count(tp)) wanted[tp] = client::latest_timestamp;
  for (auto& [tp, off] : client::list_offsets(c, wanted)) rows[tp].log_end = off;
  return rows;
}

std::set<client::topic_partition> partitions_of(client::cluster_client& c, const std::set<std::string>& topics) {
  std::set<client::topic_partition> out;
  if (topics.empty()) return out;
  auto md = c.with_retries([&] { return c.metadata(std::vector<std::string>(topics.begin(), topics.end())); });
  for (auto& t : md.topics) {
    client::check(t.error_code, "topic '" + t.name.value_or("") + "'");
    for (auto& p : t.partitions) out.insert({t.name.value_or(""), p.partition_index});
  }
  return out;
}

}  // namespace strata::cli
