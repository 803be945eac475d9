// The fuzzing entry point of the wire-protocol parser, shared by the libFuzzer target and
// the gtest over malformed inputs. Header-only so it compiles into both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pgwire/protocol.h"
#include "pgwire/scram.h"

namespace sl::pgwire {

// Splits the input at arbitrary points (driven by its first byte) into a FrameDecoder,
// parses every complete message with its typed parser, and runs SCRAM messages through a
// server exchange. Must never crash, hang or leak whatever the bytes.
inline void fuzz_one_input(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t step = (data[0] % 17) + 1;
  FrameDecoder dec;
  for (size_t i = 0; i < in.size(); i += step)
    if (!dec.feed(in.substr(i, step)).ok()) break;
  for (const auto& m : dec.messages) {
    switch (m.type) {
      case 'P': { ParseMsg x; (void)parse_parse(m.body, &x); break; }
      case 'B': { BindMsg x; (void)parse_bind(m.body, &x); break; }
      case 'D': { DescribeMsg x; (void)parse_describe(m.body, &x); break; }
      case 'E': { ExecuteMsg x; (void)parse_execute(m.body, &x); break; }
      case 'C': { CloseMsg x; (void)parse_close(m.body, &x); break; }
      case 'Q': { QueryMsg x; (void)parse_query(m.body, &x); break; }
      case 'p': {
        SaslInitialMsg x;
        ScramServer s(std::nullopt, "fuzznonce");
        if (parse_sasl_initial(m.body, &x).ok() && x.data) {
          if (s.client_first(*x.data).ok()) (void)s.client_final(m.body);
        } else {
          (void)s.client_first(m.body);
        }
        break;
      }
      default: break;
    }
  }
  // Also the raw bytes as a startup packet body and as each message kind.
  StartupPacket sp;
  (void)parse_startup_packet(in, &sp);
  for (char t : {'P', 'B', 'D', 'E', 'C', 'Q', 'p', 'S', 'H', 'X'})
    (void)validate_frontend_message(t, in);
}

}  // namespace sl::pgwire
