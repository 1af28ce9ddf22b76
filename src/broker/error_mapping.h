#pragma once
// The one place internal errors become Kafka error codes (ARCHITECTURE.md §12).
// Subsystems return std::error_code in their own categories (storage::errc,
// cluster::errc, records::errc, cluster::store_errc); handlers put
// to_wire(ec) in their responses. Group coordinator errors map in
// handlers/group_errors.h.
#include <system_error>

#include "protocol/generated/error_code.h"

namespace strata::broker {

// none for a success; KAFKA_STORAGE_ERROR for an error this table does not know
// (an I/O failure of some kind is the only thing left).
protocol::error_code to_wire(std::error_code e);

}  // namespace strata::broker
