#pragma once
// Java-style .properties text: `key=value` or `key: value` lines, `#`/`!`
// comments, blank lines ignored, trailing whitespace trimmed. Enough for
// Kafka's server.properties (no line continuations or unicode escapes needed
// there, but a trailing backslash continuation is honoured).
#include <map>
#include <string>
#include <string_view>

namespace strata::config {

using properties = std::map<std::string, std::string>;

// Throws config_error with the line number on a malformed line.
properties parse_properties(std::string_view text, std::string_view origin = "<text>");
properties load_properties_file(const std::string& path);

}  // namespace strata::config
