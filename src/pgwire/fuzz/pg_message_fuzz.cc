// libFuzzer target: the PostgreSQL message parser (startup packets, typed frontend
// messages, SASL/SCRAM messages). Build with -DSL_FUZZ=ON and clang; run e.g.
//   build/fuzz/src/pgwire/pg_message_fuzz -max_total_time=60
// The same entry point runs over a corpus of malformed inputs in pgwire_protocol_test.
#include <cstddef>
#include <cstdint>

#include "pgwire/fuzz/pg_message_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sl::pgwire::fuzz_one_input(data, size);
  return 0;
}
