// The streaming runtime: definitions (catalog), the pipeline thread, checkpoints.
#include "stream/runtime.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "catalog/catalog.h"
#include "exec/error.h"
#include "exec/value.h"
#include "log/log.h"
#include "sql/engine.h"
#include "stream/agg.h"
#include "stream/internal.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/thread_pool.h"

namespace sl::stream {

namespace fs = std::filesystem;

namespace {
constexpr char kMagic[8] = {'S', 'L', 'S', 'T', 'C', 'K', 'P', 'T'};
constexpr uint32_t kCheckpointVersion = 3;  // 2: view and errors rows in state files; 3: sinks

// Shared with the log's durable listener, which may outlive the Runtime.
struct Wake {
  std::mutex mu;
  std::condition_variable cv;
  bool pending = false;
  void notify() {
    {
      std::lock_guard lk(mu);
      pending = true;
    }
    cv.notify_one();
  }
};
}  // namespace

// The SQL engine's entry for streaming statements. Holds the Runtime weakly: statements
// running while the Runtime goes away fail cleanly instead of touching freed memory.
class RuntimeHook final : public sql::StreamHook {
 public:
  RuntimeHook(Runtime* rt, sql::Engine* engine) : rt_(rt), engine_(engine) {}
  void detach() {
    std::lock_guard lk(mu_);
    rt_ = nullptr;
  }
  void create_stream_table(const std::string& name, const std::vector<catalog::ColumnDef>& columns,
                           const std::map<std::string, std::string>& options, bool if_not_exists) override {
    std::lock_guard lk(mu_);
    runtime().create_stream_table(name, columns, options, if_not_exists);
  }
  void create_materialized_view(const std::string& name, const std::string& select_sql,
                                const std::map<std::string, std::string>& options, bool if_not_exists) override {
    std::lock_guard lk(mu_);
    runtime().create_view(name, select_sql, options, if_not_exists);
  }
  bool drop(const std::string& name, bool if_exists) override {
    std::lock_guard lk(mu_);
    return runtime().drop(name, if_exists);
  }
  void create_sink(const std::string& name, const std::string& from, const std::map<std::string, std::string>& options,
                   bool if_not_exists) override {
    std::lock_guard lk(mu_);
    runtime().create_sink(name, from, options, if_not_exists);
  }
  bool drop_sink(const std::string& name, bool if_exists, bool purge) override {
    std::lock_guard lk(mu_);
    return runtime().drop_sink(name, if_exists, purge);
  }
  bool show(const std::string& what, std::vector<sql::ResultColumn>* columns,
            std::vector<std::vector<exec::Value>>* rows) override;

 private:
  Runtime& runtime() {
    if (!rt_) throw exec::SqlError(exec::sqlstate::kFeatureNotSupported, "the streaming runtime has stopped");
    return *rt_;
  }
  std::mutex mu_;
  Runtime* rt_;
  sql::Engine* engine_;
};

struct Runtime::Impl {
  sql::Engine* engine;
  kinesis::Service* kinesis;
  log::LogStore* log;
  std::string dir;
  Clock* clock;
  RuntimeOptions opts;

  std::unique_ptr<ThreadPool> pool;  // decoding
  std::unique_ptr<catalog::Catalog> plan_cat;
  mutable std::mutex mu;
  std::map<std::string, std::unique_ptr<Source>> sources;
  std::map<std::string, std::unique_ptr<View>> views;
  std::unique_ptr<SinkSet> sinks;
  std::map<std::string, std::string> sink_records;  // of the checkpoint loaded at open()
  uint64_t epoch = 0;
  CheckpointStats last_checkpoint;
  bool opened = false;

  std::shared_ptr<Wake> wake = std::make_shared<Wake>();
  std::shared_ptr<RuntimeHook> hook;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::condition_variable epoch_cv;  // with mu
  bool started = false;

  catalog::Catalog& cat() { return engine->catalog(); }
  std::string checkpoint_path() const { return dir + "/checkpoint"; }

  bool is_stream(const std::string& n) const { return sources.count(n) > 0; }

