// Checksums and digests: CRC32C (hardware when the CPU has SSE4.2), MD5, SHA-256,
// HMAC-SHA256 (OpenSSL), and hex encoding.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sl {

// CRC32C (Castagnoli), as used by segment files. crc32c_extend continues a running value.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }
inline uint32_t crc32c(std::string_view s) { return crc32c(s.data(), s.size()); }

using Md5Digest = std::array<uint8_t, 16>;
Md5Digest md5(std::string_view data);

using Sha256Digest = std::array<uint8_t, 32>;
Sha256Digest sha256(std::string_view data);
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

std::string hex_lower(const void* data, size_t n);
template <size_t N>
std::string hex_lower(const std::array<uint8_t, N>& a) { return hex_lower(a.data(), N); }

// Constant-time comparison for secrets and signatures.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace sl
