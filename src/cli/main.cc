// streamlake: the command-line entry point.
//   streamlake serve   — the daemon (Kinesis API, HTTP API) on 127.0.0.1:4566
//   streamlake demo    — the daemon plus the AWS solution's pipeline and a producer
//   streamlake produce — the sample producer over the Kinesis API
#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/kinesis_cli.h"
#include "cli/certs.h"
#include "cli/demo.h"
#include "cli/produce.h"
#include "cli/s3_cli.h"
#include "cli/sql_shell.h"
#include "server/config.h"
#include "server/server.h"

namespace {

volatile bool g_stop = false;
void on_signal(int) { g_stop = true; }

struct ServeFlags {
  std::string config_file;
  std::string data_dir;
  std::string host;
  int port = -1;
  int pg_port = -1;
  bool no_fsync = false;
  std::string tls_cert, tls_key;
  double demo_rate = 100;
};

// What to do about a server that cannot start.
void print_start_hint(const sl::server::Config& cfg, const std::string& why) {
  if (why.find("in use") != std::string::npos)
    std::fprintf(stderr,
                 "streamlake: hint: port %u or %u is taken — another streamlake (or LocalStack) is running. Stop it, "
                 "or choose other ports: --port N --pg-port M.\n",
                 cfg.port, cfg.pg_port);
  else if (why.find("ermission denied") != std::string::npos || why.find("ead-only") != std::string::npos ||
           why.find("data directory") != std::string::npos || why.find("ot a directory") != std::string::npos)
    std::fprintf(stderr,
                 "streamlake: hint: the data directory %s cannot be created or written by this user; choose another "
                 "with --data DIR, or fix its owner and permissions.\n",
                 cfg.data_dir.c_str());
}

int run_serve(const ServeFlags& f, bool demo) {
  sl::server::Config cfg;
  if (!f.config_file.empty()) {
    auto st = sl::server::load_config_file(f.config_file, &cfg);
    if (!st.ok()) {
      std::fprintf(stderr, "streamlake: %s\n", st.message().c_str());
      return 2;
    }
  }
  cfg.s3.fill_from_environment();  // [lake.s3] settings first, then the AWS environment
  if (!f.data_dir.empty()) cfg.data_dir = f.data_dir;
  if (!f.host.empty()) cfg.host = f.host;
  if (f.port >= 0) cfg.port = static_cast<uint16_t>(f.port);
  if (f.pg_port >= 0) cfg.pg_port = static_cast<uint16_t>(f.pg_port);
  else if (f.port == 0) cfg.pg_port = 0;  // --port 0 (tests): both listeners on free ports
  if (f.no_fsync) cfg.fsync = false;
  if (!f.tls_cert.empty()) cfg.tls_cert_file = f.tls_cert;
  if (!f.tls_key.empty()) cfg.tls_key_file = f.tls_key;
  if (cfg.tls_cert_file.empty() != cfg.tls_key_file.empty()) {
    std::fprintf(stderr, "streamlake: --tls-cert and --tls-key go together\n");
    return 2;
  }

  // Files the server writes (log, tables, state, checkpoints) are its user's alone.
  ::umask(077);

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (cfg.host != "127.0.0.1" && cfg.host != "localhost" && cfg.host != "::1" && cfg.tls_cert_file.empty())
    std::fprintf(stderr,
                 "streamlake: WARNING: listening on %s without TLS: credentials and data cross the network "
                 "in clear text. Use --tls-cert/--tls-key (see docs/security.md).\n",
                 cfg.host.c_str());

  auto server = sl::server::Server::start(cfg);
  if (!server.ok()) {
    std::fprintf(stderr, "streamlake: cannot start: %s\n", server.status().to_string().c_str());
    print_start_hint(cfg, server.status().to_string());
    return 1;
  }
  std::printf("streamlake: listening pg=%s:%u\n", cfg.host.c_str(), (*server)->pg_port());
  std::printf("streamlake: listening %s=%s:%u\n", cfg.tls_cert_file.empty() ? "http" : "https", cfg.host.c_str(),
              (*server)->http_port());
  std::printf("streamlake: data in %s, credentials in %s/credentials\n",
              std::filesystem::absolute(cfg.data_dir).lexically_normal().c_str(), cfg.data_dir.c_str());
  std::fflush(stdout);
  // The demo: the AWS solution's pipeline (examples/aws_solution.sql) and its producer.
  std::thread producer;
  volatile bool producer_stop = false;
  if (demo) {
    sl::cli::DemoOptions d;
    d.endpoint = "http://127.0.0.1:" + std::to_string((*server)->http_port());
    d.data_dir = cfg.data_dir;
    d.pg_port = (*server)->pg_port();
    d.rate = f.demo_rate;
    if (std::string link = (*server)->sign_in_link("admin"); !link.empty()) d.sign_in_url = d.endpoint + link;
    producer = std::thread([d, &producer_stop] { sl::cli::run_demo(d, &producer_stop); });
  }
  int sig = 0;
  sigwait(&set, &sig);
  producer_stop = true;
  if (producer.joinable()) producer.join();
  std::printf("streamlake: stopping (signal %d)\n", sig);
  std::fflush(stdout);
  (*server)->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"streamlake: real-time analytics in one binary"};
  app.require_subcommand(0, 1);
  app.footer("Start here:\n"
             "  streamlake demo            the AWS solution's pipeline, a producer and the notebook\n"
             "  streamlake serve           the server alone (127.0.0.1:4566 HTTP/Kinesis, :4567 PostgreSQL)\n"
             "  streamlake <command> --help   the options of one command\n"
             "Docs: README.md and docs/ in the source tree.");

