// The SQL engine's public API: what the HTTP API (POST /v1/sql), the `streamlake sql`
// shell and the PostgreSQL wire protocol call.
//
// Lifecycle: one Engine per data directory (Engine::open), shared by the whole process;
// any number of Sessions (one per connection / request), each used by one thread at a
// time. Session::cancel() and the session's CancelToken may be tripped from any thread.
// A QueryResult is pulled batch by batch (next()) by the thread that owns its Session;
// it must not outlive the Engine.
//
// Errors: everything a user can cause is thrown as exec::SqlError (a sl::UserError) with
// a SQLSTATE and the 0-based byte position in the query text (-1 when unknown). Anything
// else thrown is a bug (sl::InternalError, SQLSTATE XX000).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/context.h"
#include "exec/error.h"
#include "exec/types.h"
#include "exec/value.h"
#include "exec/vector.h"

namespace sl::catalog { class Catalog; struct ColumnDef; }

namespace sl::sql {

using exec::DataChunk;
using exec::LogicalType;
using exec::SqlError;
using exec::sqlstate_of;
using exec::TypeId;
using exec::Vector;

// Per-session settings (also settable with SET name = value / SHOW name).
struct SessionOptions {
  std::string user = "streamlake";
  int64_t memory_limit_bytes = int64_t{1} << 30;  // per query; SET memory_limit = '512MB'
  int64_t timeout_ms = 0;                         // 0 = none; SET statement_timeout = 1000
  size_t batch_size = exec::kVectorSize;          // rows per result batch, <= kVectorSize
  // Worker threads per query (morsel-driven parallelism); SET threads = 2. Default: the
  // machine's cores (exec::default_threads()).
  int threads = exec::default_threads();
};

// A flag another thread trips to stop a running query (pgwire CancelRequest, Ctrl-C).
class CancelToken {
 public:
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  void reset() { cancelled_.store(false, std::memory_order_relaxed); }
  const std::atomic<bool>* flag() const { return &cancelled_; }

 private:
  std::atomic<bool> cancelled_{false};
};

enum class StatementKind {
  kSelect,       // rows; tag "SELECT n"
  kInsert,       // tag "INSERT 0 n"
  kCopy,         // tag "COPY n"
  kCreateTable,  // "CREATE TABLE"
  kCreateView,   // "CREATE VIEW"
  kDrop,         // "DROP TABLE" / "DROP VIEW"
  kShow,         // rows; tag "SHOW"
  kExplain,      // rows; tag "EXPLAIN"
  kSet,          // "SET", "RESET", and BEGIN/COMMIT/ROLLBACK (accepted as no-ops)
  kEmpty,        // empty query string
};

struct ResultColumn {
  std::string name;
  LogicalType type;
};

// The outcome of one statement: a schema and a pull-based stream of columnar batches.
class QueryResult {
 public:
  class Impl;
  explicit QueryResult(std::unique_ptr<Impl> impl);
  QueryResult(QueryResult&&) noexcept;
  QueryResult& operator=(QueryResult&&) noexcept;
  ~QueryResult();

  StatementKind kind() const;
  // Columns of the rows (empty for statements without rows, e.g. INSERT).
  const std::vector<ResultColumn>& columns() const;
  // The next batch of rows, or nullptr at the end. The pointer is valid until the next
  // call. Throws SqlError (errors, cancellation, timeout, memory limit).
  const DataChunk* next();
  // Rows returned so far (SELECT) or rows affected (INSERT/COPY).
  int64_t row_count() const;
  // PostgreSQL command tag: "SELECT 3", "INSERT 0 5", "CREATE TABLE", ... For row-returning
  // statements the count is final once next() returned nullptr.
  std::string command_tag() const;

 private:
  std::unique_ptr<Impl> impl_;
};

// A parsed statement with `$n` parameters (the wire protocol's Parse/Bind/Execute).
class PreparedStatement {
 public:
  class Impl;
  explicit PreparedStatement(std::shared_ptr<Impl> impl);
  ~PreparedStatement();
  PreparedStatement(const PreparedStatement&);
  PreparedStatement& operator=(const PreparedStatement&);

