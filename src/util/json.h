// JSON text helpers shared by every module that writes JSON by hand (hot paths avoid a
// DOM): string escaping per RFC 8259.
#pragma once

#include <string>
#include <string_view>

namespace sl {

// Appends `s` as a quoted JSON string: ", \ and control characters escaped; bytes >= 0x80
// are copied as they are (UTF-8 passes through).
void append_json_string(std::string& out, std::string_view s);

}  // namespace sl
