#include "cli/commands.h"

namespace strata::cli {
namespace {
int g_exit_code = 0;
}

std::string_view version_string() { return "strata 0.1.0"; }
int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

}  // namespace strata::cli
