#pragma once
// CRC-32C (Castagnoli), as Kafka's record batch v2 uses it.
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// start-up) and a slicing-by-8 table otherwise.
#include <cstddef>
#include <cstdint>

namespace strata::base {

// Extends `crc` (0 for a fresh computation) over [data, data+n).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }

// The portable path, exposed so tests can compare it with the hardware path.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t n);
bool crc32c_hardware_available();

}  // namespace strata::base
