// Base64 (RFC 4648, standard alphabet, padded), as Kinesis JSON carries record data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sl {

std::string base64_encode(std::string_view in);
// Appends the encoding of `in` to `out`.
void base64_encode_append(std::string_view in, std::string& out);
// Decodes strictly: returns nullopt on a bad character, bad length or bad padding.
std::optional<std::string> base64_decode(std::string_view in);
// Decodes into `out` (appending); false on malformed input (out is then unspecified).
bool base64_decode_append(std::string_view in, std::string& out);

}  // namespace sl