  void register_plan_relation(const std::string& name, std::vector<catalog::ColumnDef> cols) {
    plan_cat->drop(name, catalog::TableKind::kStream, true);
    struct Empty final : catalog::TableProvider {
      std::vector<std::shared_ptr<const DataChunk>> snapshot() const override { return {}; }
      int64_t row_count() const override { return 0; }
    };
    plan_cat->create_provided(name, catalog::TableKind::kStream, std::move(cols), "", {}, std::make_shared<Empty>());
  }

  // Mirrors regular tables and plain views into the planning catalog (lookup joins).
  void sync_tables() {
    for (auto& e : cat().list()) {
      if (e->kind != catalog::TableKind::kTable && e->kind != catalog::TableKind::kView) continue;
      if (sources.count(e->name)) continue;
      auto old = plan_cat->find(e->name);
      if (old) plan_cat->drop(e->name, old->kind, true);
      if (e->kind == catalog::TableKind::kTable) {
        if (e->provider) plan_cat->create_provided(e->name, catalog::TableKind::kTable, e->columns, "", {}, e->provider);
      } else {
        plan_cat->create_view(e->name, e->columns, e->sql, true);
      }
    }
  }

  std::unique_ptr<Source> make_source(const std::string& name, const std::vector<catalog::ColumnDef>& cols,
                                      const std::map<std::string, std::string>& options) {
    SourceOptions so = parse_source_options(options, cols, opts.idle_timeout_ms);
    auto s = std::make_unique<Source>(name, cols, so, kinesis, log, clock, pool.get());
    s->errors()->attach_journal(state_dir(), RowStore::file_base("errors", name));
    register_plan_relation(name, cols);
    return s;
  }

  std::unique_ptr<View> make_view(const std::string& name, const std::string& select_sql,
                                  const std::map<std::string, std::string>& options) {
    RewrittenQuery q = rewrite_view_query(select_sql, name, [this](const std::string& n) { return is_stream(n); });
    if (q.window.kind != WindowKind::kNone) {
      Source& src = *sources.at(q.window.table);
      const auto& cols = src.columns();
      auto it = std::find_if(cols.begin(), cols.end(), [&](auto& c) { return c.name == q.window.column; });
      if (it == cols.end()) throw UserError("column \"" + q.window.column + "\" does not exist in \"" + q.window.table + "\"");
      if (it->type.id != exec::TypeId::kTimestamp && it->type.id != exec::TypeId::kTimestampTz)
        throw UserError("window column \"" + q.window.column + "\" must be a timestamp");
      q.window.column_index = static_cast<size_t>(it - cols.begin());
      q.window.time_type = it->type;
      auto wcols = cols;
      wcols.push_back({"window_start", it->type});
      wcols.push_back({"window_end", it->type});
      register_plan_relation(q.relation, wcols);
    }
    sync_tables();
    auto v = std::make_unique<View>(name, select_sql, options);
    v->compile(*plan_cat, q, sources);
    v->on_output = [this, name](const DataChunk& c) { sinks->feed(name, c); };
    v->contents()->attach_journal(state_dir(), RowStore::file_base("view", name));
    return v;
  }

  // Where a relation's input stands: {"table": {"shard": next offset, ...}, ...} (the
  // opaque source positions a lake commit records).
  std::string positions_of(const std::string& relation) const {
    std::vector<std::string> tables;
    if (sources.count(relation)) tables.push_back(relation);
    else if (views.count(relation)) tables = views.at(relation)->sources();
    std::string out = "{";
    for (auto& t : tables) {
      StreamStatus st;
      sources.at(t)->fill_status(st);
      out += (out.size() > 1 ? ", \"" : "\"") + t + "\": {";
      for (size_t i = 0; i < st.shards.size(); i++)
        out += (i ? ", \"" : "\"") + st.shards[i].shard_id + "\": " + std::to_string(st.shards[i].position);
      out += "}";
    }
    return out + "}";
  }

