#pragma once
// Kafka's file and directory names (LogFileUtils.java, LogManager.scala). Matching them
// lets Kafka's dump tools read Strata's data and operators find what they expect.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace strata::storage {

inline constexpr std::string_view kLogSuffix = ".log";
inline constexpr std::string_view kIndexSuffix = ".index";
inline constexpr std::string_view kTimeIndexSuffix = ".timeindex";
inline constexpr std::string_view kTxnIndexSuffix = ".txnindex";
inline constexpr std::string_view kSnapshotSuffix = ".snapshot";
// Transient suffixes: swept away when a log is loaded.
inline constexpr std::string_view kTmpSuffix = ".tmp";
inline constexpr std::string_view kDeletedSuffix = ".deleted";
inline constexpr std::string_view kCleanedSuffix = ".cleaned";
inline constexpr std::string_view kSwapSuffix = ".swap";
// A partition directory being deleted: `<topic>-<partition>.<uuid>-delete`.
inline constexpr std::string_view kDeleteDirSuffix = "-delete";

inline constexpr std::string_view kLeaderEpochCheckpoint = "leader-epoch-checkpoint";
inline constexpr std::string_view kRecoveryPointCheckpoint = "recovery-point-offset-checkpoint";
inline constexpr std::string_view kLogStartOffsetCheckpoint = "log-start-offset-checkpoint";
inline constexpr std::string_view kReplicationOffsetCheckpoint = "replication-offset-checkpoint";
inline constexpr std::string_view kCleanerOffsetCheckpoint = "cleaner-offset-checkpoint";
inline constexpr std::string_view kCleanShutdownMarker = ".kafka_cleanshutdown";
inline constexpr std::string_view kLockFile = ".lock";

// "00000000000000000042" + suffix.
std::string segment_file_name(int64_t base_offset, std::string_view suffix);
// The base offset of a segment file called `name`, if it has that suffix and a valid
// 20-digit offset in front of it.
std::optional<int64_t> parse_segment_file_name(std::string_view name, std::string_view suffix);

// "<topic>-<partition>".
std::string partition_dir_name(std::string_view topic, int32_t partition);
// Splits at the last '-'; rejects names whose partition part is not a plain number
// (which also rejects `-delete`, `-future` and `-stray` directories).
std::optional<std::pair<std::string, int32_t>> parse_partition_dir_name(std::string_view name);

bool ends_with(std::string_view s, std::string_view suffix);

}  // namespace strata::storage
