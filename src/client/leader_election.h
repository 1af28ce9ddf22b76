#pragma once
// ElectLeaders (KIP-460) over the Kafka protocol, sent to the controller as Kafka's
// AdminClient.electLeaders does. NOT_CONTROLLER (the controller moved) is retried
// until the deadline; other per-partition errors are returned.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/cluster_client.h"
#include "client/topic_partition.h"

namespace strata::client {

enum class election_type : int8_t { preferred = 0, unclean = 1 };

struct election_outcome {
  topic_partition tp;
  int16_t error_code = 0;  // ELECTION_NOT_NEEDED (84) when the leader already is right
  std::string message;     // error_text() of the error; empty on success
};

// One outcome per partition asked for; with nullopt (every partition) only those
// that were elected or failed: Kafka leaves out the ones that needed no election.
std::vector<election_outcome> elect_leaders(cluster_client& c, election_type type,
                                            const std::optional<std::vector<topic_partition>>& partitions);

}  // namespace strata::client