  // A new sink (or one created just before a crash, missing from the checkpoint) first
  // receives what its relation holds: a stream table's records from where the table
  // began up to the source's positions, a view's current rows.
  void backfill_sink_locked(const std::string& sink, const std::string& from) {
    if (sources.count(from)) {
      Source& live = *sources.at(from);
      if (!live.progressed()) return;
      auto bf = live.backfill_reader();
      for (int guard = 0; guard < 10000000 && !bf->reached_stop(); guard++) {
        std::vector<DataChunk> chunks;
        size_t n = bf->poll(opts.max_records_per_shard, chunks);
        bf->advance_watermark();
        for (auto& c : chunks) sinks->feed_one(sink, c);
        if (n == 0 && !bf->has_more()) break;
      }
    } else if (views.count(from)) {
      for (auto& c : views.at(from)->contents()->snapshot()) sinks->feed_one(sink, *c);
    }
  }

  SinkSet::Relation sink_relation(const std::string& from) const {
    SinkSet::Relation r;
    r.name = from;
    if (sources.count(from)) {
      r.columns = sources.at(from)->columns();
      r.default_time = sources.at(from)->options().event_time;
    } else {
      auto& v = *views.at(from);
      r.columns = v.columns();
      r.changelog = v.changelog();
      if (!v.sources().empty()) r.default_time = sources.at(v.sources().front())->options().event_time;
    }
    return r;
  }

  void checkpoint_locked() {
    const int64_t started_ns = mono_nanos();
    // Phase 1 of the sinks' commit: their output durable, their pending commits here.
    sinks->prepare(epoch, [this](const std::string& rel) { return positions_of(rel); });
    Writer w;
    w.raw(kMagic, 8);
    w.u32(kCheckpointVersion);
    w.u64(epoch);
    w.u64(sources.size());
    for (auto& [n, s] : sources) {
      Writer sub;
      s->save(sub);
      w.str(n);
      w.str(sub.buf());
    }
    w.u64(views.size());
    for (auto& [n, v] : views) {
      Writer sub;
      v->save(sub);
      w.str(n);
      w.str(sub.buf());
    }
    sinks->save(w);
    uint32_t crc = crc32c(w.buf());
    w.u32(crc);
    write_file_atomic(checkpoint_path(), w.buf());
    for (auto& [n, s] : sources) s->errors()->committed();
    for (auto& [n, v] : views) v->contents()->committed();
    // Phase 2: the checkpoint naming the pending commits is durable; publish them.
    sinks->committed();
    last_checkpoint.at_ms = clock->now_ms();
    last_checkpoint.duration_ms = (mono_nanos() - started_ns) / 1000000;
    last_checkpoint.count++;
  }

  std::string state_dir() const { return dir + "/state"; }

  // Deletes state files no store refers to (left by a crash between a new generation and
  // the checkpoint naming it, or by a DROP cut short).
  void remove_unreferenced_state() {
    std::set<std::string> keep;
    for (auto& [n, s] : sources) keep.insert(s->errors()->journal_file());
    for (auto& [n, v] : views) keep.insert(v->contents()->journal_file());
    std::error_code ec;
    for (auto& e : fs::directory_iterator(state_dir(), ec))
      if (!keep.count(e.path().string())) fs::remove(e.path(), ec);
  }

  // Returns the stream tables and views that had state in the checkpoint.
  std::set<std::string> load_checkpoint() {
    std::set<std::string> loaded;
    std::ifstream f(checkpoint_path(), std::ios::binary);
    if (!f) return loaded;
    std::stringstream ss;
    ss << f.rdbuf();
    std::string bytes = ss.str();
    if (bytes.size() < 8 + 4 + 4 || std::memcmp(bytes.data(), kMagic, 8) != 0)
      throw Error(Errc::kCorruption, "checkpoint " + checkpoint_path() + ": bad magic");
    uint32_t crc;
    std::memcpy(&crc, bytes.data() + bytes.size() - 4, 4);
    if (crc32c(bytes.data(), bytes.size() - 4) != crc)
      throw Error(Errc::kCorruption, "checkpoint " + checkpoint_path() + ": checksum mismatch");
    Reader r(std::string_view(bytes).substr(8, bytes.size() - 12));
    uint32_t version = r.u32();
    if (version != 1 && version != kCheckpointVersion)
      throw Error(Errc::kCorruption, "checkpoint " + checkpoint_path() + ": unsupported version " + std::to_string(version));
    epoch = r.u64();
    uint64_t ns = r.u64();
    for (uint64_t i = 0; i < ns; i++) {
      std::string n = r.str(), blob = r.str();
      auto it = sources.find(n);
      if (it == sources.end()) continue;  // dropped since
      Reader sub(blob, version);
      it->second->load(sub);
      loaded.insert(n);
    }
    uint64_t nv = r.u64();
    for (uint64_t i = 0; i < nv; i++) {
      std::string n = r.str(), blob = r.str();
      auto it = views.find(n);
      if (it == views.end()) continue;
      Reader sub(blob, version);
      it->second->load(sub);
      loaded.insert(n);
    }
    if (version >= 3) sink_records = SinkSet::load(r);
    return loaded;
  }

