#pragma once
// Kafka's checkpoint files (CheckpointFile.java), byte-compatible. ASCII text, '\n' line
// ends:
//
//   line 1      version, always "0"
//   line 2      N, the number of entries, in decimal
//   N lines     one entry each, fields separated by one space:
//                 offset checkpoints (recovery-point-offset-checkpoint,
//                 log-start-offset-checkpoint):  "<topic> <partition> <offset>"
//                 leader-epoch-checkpoint:       "<epoch> <start offset>"
//
// Writes go to "<file>.tmp", which is fsynced and renamed over the file; then the
// directory is fsynced, so a crash leaves either the old or the new file, never a mix.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "storage/errc.h"
#include "storage/fs/file.h"

namespace strata::storage {

inline constexpr int kCheckpointVersion = 0;

// Writes the lines as a version-0 checkpoint, durably.
std::error_code write_checkpoint(fs::file_system& fs, const std::string& path,
                                 const std::vector<std::string>& entries);
// The entry lines of a checkpoint. errc::not_found if the file is missing,
// errc::corrupt_segment if it is not a well-formed version-0 checkpoint.
result<std::vector<std::string>> read_checkpoint(fs::file_system& fs, const std::string& path);

using topic_partition = std::pair<std::string, int32_t>;
using offset_map = std::map<topic_partition, int64_t>;

std::error_code write_offset_checkpoint(fs::file_system& fs, const std::string& path,
                                        const offset_map& offsets);
// A missing file reads as empty.
result<offset_map> read_offset_checkpoint(fs::file_system& fs, const std::string& path);

}  // namespace strata::storage