  StatementKind kind() const;
  // Types inferred for $1..$n (kVarchar when nothing constrains a parameter).
  const std::vector<LogicalType>& parameter_types() const;
  // Columns the statement returns (empty if none).
  const std::vector<ResultColumn>& columns() const;
  const std::string& sql() const;
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// A parameter value as the wire protocol delivers it.
struct ParamValue {
  std::optional<std::string> bytes;  // nullopt = SQL NULL
  bool binary = false;               // PostgreSQL binary format (else text)
  static ParamValue null() { return {}; }
  static ParamValue text(std::string s) { return {std::move(s), false}; }
};

class Engine;

// The statements the streaming runtime owns (stream::Runtime registers itself with
// Engine::set_stream_hook). Called on the session's thread while a statement runs; throws
// SqlError / sl::UserError like any statement. Without a hook these statements fail with
// 0A000 (feature not supported).
class StreamHook {
 public:
  virtual ~StreamHook() = default;
  // CREATE TABLE name (...) WITH (connector = ..., ...)
  virtual void create_stream_table(const std::string& name, const std::vector<catalog::ColumnDef>& columns,
                                   const std::map<std::string, std::string>& options, bool if_not_exists) = 0;
  // CREATE MATERIALIZED VIEW name [WITH (...)] AS <select_sql>
  virtual void create_materialized_view(const std::string& name, const std::string& select_sql,
                                        const std::map<std::string, std::string>& options, bool if_not_exists) = 0;
  // DROP TABLE of a stream table / DROP MATERIALIZED VIEW. False if absent and if_exists.
  virtual bool drop(const std::string& name, bool if_exists) = 0;
  // CREATE SINK name FROM relation [WITH (...)] (not PostgreSQL grammar: recognised
  // before libpg_query, see sink_sql.cc).
  virtual void create_sink(const std::string& name, const std::string& from,
                           const std::map<std::string, std::string>& options, bool if_not_exists) {
    (void)name, (void)from, (void)options, (void)if_not_exists;
    throw SqlError(exec::sqlstate::kFeatureNotSupported, "CREATE SINK needs the streaming runtime");
  }
  // DROP SINK [IF EXISTS] name [PURGE]: false if absent and if_exists. Without `purge`
  // the sink's files stay; with it they are deleted.
  virtual bool drop_sink(const std::string& name, bool if_exists, bool purge) {
    (void)name, (void)if_exists, (void)purge;
    throw SqlError(exec::sqlstate::kFeatureNotSupported, "DROP SINK needs the streaming runtime");
  }
  // SHOW <what> ("streams", "views", "sinks"): false if the hook does not answer it.
  virtual bool show(const std::string& what, std::vector<ResultColumn>* columns,
                    std::vector<std::vector<exec::Value>>* rows) = 0;
};

class Session {
 public:
  ~Session();
  // Parses, plans and starts one statement. `sql` must hold exactly one statement (or
  // none: kEmpty). Throws SqlError.
  QueryResult execute(std::string_view sql);
  // Runs every ';'-separated statement, in order, and returns all their results. DDL and
  // INSERT/COPY take effect before the next statement starts; a SELECT's result reads the
  // tables as they were when it ran and is pulled lazily. Error positions are relative to
  // the whole script.
  std::vector<QueryResult> execute_script(std::string_view sql);

  PreparedStatement prepare(std::string_view sql);
  // Binds `params` (one per parameter_types()) and starts the statement.
  QueryResult execute(const PreparedStatement& stmt, const std::vector<ParamValue>& params);

  // Trips the cancel token of the statement running in this session (any thread).
  void cancel();
  std::shared_ptr<CancelToken> cancel_token() const { return cancel_; }

  SessionOptions& options() { return options_; }
  const SessionOptions& options() const { return options_; }
  Engine& engine() { return *engine_; }
  // Settings stored by SET for names the engine does not interpret (application_name, ...).
  std::map<std::string, std::string>& settings() { return settings_; }

 private:
  friend class Engine;
  Session(Engine* engine, SessionOptions options);
  Engine* engine_;
  SessionOptions options_;
  std::shared_ptr<CancelToken> cancel_;
  std::map<std::string, std::string> settings_;
};

// The SQL engine over one data directory. Thread-safe: sessions on different threads
// share it; catalog changes are serialized inside the catalog.
class Engine {
 public:
  // Opens (creating if needed) the catalog and tables under `data_dir`. Throws sl::Error
  // on I/O failure or corrupt files.
  static std::unique_ptr<Engine> open(const std::string& data_dir);
  ~Engine();

  std::unique_ptr<Session> session(SessionOptions options = {});
  catalog::Catalog& catalog() { return *catalog_; }

  // The streaming runtime's statements (nullptr to unregister). Any thread.
  void set_stream_hook(std::shared_ptr<StreamHook> hook) {
    std::lock_guard lk(hook_mu_);
    hook_ = std::move(hook);
  }
  std::shared_ptr<StreamHook> stream_hook() const {
    std::lock_guard lk(hook_mu_);
    return hook_;
  }

 private:
  Engine() = default;
  std::unique_ptr<catalog::Catalog> catalog_;
  mutable std::mutex hook_mu_;
  std::shared_ptr<StreamHook> hook_;
};

// --- Rendering values -------------------------------------------------------------

// PostgreSQL text format of v[row] (caller checks v.is_null(row) first).
std::string to_pg_text(const Vector& v, size_t row);
void append_pg_text(const Vector& v, size_t row, std::string& out);
// PostgreSQL binary format (the bytes of a DataRow field, without the length prefix).
// Supported for every type except interval-less corner cases; returns false if not.
bool append_pg_binary(const Vector& v, size_t row, std::string& out);
// JSON: numbers as numbers (numeric as a JSON number with its scale), booleans, strings
// quoted and escaped, bytea as "\x..", NULL as null.
void append_json(const Vector& v, size_t row, std::string& out);

}  // namespace sl::sql