  ServeFlags sf;
  auto add_serve_flags = [&](CLI::App* c) {
    c->add_option("--config", sf.config_file, "TOML config file");
    c->add_option("--data", sf.data_dir, "data directory (default ./data)");
    c->add_option("--host", sf.host, "address to bind (default 127.0.0.1)");
    c->add_option("--port", sf.port, "HTTP port for the Kinesis API, HTTP API and UI (default 4566; 0 = any)");
    c->add_option("--pg-port", sf.pg_port, "PostgreSQL wire protocol port (default 4567; 0 = any)");
    c->add_option("--tls-cert", sf.tls_cert, "PEM certificate: HTTPS on the HTTP port, SSL on the PostgreSQL port");
    c->add_option("--tls-key", sf.tls_key, "PEM private key for --tls-cert");
    c->add_flag("--no-fsync", sf.no_fsync, "acknowledge writes before they are on disk (faster, not durable)");
  };
  auto* serve = app.add_subcommand("serve", "run the server");
  add_serve_flags(serve);
  auto* demo = app.add_subcommand("demo", "run the server with the AWS solution's pipeline and producer");
  add_serve_flags(demo);
  demo->add_option("--rate", sf.demo_rate, "records per second the producer sends (default 100)");
  demo->footer("Then open the notebook address it prints, or query with psql/curl (commands are printed).");
  serve->footer("Then: create a stream with the AWS CLI, `streamlake produce`, and query with `streamlake sql`\n"
                "or psql (see README.md). Credentials are in DATA/credentials.");

  sl::cli::ProduceOptions po;
  std::string data_dir = "data";
  auto* produce = app.add_subcommand("produce", "send sample records (zipcode,productN,price,timestamp)");
  produce->footer("Needs a running server and an existing stream (`streamlake demo` creates 'sales'). Then query\n"
                  "the records with `streamlake sql -c \"SELECT * FROM records LIMIT 10\"` (see README.md).");
  produce->add_option("--endpoint", po.endpoint, "Kinesis endpoint (default $STREAMLAKE_ENDPOINT or http://127.0.0.1:4566)");
  produce->add_option("--stream", po.stream, "stream name")->required();
  produce->add_option("--rate", po.rate, "records per second (default 100)");
  produce->add_option("--duration", po.duration, "seconds to run (default: until interrupted)");
  produce->add_option("--format", po.format, "csv or json (default csv)");
  produce->add_option("--credentials", po.credentials_file, "AWS credentials file (default DATA/credentials)");
  produce->add_option("--data", data_dir, "data directory whose credentials to use (default ./data)");
  produce->add_option("--region", po.region, "region to sign for (default us-east-1)");
  produce->add_option("--seed", po.seed, "random seed (default: from the clock)");
  produce->add_flag("--quiet", po.quiet, "no progress lines");

