#pragma once
// The one place where the group coordinator's outcomes (group::errc) become
// Kafka wire codes (STYLE 2.4). The group handlers (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups,
// ListGroups, DeleteGroups, OffsetDelete) use nothing else to build an error.
#include <cstdint>

#include "group/errc.h"
#include "protocol/generated/error_code.h"

namespace strata::broker {

protocol::error_code to_kafka(group::errc e) noexcept;

// For a response field: the wire code as the generated messages hold it.
inline int16_t group_ec(group::errc e) noexcept { return static_cast<int16_t>(to_kafka(e)); }

}  // namespace strata::broker
