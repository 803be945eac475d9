// PLACEHOLDER for the link of branch nbserver only: the UI helper's branch (nbui) provides
// the real ui_assets.cc (embedded app); the merge takes that version.
#include "server/ui_assets.h"

namespace sl::server {

bool serve_ui_asset(const net::HttpRequest&, net::ResponseSink&) { return false; }

}  // namespace sl::server
