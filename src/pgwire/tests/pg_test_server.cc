// pg_test_server: the real SQL engine on a data directory behind PgServer, for the
// real-client tests in test/pgwire/.
//
//   pg_test_server [--data DIR] [--user NAME:PASSWORD:ROLE]... [--tls-cert F --tls-key F]
//                  [--require-tls] [--idle-timeout-ms N] [--port N]
//
// Prints "PORT <n>" on stdout once listening; runs until stdin closes or SIGTERM/SIGINT.
// Without --data it uses a fresh temporary directory and removes it at exit.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "pgwire/pg_server.h"
#include "sql/engine.h"
#include "util/error.h"

int main(int argc, char** argv) {
  using namespace sl;
  pgwire::PgServerOptions opts;
  opts.port = 0;
  std::string data;
  std::map<std::string, pgwire::PgUser, std::less<>> users;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") data = next();
    else if (a == "--tls-cert") opts.tls_cert_file = next();
    else if (a == "--tls-key") opts.tls_key_file = next();
    else if (a == "--require-tls") opts.require_tls = true;
    else if (a == "--idle-timeout-ms") opts.idle_timeout_ms = std::atoi(next().c_str());
    else if (a == "--port") opts.port = static_cast<uint16_t>(std::atoi(next().c_str()));
    else if (a == "--user") {
      std::string u = next();
      size_t c1 = u.find(':'), c2 = u.rfind(':');
      if (c1 == std::string::npos || c1 == c2) {
        std::fprintf(stderr, "--user wants NAME:PASSWORD:ROLE\n");
        return 2;
      }
      pgwire::PgUser user{u.substr(0, c1), u.substr(c1 + 1, c2 - c1 - 1), u.substr(c2 + 1)};
      users[user.name] = user;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  bool temp = data.empty();
  if (temp) {
    char tmpl[] = "/tmp/pg_test_server_XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      return 1;
    }
    data = tmpl;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);

  int rc = 0;
  try {
    auto engine = sql::Engine::open(data);
    auto server = pgwire::PgServer::start(opts, engine.get(), [&users](std::string_view name) -> std::optional<pgwire::PgUser> {
      auto it = users.find(name);
      if (it == users.end()) return std::nullopt;
      return it->second;
    });
    if (!server.ok()) {
      std::fprintf(stderr, "cannot start: %s\n", server.status().to_string().c_str());
      return 1;
    }
    std::printf("PORT %u\n", (*server)->port());
    std::fflush(stdout);
    pollfd p[2] = {{0, POLLIN, 0}, {sfd, POLLIN, 0}};
    char buf[256];
    for (;;) {
      if (::poll(p, 2, -1) < 0) continue;
      if (p[1].revents) break;
      if (p[0].revents) {
        ssize_t n = ::read(0, buf, sizeof buf);
        if (n <= 0) break;
      }
    }
    (*server)->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    rc = 1;
  }
  if (temp) {
    std::error_code ec;
    std::filesystem::remove_all(data, ec);
  }
  return rc;
}
