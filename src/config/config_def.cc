#include "config/config_def.h"

#include "config/throttled_replicas.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

namespace strata::config {
namespace {

constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

using vt = value_type;

// Broker settings. Defaults follow Kafka's, except where noted "Deviation".
const config_def kBroker[] = {
    {"broker.id", vt::int32, "0", "The id of this broker.", -1, kI32Max},
    {"listeners", vt::list, "PLAINTEXT://localhost:9092",
     "Listeners to bind, as NAME://host:port; the name's security protocol (listener.security.protocol.map) "
     "is PLAINTEXT or SSL. Deviation: Kafka binds every interface by default; Strata binds localhost unless "
     "told otherwise."},
    {"advertised.listeners", vt::list, "",
     "Listeners published to clients in Metadata, by name: a client is given the endpoints of the listener "
     "it connected to (default: listeners)."},
    {"listener.security.protocol.map", vt::list, "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
     "Listener name to security protocol, as NAME:PROTOCOL pairs."},
    // TLS for SSL listeners. Key and certificates come as PEM or PKCS12 files, or as PEM
    // text in the settings themselves (Kafka 2.7+). Deviation: Kafka's default store type
    // is JKS, a Java format; Strata reads PEM and PKCS12 only.
    {"ssl.keystore.type", vt::string, "PEM",
     "Format of ssl.keystore.location: PEM (private key and certificate chain) or PKCS12. Deviation: "
     "Kafka's default is JKS, which Strata does not read.", 0, 0, "PEM|PKCS12"},
    {"ssl.keystore.location", vt::string, "", "File with the broker's private key and certificate chain."},
    {"ssl.keystore.password", vt::password, "", "Password of a PKCS12 keystore."},
    {"ssl.key.password", vt::password, "", "Password of an encrypted private key (PEM)."},
    {"ssl.keystore.certificate.chain", vt::password, "",
     "The broker's certificate chain as PEM text, instead of ssl.keystore.location."},
    {"ssl.keystore.key", vt::password, "", "The broker's private key as PEM text, instead of ssl.keystore.location."},
    {"ssl.truststore.type", vt::string, "PEM", "Format of ssl.truststore.location: PEM or PKCS12.", 0, 0,
     "PEM|PKCS12"},
    {"ssl.truststore.location", vt::string, "",
     "File with the certificate authorities that client certificates must chain to (ssl.client.auth)."},
    {"ssl.truststore.password", vt::password, "", "Password of a PKCS12 truststore."},
    {"ssl.truststore.certificates", vt::password, "",
     "The trusted certificate authorities as PEM text, instead of ssl.truststore.location."},
    {"ssl.client.auth", vt::string, "none",
     "Client certificates on SSL listeners: none, requested (verified when sent) or required.", 0, 0,
     "none|requested|required"},
    {"ssl.enabled.protocols", vt::list, "TLSv1.2,TLSv1.3", "TLS versions SSL listeners accept (TLSv1.2, TLSv1.3)."},
    {"log.dirs", vt::list, "", "Directories holding partition logs (default: log.dir)."},
    {"log.dir", vt::string, "./data", "Directory holding partition logs when log.dirs is unset."},
    {"num.partitions", vt::int32, "1", "Partitions of an auto-created topic.", 1, kI32Max, {}, {}, true},
    {"default.replication.factor", vt::int32, "1", "Replication factor of an auto-created topic.", 1, kI32Max},
    {"auto.create.topics.enable", vt::boolean, "true", "Create a topic when a client asks for an unknown one."},
    {"delete.topic.enable", vt::boolean, "true", "Allow DeleteTopics."},
    {"message.max.bytes", vt::int32, "1048588", "Largest record batch the broker accepts.", 0, kI32Max, {}, {}, true},
    {"socket.request.max.bytes", vt::int32, "104857600", "Largest request frame accepted.", 1, kI32Max},
    // Deviation: Kafka's default for both is 102400. A fixed SO_RCVBUF turns off the
    // kernel's receive-window autotuning; on loopback and fast links the small window
    // makes the broker's recv() run the sender's transmit work in its softirq, and
    // splits large produce requests into many more recv()s (docs/PERFORMANCE.md).
    {"socket.send.buffer.bytes", vt::int32, "-1",
     "SO_SNDBUF of client sockets; -1 (Strata's default, unlike Kafka's 102400): the OS default, "
     "autotuned.",
     -1, kI32Max},
    {"socket.receive.buffer.bytes", vt::int32, "-1",
     "SO_RCVBUF of client sockets; -1 (Strata's default, unlike Kafka's 102400): the OS default, "
     "autotuned, which measured ~10% less broker CPU per produced message.",
     -1, kI32Max},
    // Deviation: Kafka's default is 57671680 (55 MiB). Measured with librdkafka
    // (docs/PERFORMANCE.md): responses beyond a few MiB give no more throughput, and
    // librdkafka allocates each response buffer whole, so tens of MiB are mmap'ed and
    // page-faulted per fetch. Consumers' per-partition max (max.partition.fetch.bytes)
    // is 1 MiB by default anyway. Fetch sessions rotate partitions (KIP-227), so a
    // smaller cap does not starve the later ones.
    {"fetch.max.bytes", vt::int32, "1048576",
     "Most record bytes in one fetch response, across partitions: the response holds at most "
     "min(this, the request's max_bytes), except that the first partition with data returns at least "
     "one whole batch. 1048576 (Strata's default, unlike Kafka's 57671680): larger responses measured "
     "no faster and cost clients page faults.",
     1024, kI32Max},
    {"connections.max.idle.ms", vt::int64, "600000", "Close connections idle this long.", 1, kI64Max},
    {"queued.max.requests", vt::int32, "500",
     "Requests a connection may have in flight before the broker stops reading from it.", 1, kI32Max},
    // Hardening (issue 13): request memory and connection limits, Kafka's names and semantics.
    // Deviation: Kafka's queued.max.request.bytes default is -1 (no bound).
    {"queued.max.request.bytes", vt::int64, "536870912",
     "Bytes of all buffered requests, broker-wide, before the broker stops reading from sockets until some are "
     "freed; -1 (or 0): no bound. Request buffers grow as their bytes arrive, so only bytes received count, not "
     "declared sizes. Deviation: Kafka's default is -1; Strata's 512 MiB bounds what clients can make the broker "
     "hold while leaving room for five requests of the default socket.request.max.bytes at once.",
     -1, kI64Max},
    {"max.connections", vt::int32, "2147483647",
     "Connections the broker holds at once (all listeners); at the limit it stops accepting and new connections "
     "wait in the listen backlog until one closes.",
     0, kI32Max},
    {"max.connections.per.ip", vt::int32, "2147483647",
     "Connections from one client address; a new connection past it is closed at once.", 0, kI32Max},
    {"max.connections.per.ip.overrides", vt::list, "",
     "Per-address exceptions to max.connections.per.ip, as host:count pairs (a host name counts for each of its "
     "addresses), e.g. 10.0.0.5:200,client.example:50."},
    {"max.connection.creation.rate", vt::int32, "2147483647",
     "New connections per second, broker-wide; beyond it the broker delays accepting (bursts up to one second's "
     "worth are accepted at once).",
     1, kI32Max},
    {"num.network.threads", vt::int32, "0", "Reactor threads (0: one per core).", 0, 1024},
    {"num.io.threads", vt::int32, "8", "Accepted for compatibility; Strata does I/O on its reactors.", 1, 1024},
    {"log.segment.bytes", vt::int32, "1073741824", "Size at which a segment rolls.", 14, kI32Max, {}, {}, true},
    {"log.roll.ms", vt::int64, "", "Age at which a segment rolls (overrides log.roll.hours).", 1, kI64Max, {}, {},
     true},
    {"log.roll.hours", vt::int32, "168", "Age in hours at which a segment rolls.", 1, kI32Max},
    {"log.roll.jitter.ms", vt::int64, "0", "Accepted; no jitter is applied.", 0, kI64Max},
    {"log.retention.ms", vt::int64, "", "Retention time (overrides minutes and hours; -1 keeps for ever).", -1,
     kI64Max, {}, {}, true},
    {"log.retention.minutes", vt::int32, "", "Retention time in minutes (overrides hours).", -1, kI32Max},
    {"log.retention.hours", vt::int32, "168", "Retention time in hours.", -1, kI32Max},
    {"log.retention.bytes", vt::int64, "-1", "Largest size of a partition before old segments go.", -1, kI64Max,
     {}, {}, true},
    {"log.retention.check.interval.ms", vt::int64, "300000", "How often retention runs.", 1, kI64Max},
    {"log.index.interval.bytes", vt::int32, "4096", "Bytes between offset index entries.", 0, kI32Max, {}, {},
     true},
    {"log.index.size.max.bytes", vt::int32, "10485760", "Largest offset index of a segment.", 4, kI32Max, {}, {},
     true},
    {"log.flush.interval.messages", vt::int64, "9223372036854775807", "Messages between fsyncs of a partition.",
     1, kI64Max, {}, {}, true},
    {"log.flush.interval.ms", vt::int64, "", "Most time data stays unflushed (default: never).", 0, kI64Max, {},
     {}, true},
    {"log.flush.scheduler.interval.ms", vt::int64, "9223372036854775807",
     "Accepted; time-based flush is checked each second when log.flush.interval.ms is set.", 0, kI64Max},
    {"log.message.timestamp.type", vt::string, "CreateTime", "CreateTime or LogAppendTime.", 0, 0,
     "CreateTime|LogAppendTime", {}, true},
    {"log.cleanup.policy", vt::list, "delete", "delete or compact.", 0, 0, {}, {}, true},
    {"log.cleaner.delete.retention.ms", vt::int64, "86400000", "How long tombstones are kept when compacting.",
     0, kI64Max, {}, {}, true},
    {"log.cleaner.enable", vt::boolean, "true", "Run the log cleaner (compaction of cleanup.policy=compact topics)."},
    {"log.cleaner.backoff.ms", vt::int64, "15000", "Pause between two passes of the log cleaner over the compacted logs.",
     1, kI64Max, {}, {}, true},
    {"log.cleaner.dedupe.buffer.size", vt::int64, "134217728",
     "Memory for the cleaner's key -> offset map; a longer dirty log is cleaned over several passes.", 1 << 20,
     kI64Max, {}, {}, true},
    {"log.cleaner.threads", vt::int32, "1", "Accepted; Strata cleans with one thread.", 1, kI32Max, {}, {}, true},
    {"log.cleaner.min.cleanable.ratio", vt::double_, "0.5",
     "Default min.cleanable.dirty.ratio: share of uncleaned bytes that starts a cleaning.", 0, 1, {}, {}, true},
    {"log.cleaner.min.compaction.lag.ms", vt::int64, "0", "Default min.compaction.lag.ms.", 0, kI64Max, {}, {},
     true},
    {"log.cleaner.max.compaction.lag.ms", vt::int64, "9223372036854775807", "Default max.compaction.lag.ms.", 1,
     kI64Max, {}, {}, true},
    {"log.segment.delete.delay.ms", vt::int64, "60000", "Delay before a deleted segment's file is removed.", 0,
     kI64Max, {}, {}, true},
    {"compression.type", vt::string, "producer", "Codec batches are stored with (producer: as sent).", 0, 0,
     "producer|uncompressed|gzip|snappy|lz4|zstd", {}, true},
    {"min.insync.replicas", vt::int32, "1", "Replicas that must acknowledge an acks=all produce.", 1, kI32Max,
     {}, {}, true},
    {"unclean.leader.election.enable", vt::boolean, "false", "Allow a replica outside the ISR to lead.", 0, 0, {},
     {}, true},
    {"offsets.topic.num.partitions", vt::int32, "50", "Partitions of __consumer_offsets.", 1, kI32Max},
    {"offsets.topic.replication.factor", vt::int32, "3",
     "Replication factor of __consumer_offsets, capped to the brokers alive when it is created.", 1, 32767},
    {"offsets.topic.segment.bytes", vt::int32, "104857600", "Segment size of __consumer_offsets.", 1, kI32Max},
    {"offsets.retention.minutes", vt::int32, "10080", "How long offsets of an empty group are kept.", 1, kI32Max},
    {"offsets.retention.check.interval.ms", vt::int64, "600000", "How often expired offsets are removed.", 1,
     kI64Max},
    {"group.initial.rebalance.delay.ms", vt::int32, "3000",
     "Delay of the first rebalance of an empty group, to gather members.", 0, kI32Max},
    {"group.min.session.timeout.ms", vt::int32, "6000", "Smallest session timeout a member may ask for.", 0,
     kI32Max},
    {"group.max.session.timeout.ms", vt::int32, "1800000", "Largest session timeout a member may ask for.", 0,
     kI32Max},
    {"group.max.size", vt::int32, "2147483647", "Most members in one group.", 1, kI32Max},
    {"zookeeper.connect", vt::string, "",
     "ZooKeeper connection string host:port[,host:port][/chroot]; set, the broker joins that cluster."},
    {"zookeeper.session.timeout.ms", vt::int32, "18000", "ZooKeeper session timeout.", 1, kI32Max},
    {"zookeeper.connection.timeout.ms", vt::int32, "18000",
     "How long to wait for ZooKeeper at startup before giving up.", 1, kI32Max},
    {"broker.rack", vt::string, "", "Rack of this broker, for rack-aware replica placement."},
    {"replica.lag.time.max.ms", vt::int64, "30000", "Followers behind this long leave the ISR.", 1, kI64Max},
    {"replica.fetch.max.bytes", vt::int32, "1048576", "Bytes a follower asks for per partition.", 1, kI32Max},
    {"replica.fetch.response.max.bytes", vt::int32, "10485760", "Bytes a follower asks for per fetch.", 1,
     kI32Max},
    {"replica.fetch.wait.max.ms", vt::int32, "500", "How long a follower's fetch waits for data.", 0, kI32Max},
    {"replica.fetch.min.bytes", vt::int32, "1", "Bytes a follower's fetch waits for.", 1, kI32Max},
    {"replica.fetch.backoff.ms", vt::int32, "1000", "A follower's pause after a fetch error.", 0, kI32Max},
    {"replica.socket.timeout.ms", vt::int32, "30000", "Socket timeout of follower fetches.", 1, kI32Max},
    {"num.replica.fetchers", vt::int32, "1", "Fetcher threads per source broker.", 1, 64},
    {"leader.replication.throttled.rate", vt::int64, "9223372036854775807",
     "Bytes per second this broker, as leader, serves to out-of-sync followers of the replicas named in a topic's "
     "leader.replication.throttled.replicas (partition moves). Settable at runtime per broker.",
     0, kI64Max, {}, {}, true},
    {"follower.replication.throttled.rate", vt::int64, "9223372036854775807",
     "Bytes per second this broker's out-of-sync replicas named in a topic's "
     "follower.replication.throttled.replicas fetch (partition moves). Settable at runtime per broker.",
     0, kI64Max, {}, {}, true},
    {"replication.quota.window.num", vt::int32, "11", "Samples over which the replication throttles measure.", 1,
     kI32Max},
    {"replication.quota.window.size.seconds", vt::int32, "1", "Length of one replication throttle sample.", 1,
     kI32Max},
    {"replica.high.watermark.checkpoint.interval.ms", vt::int64, "5000",
     "How often high watermarks are written to replication-offset-checkpoint.", 1, kI64Max},
    {"controlled.shutdown.enable", vt::boolean, "true",
     "On SIGTERM, ask the controller to move this broker's leaderships first."},
    {"controlled.shutdown.max.retries", vt::int32, "3", "Attempts at a controlled shutdown.", 0, kI32Max},
    {"controlled.shutdown.retry.backoff.ms", vt::int64, "5000", "Pause between controlled shutdown attempts.", 0,
     kI64Max},
    {"controller.socket.timeout.ms", vt::int32, "30000", "Socket timeout of the controller's requests.", 1,
     kI32Max},
    {"auto.leader.rebalance.enable", vt::boolean, "true",
     "Move leadership back to preferred replicas when they are in sync again."},
    {"leader.imbalance.check.interval.seconds", vt::int64, "300", "How often the controller checks leader balance.",
     1, kI64Max},
    {"leader.imbalance.per.broker.percentage", vt::int32, "10",
     "Share of a broker's partitions led elsewhere that triggers a preferred-leader election.", 0, 100},
    {"inter.broker.listener.name", vt::string, "",
     "Listener the controller and followers use to reach brokers (\"\": each broker's first)."},
    {"strata.log.flush.on.ack", vt::boolean, "false",
     "fsync (group commit) before acknowledging acks=1/all produces."},
    {"strata.log.flush.threads", vt::int32, "8",
     "Most fsyncs of different partitions run at once (group commit and background flushes); threads "
     "start on demand.",
     1, 256},
    // storage: open-file and index-map budgets (storage/file_cache.h).
    {"strata.log.open.files.max", vt::int64, "0",
     "Most descriptors storage keeps open for segment files (half for .log files, half for index pairs); idle "
     "ones are closed and reopened on demand. 0: RLIMIT_NOFILE minus max(256, RLIMIT_NOFILE/2), which is left "
     "for connections and for files fetches hold until their responses are sent.",
     0, kI64Max},
    {"strata.log.index.maps.max", vt::int64, "0",
     "Most index mappings storage keeps (two per segment whose indexes are open); idle ones are unmapped. 0: "
     "vm.max_map_count / 2.",
     0, kI64Max},
    {"strata.admin.listener", vt::string, "127.0.0.1:9644", "Admin HTTP listener host:port (empty: off)."},
    {"strata.fetch.sendfile", vt::boolean, "true", "Serve plaintext fetches with sendfile."},
    // Topic and partition counts (hard-topics): checked before anything is created, so
    // no request can make the broker create more partition logs than it can hold.
    {"max.broker.partitions", vt::int32, "100000",
     "Most partitions this broker holds (all topics, internal ones included); CreateTopics, CreatePartitions "
     "and auto-creation past it are refused with POLICY_VIOLATION (KIP-578).",
     1, kI32Max},
    {"strata.create.partitions.max.per.request", vt::int32, "10000",
     "Most partitions one CreateTopics or CreatePartitions request (all its topics together), or one "
     "Metadata request's auto-created topics, may create; a request past it is refused with "
     "POLICY_VIOLATION.",
     1, kI32Max},
    {"strata.produce.validate.records", vt::boolean, "true",
     "Check every record of a produced batch (decompressing compressed ones), as Kafka does, so no client can "
     "store a batch consumers cannot read; false checks only batch headers and CRCs (faster)."},
};

// Topic settings, each defaulting to a broker setting.
const config_def kTopic[] = {
    {"cleanup.policy", vt::list, "delete", "delete, compact, or both.", 0, 0, {}, "log.cleanup.policy"},
    {"compression.type", vt::string, "producer", "Codec batches are stored with.", 0, 0,
     "producer|uncompressed|gzip|snappy|lz4|zstd", "compression.type"},
    {"delete.retention.ms", vt::int64, "86400000", "How long tombstones are kept.", 0, kI64Max, {},
     "log.cleaner.delete.retention.ms"},
    {"file.delete.delay.ms", vt::int64, "60000", "Delay before a deleted segment file is removed.", 0, kI64Max, {},
     "log.segment.delete.delay.ms"},
    {"flush.messages", vt::int64, "9223372036854775807", "Messages between fsyncs.", 1, kI64Max, {},
     "log.flush.interval.messages"},
    {"flush.ms", vt::int64, "9223372036854775807", "Most time data stays unflushed.", 0, kI64Max, {},
     "log.flush.interval.ms"},
    {"index.interval.bytes", vt::int32, "4096", "Bytes between offset index entries.", 0, kI32Max, {},
     "log.index.interval.bytes"},
    {"max.message.bytes", vt::int32, "1048588", "Largest record batch accepted.", 0, kI32Max, {},
     "message.max.bytes"},
    {"message.timestamp.type", vt::string, "CreateTime", "CreateTime or LogAppendTime.", 0, 0,
     "CreateTime|LogAppendTime", "log.message.timestamp.type"},
    {"min.insync.replicas", vt::int32, "1", "Replicas that must acknowledge acks=all.", 1, kI32Max, {},
     "min.insync.replicas"},
    {"retention.bytes", vt::int64, "-1", "Largest partition size before old segments go.", -1, kI64Max, {},
     "log.retention.bytes"},
    {"retention.ms", vt::int64, "604800000", "How long data is kept (-1: for ever).", -1, kI64Max, {},
     "log.retention.ms"},
    {"segment.bytes", vt::int32, "1073741824", "Size at which a segment rolls.", 14, kI32Max, {},
     "log.segment.bytes"},
    {"segment.index.bytes", vt::int32, "10485760", "Largest offset index of a segment.", 4, kI32Max, {},
     "log.index.size.max.bytes"},
    {"segment.ms", vt::int64, "604800000", "Age at which a segment rolls.", 1, kI64Max, {}, "log.roll.ms"},
    {"segment.jitter.ms", vt::int64, "0", "Accepted; no jitter is applied.", 0, kI64Max, {}, "log.roll.jitter.ms"},
    {"unclean.leader.election.enable", vt::boolean, "false", "Allow a replica outside the ISR to lead.", 0, 0, {},
     "unclean.leader.election.enable"},
    {"min.compaction.lag.ms", vt::int64, "0", "Youngest a segment's newest record may be for compaction to clean it.",
     0, kI64Max, {}, "log.cleaner.min.compaction.lag.ms"},
    {"leader.replication.throttled.replicas", vt::list, "",
     "Replicas (partition:broker, or *) whose followers' fetches from this leader count against the leader's "
     "leader.replication.throttled.rate while those followers are out of sync (partition moves)."},
    {"follower.replication.throttled.replicas", vt::list, "",
     "Replicas (partition:broker, or *) whose fetches count against their broker's "
     "follower.replication.throttled.rate while they are out of sync (partition moves)."},
    {"max.compaction.lag.ms", vt::int64, "9223372036854775807",
     "Oldest an uncleaned segment's newest record may be before it is cleaned whatever the dirty ratio.", 1,
     kI64Max, {}, "log.cleaner.max.compaction.lag.ms"},
    {"min.cleanable.dirty.ratio", vt::double_, "0.5",
     "Share of uncleaned bytes in the cleanable part of a compacted log that starts a cleaning.", 0, 1, {},
     "log.cleaner.min.cleanable.ratio"},
    {"message.downconversion.enable", vt::boolean, "true", "Accepted; Strata never down-converts."},
    {"preallocate", vt::boolean, "false", "Accepted; segments are not preallocated."},
    {"message.timestamp.difference.max.ms", vt::int64, "9223372036854775807", "Accepted; not enforced.", 0,
     kI64Max},
};

bool parse_i64(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

template <size_t N>
const config_def* find_in(const config_def (&table)[N], std::string_view name) {
  for (const auto& d : table)
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace

std::span<const config_def> broker_config_defs() { return kBroker; }
std::span<const config_def> topic_config_defs() { return kTopic; }
const config_def* find_broker_def(std::string_view name) { return find_in(kBroker, name); }
const config_def* find_topic_def(std::string_view name) { return find_in(kTopic, name); }

std::string_view type_name(value_type t) {
  switch (t) {
    case value_type::boolean: return "BOOLEAN";
    case value_type::int32: return "INT";
    case value_type::int64: return "LONG";
    case value_type::double_: return "DOUBLE";
    case value_type::string: return "STRING";
    case value_type::list: return "LIST";
    case value_type::password: return "PASSWORD";
  }
  return "STRING";
}

// max.connections.per.ip.overrides: "host:count,host:count", the count after the last ':'
// (an IPv6 address has its own) and in [0, 2^31-1].
static std::optional<std::string> validate_ip_overrides(const config_def& def, std::string_view value) {
  std::string_view rest = value;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    size_t colon = item.rfind(':');
    int64_t count = -1;
    if (colon == std::string_view::npos || colon == 0 || !parse_i64(item.substr(colon + 1), count) || count < 0 ||
        count > kI32Max)
      return fmt::format("invalid value '{}' for '{}': '{}' is not host:count with a count in [0, {}]", value,
                         def.name, item, kI32Max);
  }
  return std::nullopt;
}

std::optional<std::string> validate_value(const config_def& def, std::string_view value) {
  if (def.name == "max.connections.per.ip.overrides") return validate_ip_overrides(def, value);
  if (def.name == "leader.replication.throttled.replicas" || def.name == "follower.replication.throttled.replicas") {
    if (parse_throttled_replicas(value)) return std::nullopt;
    return fmt::format("invalid value '{}' for '{}': expected *, or partition:broker pairs separated by commas",
                       value, def.name);
  }
  switch (def.type) {
    case value_type::boolean:
      if (value != "true" && value != "false")
        return fmt::format("invalid value '{}' for '{}': expected true or false", value, def.name);
      return std::nullopt;
    case value_type::int32:
    case value_type::int64: {
      int64_t v = 0;
      if (!parse_i64(value, v))
        return fmt::format("invalid value '{}' for '{}': expected an integer", value, def.name);
      if (def.type == value_type::int32 && (v < std::numeric_limits<int32_t>::min() || v > kI32Max))
        return fmt::format("invalid value '{}' for '{}': out of the 32-bit range", value, def.name);
      if (v < def.min || v > def.max)
        return fmt::format("invalid value '{}' for '{}': must be between {} and {}", value, def.name, def.min,
                           def.max);
      return std::nullopt;
    }
    case value_type::double_: {
      double v = 0;
      try {
        size_t used = 0;
        v = std::stod(std::string(value), &used);
        if (used != value.size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        return fmt::format("invalid value '{}' for '{}': expected a number", value, def.name);
      }
      if (v < double(def.min) || v > double(def.max))
        return fmt::format("invalid value '{}' for '{}': must be between {} and {}", value, def.name, def.min,
                           def.max);
      return std::nullopt;
    }
    case value_type::string:
    case value_type::list:
    case value_type::password:
      if (!def.one_of.empty()) {
        std::string_view rest = def.one_of;
        while (!rest.empty()) {
          size_t bar = rest.find('|');
          if (rest.substr(0, bar) == value) return std::nullopt;
          if (bar == std::string_view::npos) break;
          rest.remove_prefix(bar + 1);
        }
        return fmt::format("invalid value '{}' for '{}': expected one of {}", value, def.name, def.one_of);
      }
      if (def.name == "cleanup.policy" || def.name == "log.cleanup.policy") {
        for (std::string_view rest = value; !rest.empty();) {
          size_t c = rest.find(',');
          std::string_view item = rest.substr(0, c);
          while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
          while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
          if (item != "delete" && item != "compact")
            return fmt::format("invalid value '{}' for '{}': expected delete and/or compact", value, def.name);
          if (c == std::string_view::npos) break;
          rest.remove_prefix(c + 1);
        }
      }
      return std::nullopt;
  }
  return std::nullopt;
}

namespace {

std::vector<std::string> list_items(std::string_view list) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    start = end + 1;
  }
  return items;
}

std::string join_items(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

}  // namespace

std::string list_append(std::string_view list, std::string_view item) {
  auto items = list_items(list);
  if (!item.empty() && std::find(items.begin(), items.end(), item) == items.end()) items.emplace_back(item);
  return join_items(items);
}

std::string list_subtract(std::string_view list, std::string_view item) {
  auto items = list_items(list);
  std::erase(items, std::string(item));
  return join_items(items);
}

}  // namespace strata::config