  size_t run_once_locked() {
    size_t total = 0;
    std::map<std::string, int64_t> wms;
    for (auto& [name, src] : sources) {
      src->refresh();
      // Projection pushdown: decode only what this source's views read (everything when
      // no view reads it: nothing is known about its readers).
      std::vector<uint8_t> read(src->columns().size(), 0);
      bool any_view = false;
      for (auto& [vn, v] : views) {
        if (!v->reads(name)) continue;
        any_view = true;
        const auto& r = v->source_columns_read();
        if (r.empty()) std::fill(read.begin(), read.end(), 1);  // a join view: everything
        for (size_t k = 0; k < read.size() && k < r.size(); k++) read[k] |= r[k];
      }
      if (!any_view || !sinks->reader_of(name).empty()) read.clear();  // sinks write every column
      src->set_read_columns(std::move(read));
      // Chunks reach the views as soon as they are decoded (later ones decode meanwhile).
      total += src->poll(opts.max_records_per_shard, [&](DataChunk& c) {
        sinks->feed(name, c);
        for (auto& [vn, v] : views) {
          if (!v->reads(name) || !v->failed.empty()) continue;
          try {
            v->on_input(name, c);
          } catch (const std::exception& e) {
            v->failed = e.what();
          }
        }
      });
      wms[name] = src->advance_watermark();
    }
    // Watermarks after every source's rows: a view's is the minimum over its sources.
    for (auto& [vn, v] : views) {
      if (!v->failed.empty()) continue;
      try {
        v->on_watermarks(wms);
      } catch (const std::exception& e) {
        v->failed = e.what();
      }
    }
    if (total) {
      epoch++;
      epoch_cv.notify_all();
    }
    return total;
  }

  // A view created after its source read records first reads them through a backfill
  // reader (from the table's start up to the source's positions), so it holds what it
  // would hold had it existed from the start. Runs under the pipeline's mutex.
  void backfill_locked(View& v) {
    std::map<std::string, std::unique_ptr<Source>> readers;
    std::map<std::string, int64_t> wms;
    for (auto& name : v.sources()) {
      Source& live = *sources.at(name);
      wms[name] = live.watermark();
      if (live.progressed() && !readers.count(name)) {
        readers[name] = live.backfill_reader();
        wms[name] = INT64_MIN;
      }
    }
    if (readers.empty()) return;
    for (int guard = 0; guard < 10000000; guard++) {
      bool done = true, more = false;
      size_t n = 0;
      for (auto& [name, bf] : readers) {
        if (bf->reached_stop()) continue;
        done = false;
        std::vector<DataChunk> chunks;
        n += bf->poll(opts.max_records_per_shard, chunks);
        more = more || bf->has_more();
        wms[name] = bf->advance_watermark();
        for (auto& c : chunks) v.on_input(name, c);
      }
      if (done) break;
      v.on_watermarks(wms);
      if (n == 0 && !more) break;
    }
    for (auto& name : v.sources()) wms[name] = sources.at(name)->watermark();
    v.on_watermarks(wms);
  }

  bool any_more() const {
    for (auto& [n, s] : sources)
      if (s->has_more()) return true;
    return false;
  }

