#pragma once
// Per-topic log settings, with Kafka's names and defaults (topic config name in the
// comment; the broker-wide `log.` names map onto the same fields).
#include <cstdint>
#include <limits>

namespace strata::storage {

struct log_config {
  // segment.bytes: roll when an append would push the active segment past this size.
  int64_t segment_bytes = int64_t(1) << 30;
  // segment.ms: roll when the active segment's first batch is this old (by batch
  // timestamps, as Kafka's LogSegment.shouldRoll measures it).
  int64_t segment_ms = int64_t(7) * 24 * 3600 * 1000;
  // index.interval.bytes: bytes appended between two sparse index entries.
  int32_t index_interval_bytes = 4096;
  // segment.index.bytes: capacity of each index file; a full index rolls the segment.
  int32_t segment_index_bytes = 10 * 1024 * 1024;
  // retention.ms: delete segments whose newest batch is older than this; -1 = never.
  int64_t retention_ms = int64_t(7) * 24 * 3600 * 1000;
  // retention.bytes: delete the oldest segments while the log is larger; -1 = no limit.
  int64_t retention_bytes = -1;
  // flush.messages / flush.ms: fsync after this many unflushed messages (offsets) or
  // this long since the last flush. Kafka's default: never, durability comes from
  // replication and the page cache.
  int64_t flush_interval_messages = std::numeric_limits<int64_t>::max();
  int64_t flush_interval_ms = std::numeric_limits<int64_t>::max();

  // Compaction (cleanup.policy containing "compact"; log_cleaner.cc).
  bool compact = false;
  // min.cleanable.dirty.ratio: clean when the bytes not yet cleaned are at least this
  // share of the cleanable bytes.
  double min_cleanable_dirty_ratio = 0.5;
  // min.compaction.lag.ms: a segment whose newest batch is younger stays uncleaned.
  int64_t min_compaction_lag_ms = 0;
  // max.compaction.lag.ms: a dirty segment whose newest batch is older is cleaned
  // whatever the ratio.
  int64_t max_compaction_lag_ms = std::numeric_limits<int64_t>::max();
  // delete.retention.ms: how long a tombstone (null value) outlives its batch's
  // timestamp before cleaning removes it.
  int64_t delete_retention_ms = int64_t(24) * 3600 * 1000;
};

}  // namespace strata::storage
