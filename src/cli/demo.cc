#include "cli/demo.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/demo_sql.h"
#include "cli/produce.h"
#include "cli/sql_shell.h"

namespace sl::cli {
namespace {

// "1,234,567"
std::string with_commas(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return n < 0 ? "-" + s : s;
}

std::string human_bytes(int64_t b) {
  char buf[32];
  if (b < 1024) std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
  else if (b < (1 << 20)) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else if (b < (1LL << 30)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
  else std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
  return buf;
}

int64_t to_i64(const std::string& s) { return s.empty() ? 0 : std::strtoll(s.c_str(), nullptr, 10); }

// Sums column `col` of `rows` (where name matches `only`, if given).
int64_t sum_column(const SqlRows& r, const std::string& col, const std::string& only = "") {
  int c = r.column(col), n = r.column("name");
  int64_t total = 0;
  if (c < 0) return 0;
  for (auto& row : r.rows)
    if (only.empty() || (n >= 0 && row[static_cast<size_t>(n)] == only)) total += to_i64(row[static_cast<size_t>(c)]);
  return total;
}

// Creates the demo notebook unless one of that name exists (a second run keeps the user's
// edits). Returns its id, or "" after printing why not.
std::string ensure_notebook(const DemoOptions& o) {
  auto client = SqlClient::connect(o.endpoint, o.data_dir + "/credentials");
  if (!client.ok()) return "";
  auto call = [&](const std::string& method, const std::string& path, std::string body) {
    return (*client)->call(method, path, std::move(body));
  };
  auto wanted = nlohmann::json::parse(kDemoNotebookJson);
  const std::string name = wanted.value("name", std::string());
  auto list = call("GET", "/v1/notebooks", "");
  if (list.ok() && list->status == 200) {
    auto doc = nlohmann::json::parse(list->body, nullptr, false);
    if (doc.is_object() && doc.contains("notebooks"))
      for (auto& nb : doc["notebooks"])
        if (nb.value("name", std::string()) == name) return nb.value("id", std::string());
  }
  auto made = call("POST", "/v1/notebooks", wanted.dump());
  if (!made.ok() || made->status != 201) {
    std::fprintf(stderr, "streamlake demo: could not create the demo notebook: %s\n",
                 made.ok() ? made->body.c_str() : made.status().message().c_str());
    return "";
  }
  auto doc = nlohmann::json::parse(made->body, nullptr, false);
  return doc.is_object() ? doc.value("id", std::string()) : "";
}

void print_banner(const DemoOptions& o, const std::string& notebook_id) {
  std::string creds = std::filesystem::absolute(o.data_dir + "/credentials").lexically_normal().string();
  std::string aws_config = std::filesystem::absolute(o.data_dir + "/aws-config").lexically_normal().string();
  std::string ak = "$(awk '/aws_access_key_id/{print $3}' " + creds + ")";
  std::string sk = "$(awk '/aws_secret_access_key/{print $3}' " + creds + ")";
  std::string notebook =
      o.sign_in_url.empty()
          ? o.endpoint + "/   sign in as user 'admin' with the aws_secret_access_key of " + creds
          : o.sign_in_url + "\n            (one-time sign-in link; afterwards sign in as 'admin' with the "
                            "aws_secret_access_key of " + creds + ")";
  if (!notebook_id.empty()) notebook += "\n            the notebook \"AWS solution — real-time sales\" is ready there";
  std::printf(
      "\n"
      "streamlake demo: the AWS solution's pipeline is running — Kinesis stream 'sales' → stream table "
      "'records' → views 'products' (price 40–50) and 'sales_per_minute'.\n"
      "\n"
      "  Notebook  %s\n"
      "  Kinesis   export AWS_SHARED_CREDENTIALS_FILE=%s AWS_CONFIG_FILE=%s AWS_DEFAULT_REGION=us-east-1\n"
      "            aws --endpoint-url %s kinesis put-record --stream-name sales --partition-key 98101 \\\n"
      "                --data \"98101,product7,45,$(date -u '+%%F %%T')\"\n"
      "  psql      PGPASSWORD=%s psql -h 127.0.0.1 -p %u -U %s -d streamlake \\\n"
      "                -c 'SELECT * FROM products ORDER BY ts DESC LIMIT 10'\n"
      "  curl      curl -u %s:%s %s/v1/sql -d 'SELECT count(*) FROM records'\n"
      "\n"
      "Producing %.0f records/s (zipcode,productN,price,timestamp); Ctrl-C stops, `make demo` again continues.\n\n",
      notebook.c_str(), creds.c_str(), aws_config.c_str(), o.endpoint.c_str(), sk.c_str(), o.pg_port, ak.c_str(),
      ak.c_str(), sk.c_str(), o.endpoint.c_str(), o.rate);
  std::fflush(stdout);
}

// One status line from SHOW STREAMS / SHOW VIEWS / SHOW SINKS.
void print_status(SqlClient& sql) {
  SqlRows streams = sql.query("SHOW STREAMS");
  SqlRows views = sql.query("SHOW VIEWS");
  if (!streams.ok() || !views.ok()) {
    std::printf("streamlake demo: status unavailable: %s\n", (!streams.ok() ? streams : views).error.c_str());
    std::fflush(stdout);
    return;
  }
  std::string line = "streamlake demo: " + with_commas(sum_column(streams, "records_in", "records")) +
                     " records in; lag " + with_commas(sum_column(streams, "lag_ms", "records")) + " ms; views:";
  int name = views.column("name"), rows = views.column("rows");
  for (auto& r : views.rows)
    if (name >= 0 && rows >= 0 && !r[static_cast<size_t>(rows)].empty())
      line += " " + r[static_cast<size_t>(name)] + " " + with_commas(to_i64(r[static_cast<size_t>(rows)])) + " rows";
  SqlRows sinks = sql.query("SHOW SINKS");
  if (sinks.ok() && !sinks.rows.empty())
    line += "; lake: " + with_commas(sum_column(sinks, "files")) + " files, " + human_bytes(sum_column(sinks, "bytes"));
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

const char* demo_pipeline_sql() { return kDemoPipelineSql; }
const char* demo_notebook_json() { return kDemoNotebookJson; }

void run_demo(const DemoOptions& o, const volatile bool* stop) {
  ProduceOptions po;
  po.endpoint = o.endpoint;
  po.stream = "sales";
  po.rate = o.rate;
  po.credentials_file = o.data_dir + "/credentials";
  po.quiet = true;
  if (!ensure_stream(po, o.shards)) return;

  SqlShellOptions so;
  so.endpoint = o.endpoint;
  so.credentials_file = po.credentials_file;
  so.command = kDemoPipelineSql;
  so.format = "table";
  std::printf("streamlake demo: setting up the pipeline (examples/aws_solution.sql)\n");
  std::fflush(stdout);
  if (run_sql_shell(so) != 0)
    std::fprintf(stderr, "streamlake demo: the pipeline's SQL failed (see above); producing anyway\n");
  std::string notebook_id = ensure_notebook(o);
  print_banner(o, notebook_id);
  std::printf("streamlake demo: producing %.0f records/s of zipcode,productN,price,timestamp into stream 'sales'\n",
              o.rate);
  std::fflush(stdout);

  std::thread status;
  if (o.status_interval_s > 0)
    status = std::thread([&o, stop] {
      auto client = SqlClient::connect(o.endpoint, o.data_dir + "/credentials");
      if (!client.ok()) return;
      auto next = std::chrono::steady_clock::now();
      while (!*stop) {
        next += std::chrono::seconds(o.status_interval_s);
        while (!*stop && std::chrono::steady_clock::now() < next)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (*stop) break;
        print_status(**client);
      }
    });
  int rc = run_produce(po, stop);
  if (rc != 0 && !*stop) std::fprintf(stderr, "streamlake demo: producer stopped (%d)\n", rc);
  if (status.joinable()) status.join();
}

}  // namespace sl::cli