  void loop() {
    int64_t last_ckpt = mono_nanos();
    while (!stopping.load()) {
      try {
        std::lock_guard lk(mu);
        size_t rounds = 0;
        do {
          run_once_locked();
        } while (any_more() && ++rounds < 1000 && !stopping.load());
        int64_t now = mono_nanos();
        if (opts.checkpoint_interval_ms > 0 && now - last_ckpt >= opts.checkpoint_interval_ms * 1000000) {
          checkpoint_locked();
          last_ckpt = now;
        }
      } catch (const std::exception&) {
        // I/O errors writing a checkpoint: retried at the next interval.
      }
      std::unique_lock lk(wake->mu);
      int64_t wait_ms = opts.checkpoint_interval_ms > 0 ? std::min<int64_t>(opts.checkpoint_interval_ms, 250) : 250;
      wake->cv.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return wake->pending || stopping.load(); });
      wake->pending = false;
    }
  }
};

Runtime::Runtime(sql::Engine* engine, kinesis::Service* kinesis, log::LogStore* log, std::string data_dir,
                 Clock* clock, RuntimeOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->engine = engine;
  impl_->kinesis = kinesis;
  impl_->log = log;
  impl_->dir = data_dir + "/stream";
  impl_->clock = clock;
  impl_->opts = options;
  impl_->sinks = std::make_unique<SinkSet>(data_dir, clock, options.lake_s3);
  if (options.decode_threads > 1) impl_->pool = std::make_unique<ThreadPool>(options.decode_threads);
}

Runtime::~Runtime() {
  if (impl_->hook) {
    if (impl_->engine->stream_hook() == impl_->hook) impl_->engine->set_stream_hook(nullptr);
    impl_->hook->detach();  // waits for a statement inside the hook
  }
  try {
    stop(impl_->started);
  } catch (...) {
  }
}

void Runtime::open() {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  fs::create_directories(I.dir);
  fs::remove_all(I.dir + "/plan");
  I.plan_cat = catalog::Catalog::open(I.dir + "/plan");
  auto entries = I.cat().list();
  for (auto& e : entries) {
    if (e->kind != catalog::TableKind::kStream || !e->options.count("connector")) continue;
    auto s = I.make_source(e->name, e->columns, e->options);
    I.cat().attach_provider(e->name, s->retained());
    if (I.cat().find(e->name + "_errors")) I.cat().attach_provider(e->name + "_errors", s->errors());
    s->refresh();
    I.sources[e->name] = std::move(s);
  }
  for (auto& e : entries) {
    if (e->kind != catalog::TableKind::kMaterializedView) continue;
    std::map<std::string, std::string> opts = e->options;
    auto v = I.make_view(e->name, e->sql, opts);
    I.cat().attach_provider(e->name, v->contents());
    I.views[e->name] = std::move(v);
  }
  for (auto& e : entries) {
    if (e->kind != catalog::TableKind::kSink) continue;
    std::string from = e->sql;
    if (!I.sources.count(from) && !I.views.count(from)) continue;  // cannot happen: drops are refused
    try {
      I.sinks->add(e->name, I.sink_relation(from), e->options);
      I.cat().attach_provider(e->name, I.sinks->provider(e->name));
    } catch (const std::exception& ex) {
      I.sinks->add_failed(e->name, from, ex.what());
    }
  }
  auto loaded = I.load_checkpoint();
  // Sinks first (before anything writes to them): publish the checkpoint's pending
  // commits, delete what no commit references.
  auto fresh_sinks = I.sinks->recover(I.sink_records);
  I.sink_records.clear();
  // Created just before a crash, before their first checkpoint:
  for (auto& [n, s] : I.sources)
    if (!loaded.count(n) && s->options().start_latest) s->position_at_latest();
  I.sinks->pause(true);  // a view's backfill is not new output (a fresh sink backfills below)
  for (auto& [n, v] : I.views) {
    if (loaded.count(n)) continue;
    v->start_fresh();
    try {
      I.backfill_locked(*v);
    } catch (const std::exception& e) {
      v->failed = e.what();
    }
  }
  I.sinks->pause(false);
  for (auto& n : fresh_sinks) I.backfill_sink_locked(n, I.cat().find(n)->sql);
  I.remove_unreferenced_state();
  I.opened = true;
  I.hook = std::make_shared<RuntimeHook>(this, I.engine);
  I.engine->set_stream_hook(I.hook);
}

