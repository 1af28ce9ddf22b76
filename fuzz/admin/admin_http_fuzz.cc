// libFuzzer target for the admin listener's handling of untrusted bytes.
//
// Input byte 0 selects the mode:
//   even: the rest is an HTTP request as it arrives on the socket. It goes
//         through Beast's parser with the server's limits and the router (with
//         a broker source whose strings are taken from the input too); the
//         answer must be "" (incomplete) or a well-formed status line.
//   odd:  the rest is a string for append_json_string; the output must be a
//         quoted string of printable ASCII and well-formed UTF-8 only.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "admin/http_server.h"
#include "admin/json_writer.h"
#include "admin/router.h"
#include "admin/source.h"

namespace {

using namespace strata::admin;

class fuzz_source final : public source {
 public:
  std::string text;  // an arbitrary string shown as names and ids
  broker_metrics metrics() override {
    broker_metrics m;
    m.latency_bounds_seconds = {0.001};
    m.apis.push_back({text, 1, 0, 0.5, {1, 0}});
    m.topics.push_back({text, 1, 1, 1});
    m.partitions.push_back({text, 0, 1, 0, 1});
    m.lags.push_back({text, text, 0, 1});
    return m;
  }
  std::vector<topic_summary> topics() override { return {{text, text, 1, 1, false}}; }
  std::optional<topic_detail> topic(std::string_view name) override {
    if (name != text) return std::nullopt;
    topic_detail d;
    d.summary = {text, text, 1, 1, false};
    d.partitions.push_back({0, 0, {0}, {0}, 0, 1, 1, 1});
    d.configs.push_back({text, text, "topic"});
    return d;
  }
  std::vector<group_summary> groups() override { return {{text, text, text, text, 1}}; }
  std::optional<group_detail> group(std::string_view id) override {
    if (id != text) return std::nullopt;
    group_detail g;
    g.summary = {text, text, text, text, 1};
    g.members.push_back({text, text, text, text});
    g.offsets.push_back({text, 0, 1, 2, 1});
    return g;
  }
  std::vector<broker_view> brokers() override { return {{0, text, 9092, true}}; }
};

void check_json_string(std::string_view in) {
  std::string out;
  append_json_string(out, in);
  if (out.size() < 2 || out.front() != '"' || out.back() != '"') std::abort();
  for (size_t i = 1; i + 1 < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c < 0x20) std::abort();  // control characters must be escaped
    if (c == '"' && out[i - 1] != '\\') std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    check_json_string(rest);
    return 0;
  }
  static router rt(0);
  static fuzz_source src;
  static bool init = [] {
    rt.set_source(&src);
    rt.set_health(health::ready);
    return true;
  }();
  (void)init;
  src.text = std::string(rest.substr(0, 16));
  http_server_options opts;
  opts.max_header_bytes = 1024;
  opts.max_body_bytes = 1024;
  std::string answer = respond_to_bytes(rest, rt, opts);
  if (!answer.empty() && answer.rfind("HTTP/1.", 0) != 0) std::abort();
  return 0;
}
