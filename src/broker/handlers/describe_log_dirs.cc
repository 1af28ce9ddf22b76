// DescribeLogDirs (key 35): per log directory, the size of each partition it holds;
// an offline directory answers KAFKA_STORAGE_ERROR.
#include <sys/statvfs.h>

#include <filesystem>

#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"
#include "storage/log.h"

namespace strata::broker::handlers {

void describe_log_dirs(request_context&& ctx) {
  protocol::describe_log_dirs_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  using resp_t = protocol::describe_log_dirs_response;
  resp_t resp;
  resp.error_code = ec(protocol::error_code::none);
  auto snap = b.topics().snapshot();
  // One result per log directory (log.dirs); an offline one (KIP-112) is reported with
  // KAFKA_STORAGE_ERROR and no partitions, as Kafka does.
  for (const auto& st : b.logs().dirs()) {
    resp_t::describe_log_dirs_result dir;
    std::error_code fe;
    dir.log_dir = std::filesystem::absolute(st.path, fe).string();
    if (!st.offline.empty()) {
      dir.error_code = ec(protocol::error_code::kafka_storage_error);
      resp.results.push_back(std::move(dir));
      continue;
    }
    dir.error_code = ec(protocol::error_code::none);
    struct statvfs sv {};
    if (::statvfs(dir.log_dir.c_str(), &sv) == 0) {
      dir.total_bytes = static_cast<int64_t>(sv.f_blocks) * static_cast<int64_t>(sv.f_frsize);
      dir.usable_bytes = static_cast<int64_t>(sv.f_bavail) * static_cast<int64_t>(sv.f_frsize);
    }
    auto describe = [&](const topic_state& t, const std::vector<int32_t>* only) {
      resp_t::describe_log_dirs_result::describe_log_dirs_topic dt;
      dt.name = t.name;
      for (const auto& p : t.partitions) {
        if (!p) continue;  // cluster mode: no replica here
        if (only && std::find(only->begin(), only->end(), p->index()) == only->end()) continue;
        if (!p->online()) continue;  // offline (KIP-112): not in a readable log dir
        if (b.logs().dir_of(t.name, p->index()) != st.path) continue;
        resp_t::describe_log_dirs_result::describe_log_dirs_topic::describe_log_dirs_partition dp;
        dp.partition_index = p->index();
        dp.partition_size = p->log().size_bytes();
        dp.offset_lag = 0;
        dp.is_future_key = false;
        dt.partitions.push_back(dp);
      }
      if (!dt.partitions.empty()) dir.topics.push_back(std::move(dt));
    };
    if (!req.topics) {
      for (const auto& [name, t] : *snap) describe(*t, nullptr);
    } else {
      for (const auto& rt : *req.topics) {
        auto it = snap->find(rt.topic);
        if (it != snap->end()) describe(*it->second, &rt.partitions);
      }
    }
    resp.results.push_back(std::move(dir));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