void Runtime::start() {
  auto& I = *impl_;
  if (I.started) return;
  if (!I.opened) open();
  std::weak_ptr<Wake> w = I.wake;
  I.log->set_durable_listener([w] {
    if (auto s = w.lock()) s->notify();
  });
  I.stopping = false;
  I.thread = std::thread([&I] { I.loop(); });
  I.started = true;
}

void Runtime::stop(bool final_checkpoint) {
  auto& I = *impl_;
  if (I.started) {
    I.stopping = true;
    I.wake->notify();
    if (I.thread.joinable()) I.thread.join();
    I.started = false;
  }
  if (final_checkpoint && I.opened) checkpoint();
}

size_t Runtime::run_once() {
  std::lock_guard lk(impl_->mu);
  return impl_->run_once_locked();
}

size_t Runtime::run_until_idle() {
  std::lock_guard lk(impl_->mu);
  size_t total = 0;
  for (int i = 0; i < 100000; i++) {
    total += impl_->run_once_locked();
    if (!impl_->any_more()) break;
  }
  return total;
}

void Runtime::checkpoint() {
  std::lock_guard lk(impl_->mu);
  impl_->checkpoint_locked();
}

bool Runtime::wait_for_epoch(uint64_t after, int64_t timeout_ms) {
  std::unique_lock lk(impl_->mu);
  return impl_->epoch_cv.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return impl_->epoch > after; });
}

uint64_t Runtime::epoch() const {
  std::lock_guard lk(impl_->mu);
  return impl_->epoch;
}

