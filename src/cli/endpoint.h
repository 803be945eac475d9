// Parsing "http://host:port[/...]" endpoints given on the command line.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

namespace sl::cli {

// The server the command-line clients talk to by default: $STREAMLAKE_ENDPOINT if set (as
// PGHOST is for psql), else the default port on loopback. --endpoint overrides it.
inline std::string default_endpoint() {
  const char* e = std::getenv("STREAMLAKE_ENDPOINT");
  return e && *e ? std::string(e) : std::string("http://127.0.0.1:4566");
}

// False for https:// (our command-line clients speak plain HTTP) or a malformed endpoint.
// A missing port means 80.
inline bool parse_http_endpoint(const std::string& ep, std::string* host, uint16_t* port) {
  std::string rest = ep;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos) return false;
  auto slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) {
    *host = rest;
    *port = 80;
    return !host->empty();
  }
  *host = rest.substr(0, colon);
  int p = std::atoi(rest.c_str() + colon + 1);
  if (p <= 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return !host->empty();
}

}  // namespace sl::cli
