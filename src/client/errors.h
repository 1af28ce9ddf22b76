#pragma once
// Errors of the blocking admin client. Every failure is a client_error whose
// what() is one line an operator can act on, naming what was wrong
// ("cannot connect to localhost:9092: Connection refused",
// "topic 'x': the topic or partition does not exist (UNKNOWN_TOPIC_OR_PARTITION)").
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "protocol/generated/error_code.h"

namespace strata::client {

class client_error : public std::runtime_error {
 public:
  // code: the Kafka error behind the failure, none for local ones (socket,
  // timeout, bad arguments).
  explicit client_error(const std::string& what, protocol::error_code code = protocol::error_code::none)
      : std::runtime_error(what), code_(code) {}
  protocol::error_code code() const { return code_; }

 private:
  protocol::error_code code_;
};

// A short sentence for a Kafka error code ("the topic or partition does not
// exist"), or the lower-cased name when there is no better wording.
std::string describe_error(protocol::error_code code);

// "<broker's message or describe_error(code)> (NAME)": the broker's own
// message wins because it is usually more specific ("number of partitions
// must be larger than 3").
std::string error_text(int16_t code, const std::optional<std::string>& broker_message = std::nullopt);

// Throws client_error("<context>: <error_text>") unless code is 0.
void check(int16_t code, const std::string& context,
           const std::optional<std::string>& broker_message = std::nullopt);

// Errors after which the same request can succeed once metadata, the
// controller or the coordinator has been looked up again.
bool is_retriable(protocol::error_code code);

}  // namespace strata::client