void Runtime::create_stream_table(const std::string& name, const std::vector<catalog::ColumnDef>& columns,
                                  const std::map<std::string, std::string>& options, bool if_not_exists) {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  if (I.cat().find(name)) {
    if (if_not_exists) return;
    throw exec::SqlError(exec::sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists", -1, Errc::kAlreadyExists);
  }
  std::string ename = name + "_errors";
  if (I.cat().find(ename))
    throw exec::SqlError(exec::sqlstate::kDuplicateTable, "relation \"" + ename + "\" (the errors table) already exists", -1,
                         Errc::kAlreadyExists);
  auto s = I.make_source(name, columns, options);
  if (s->options().start_latest) s->position_at_latest();
  else s->refresh();
  std::vector<LogicalType> et;
  I.cat().create_provided(name, catalog::TableKind::kStream, columns, "", options, s->retained());
  try {
    I.cat().create_provided(ename, catalog::TableKind::kStream, error_table_columns(), "", {{"errors_of", name}}, s->errors());
  } catch (...) {
    I.cat().drop(name, catalog::TableKind::kStream, true);
    throw;
  }
  I.sources[name] = std::move(s);
  I.checkpoint_locked();  // 'latest' positions survive a restart
}

void Runtime::create_view(const std::string& name, const std::string& select_sql,
                          const std::map<std::string, std::string>& options, bool if_not_exists) {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  if (I.cat().find(name)) {
    if (if_not_exists) return;
    throw exec::SqlError(exec::sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists", -1, Errc::kAlreadyExists);
  }
  auto v = I.make_view(name, select_sql, options);
  v->start_fresh();
  I.backfill_locked(*v);
  I.cat().create_provided(name, catalog::TableKind::kMaterializedView, v->columns(), select_sql, options, v->contents());
  I.views[name] = std::move(v);
  I.checkpoint_locked();
}

bool Runtime::drop(const std::string& name, bool if_exists) {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  if (I.views.count(name) || I.sources.count(name)) {
    std::string s = I.sinks->reader_of(name);
    if (!s.empty())
      throw exec::SqlError("2BP01", "cannot drop " + name + " because sink " + s + " depends on it");
  }
  if (I.views.count(name)) {
    I.cat().drop(name, catalog::TableKind::kMaterializedView, true);
    I.plan_cat->drop("__window_" + name, catalog::TableKind::kStream, true);
    auto rows = I.views[name]->contents();
    I.views.erase(name);
    I.checkpoint_locked();
    rows->remove_files();
    return true;
  }
  if (I.sources.count(name)) {
    for (auto& [vn, v] : I.views)
      if (v->reads(name))
        throw exec::SqlError("2BP01", "cannot drop table " + name + " because materialized view " + vn + " depends on it");
    I.cat().drop(name + "_errors", catalog::TableKind::kStream, true);
    I.cat().drop(name, catalog::TableKind::kStream, true);
    I.plan_cat->drop(name, catalog::TableKind::kStream, true);
    auto errors = I.sources[name]->errors();
    I.sources.erase(name);
    I.checkpoint_locked();
    errors->remove_files();
    return true;
  }
  for (auto& [sn, src] : I.sources)
    if (name == sn + "_errors")
      throw exec::SqlError(exec::sqlstate::kWrongObjectType,
                           "\"" + name + "\" is the errors table of \"" + sn + "\"; it goes with DROP TABLE " + sn);
  if (if_exists) return false;
  throw exec::SqlError(exec::sqlstate::kUndefinedTable, "relation \"" + name + "\" does not exist", -1, Errc::kNotFound);
}

bool RuntimeHook::show(const std::string& what, std::vector<sql::ResultColumn>* columns,
                       std::vector<std::vector<exec::Value>>* rows) {
  std::lock_guard lk(mu_);
  using T = exec::TypeId;
  using V = exec::Value;
  auto ts = [](int64_t us) { return us == INT64_MIN ? V::null(T::kTimestampTz) : V::make_int(T::kTimestampTz, us); };
  auto big = [](uint64_t n) { return V::bigint(static_cast<int64_t>(n)); };
  if (what == "streams") {
    *columns = {{"name", T::kVarchar},    {"stream", T::kVarchar},  {"status", T::kVarchar},
                {"watermark", T::kTimestampTz}, {"lag_ms", T::kBigInt}, {"records_in", T::kBigInt},
                {"rows_in", T::kBigInt},  {"errors", T::kBigInt},   {"late", T::kBigInt},
                {"shards", T::kVarchar}};
    for (auto& s : runtime().streams()) {
      std::string shards;
      for (auto& sh : s.shards) {
        if (!shards.empty()) shards += ", ";
        shards += sh.shard_id + " @" + std::to_string(sh.position) +
                  (sh.finished ? " done" : !sh.started ? " waiting" : " lag " + std::to_string(sh.millis_behind_latest) + " ms");
      }
      rows->push_back({V::text(s.name), V::text(s.stream), V::text(s.status), ts(s.watermark_us),
                       V::bigint(s.millis_behind_latest), big(s.records_in), big(s.rows_in), big(s.errors),
                       big(s.late), V::text(shards)});
    }
    return true;
  }
  if (what == "views") {
    *columns = {{"name", T::kVarchar},   {"kind", T::kVarchar},     {"source", T::kVarchar},
                {"status", T::kVarchar}, {"emit", T::kVarchar},     {"watermark", T::kTimestampTz},
                {"rows_in", T::kBigInt}, {"rows_out", T::kBigInt},  {"rows", T::kBigInt},
                {"state_bytes", T::kBigInt}};
    auto& rt = runtime();
    for (auto& v : rt.views())
      rows->push_back({V::text(v.name), V::text("materialized view"), V::text(v.source), V::text(v.status),
                       V::text(v.emit), ts(v.watermark_us), big(v.rows_in), big(v.rows_out), V::bigint(v.rows),
                       V::bigint(v.state_bytes)});
    for (auto& e : engine_->catalog().list())
      if (e->kind == catalog::TableKind::kView)
        rows->push_back({V::text(e->name), V::text("view"), V::null(T::kVarchar), V::null(T::kVarchar),
                         V::null(T::kVarchar), V::null(T::kTimestampTz), V::null(T::kBigInt), V::null(T::kBigInt),
                         V::null(T::kBigInt), V::null(T::kBigInt)});
    return true;
  }
  if (what == "sinks") {
    *columns = {{"name", T::kVarchar},      {"source", T::kVarchar},   {"format", T::kVarchar},
                {"path", T::kVarchar},      {"status", T::kVarchar},   {"rows", T::kBigInt},
                {"files", T::kBigInt},      {"bytes", T::kBigInt},     {"last_commit", T::kTimestampTz},
                {"pending_rows", T::kBigInt}, {"lag_ms", T::kBigInt}};
    for (auto& s : runtime().sinks())
      rows->push_back({V::text(s.name), V::text(s.source), V::text(s.format), V::text(s.path), V::text(s.status),
                       V::bigint(s.rows), V::bigint(s.files), big(s.bytes),
                       s.last_commit_ms ? ts(s.last_commit_ms * 1000) : V::null(T::kTimestampTz),
                       V::bigint(s.pending_rows), V::bigint(s.lag_ms)});
    return true;
  }
  return false;
}

void Runtime::create_sink(const std::string& name, const std::string& from,
                          const std::map<std::string, std::string>& options, bool if_not_exists) {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  if (auto e = I.cat().find(name)) {
    if (if_not_exists && e->kind == catalog::TableKind::kSink) return;
    throw exec::SqlError(exec::sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists", -1, Errc::kAlreadyExists);
  }
  if (!I.sources.count(from) && !I.views.count(from)) {
    auto e = I.cat().find(from);
    if (!e) throw exec::SqlError(exec::sqlstate::kUndefinedTable, "relation \"" + from + "\" does not exist", -1, Errc::kNotFound);
    if (e->options.count("errors_of"))
      throw exec::SqlError(exec::sqlstate::kWrongObjectType, "\"" + from + "\" is an errors table; errors tables cannot be sunk");
    throw exec::SqlError(exec::sqlstate::kWrongObjectType, "\"" + from + "\" is a " + catalog::table_kind_name(e->kind) +
                                                               "; sinks read stream tables and materialized views");
  }
  auto [cols, resolved] = I.sinks->add(name, I.sink_relation(from), options);
  try {
    I.cat().create_provided(name, catalog::TableKind::kSink, cols, from, resolved, I.sinks->provider(name));
  } catch (...) {
    I.sinks->remove(name, false);
    throw;
  }
  I.backfill_sink_locked(name, from);
  I.checkpoint_locked();
}

bool Runtime::drop_sink(const std::string& name, bool if_exists, bool purge) {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  if (!I.sinks->has(name)) {
    if (if_exists) return false;
    if (I.cat().find(name)) throw exec::SqlError(exec::sqlstate::kWrongObjectType, "\"" + name + "\" is not a sink");
    throw exec::SqlError("42704", "sink \"" + name + "\" does not exist", -1, Errc::kNotFound);
  }
  I.cat().drop(name, catalog::TableKind::kSink, true);
  I.sinks->remove(name, purge);
  I.checkpoint_locked();
  return true;
}

std::vector<SinkStatus> Runtime::sinks() const {
  std::lock_guard lk(impl_->mu);
  std::vector<SinkStatus> out;
  impl_->sinks->fill_status(out);
  return out;
}

std::vector<StreamStatus> Runtime::streams() const {
  std::lock_guard lk(impl_->mu);
  std::vector<StreamStatus> out;
  for (auto& [n, s] : impl_->sources) {
    StreamStatus st;
    s->fill_status(st);
    out.push_back(std::move(st));
  }
  return out;
}

CheckpointStats Runtime::last_checkpoint() const {
  std::lock_guard lk(impl_->mu);
  return impl_->last_checkpoint;
}

std::vector<ViewStatus> Runtime::views() const {
  std::lock_guard lk(impl_->mu);
  std::vector<ViewStatus> out;
  for (auto& [n, v] : impl_->views) {
    ViewStatus st;
    v->fill_status(st);
    if (!v->failed.empty()) st.status = "failed: " + v->failed;
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace sl::stream