  std::string certs_dir = "data";
  std::vector<std::string> cert_names = {"localhost", "127.0.0.1", "::1"};
  int cert_days = 365;
  auto* certs = app.add_subcommand("certs", "make a self-signed TLS certificate and key (DIR/cert.pem, DIR/key.pem)");
  certs->footer("Then: streamlake serve --tls-cert data/cert.pem --tls-key data/key.pem (docs/security.md).");
  certs->add_option("--out", certs_dir, "directory to write to (default ./data)");
  certs->add_option("--name", cert_names, "host names / IPs the certificate is for (default localhost 127.0.0.1 ::1)");
  certs->add_option("--days", cert_days, "validity in days (default 365)");

  sl::cli::SqlShellOptions qo;
  std::string sql_data_dir = "data";
  auto* sqlc = app.add_subcommand("sql", "SQL shell over the HTTP API (reads statements from stdin)");
  sqlc->footer("Try: SHOW TABLES; SHOW STREAMS; SHOW VIEWS; SHOW SINKS; SELECT * FROM products LIMIT 10;\n"
               "The SQL reference is docs/sql.md; streaming SQL docs/streaming.md; the lake docs/lake.md.");
  sqlc->add_option("-c,--command", qo.command, "run these statements and exit");
  sqlc->add_option("-f,--file", qo.file, "run the statements in this file and exit (e.g. examples/aws_solution.sql)");
  sqlc->add_option("--endpoint", qo.endpoint, "server (default $STREAMLAKE_ENDPOINT or http://127.0.0.1:4566)");
  sqlc->add_option("--credentials", qo.credentials_file, "credentials file (default DATA/credentials)");
  sqlc->add_option("--data", sql_data_dir, "data directory whose credentials to use (default ./data)");
  sqlc->add_option("--format", qo.format, "table, csv or json (default table)");

  sl::cli::S3CliOptions s3o;
  auto* s3c = app.add_subcommand("s3", "check the lake's S3 settings: ls | get | put | stat | rm s3://bucket/key");
  s3c->add_option("action", s3o.action, "ls, get (to stdout), put (from stdin), stat or rm")->required();
  s3c->add_option("uri", s3o.uri, "s3://bucket/prefix (ls) or s3://bucket/key")->required();
  s3c->add_option("--config", s3o.config_file, "TOML config file whose [lake.s3] to use");
  s3c->add_option("--endpoint", s3o.endpoint, "S3 endpoint (default: [lake.s3], AWS_ENDPOINT_URL_S3, AWS)");
  s3c->add_option("--region", s3o.region, "region (default: [lake.s3], AWS_REGION, us-east-1)");
  s3c->add_flag("--virtual-hosted", s3o.virtual_hosted, "address the bucket as bucket.host");

  std::function<int()> kinesis_run;
  auto* kinesis_cmd = sl::cli::add_kinesis_command(app, &kinesis_run);

  CLI11_PARSE(app, argc, argv);

  if (app.get_subcommands().empty()) {
    std::printf("%s", app.help().c_str());
    return 0;
  }
  if (s3c->parsed()) {
    signal(SIGPIPE, SIG_IGN);
    return sl::cli::run_s3(s3o);
  }

  if (kinesis_cmd->parsed()) return kinesis_run();
  if (certs->parsed()) return sl::cli::make_self_signed(certs_dir, cert_names, cert_days) ? 0 : 1;
  if (sqlc->parsed()) {
    if (qo.credentials_file.empty()) qo.credentials_file = sql_data_dir + "/credentials";
    signal(SIGPIPE, SIG_IGN);
    return sl::cli::run_sql_shell(qo);
  }

  if (serve->parsed()) return run_serve(sf, false);
  if (demo->parsed()) return run_serve(sf, true);
  if (produce->parsed()) {
    if (po.credentials_file.empty()) po.credentials_file = data_dir + "/credentials";
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    return sl::cli::run_produce(po, &g_stop);
  }
  return 0;
}
