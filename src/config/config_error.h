#pragma once
#include <stdexcept>
#include <string>

namespace strata::config {

// A configuration the operator must fix. The message names the key.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace strata::config
