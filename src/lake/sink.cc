// LakeSink (see sink.h).
#include "lake/sink.h"

#include <algorithm>

#include "exec/value.h"

namespace sl::lake {

using exec::DataChunk;
using exec::TypeId;

Result<std::unique_ptr<LakeSink>> LakeSink::open(LakeSinkOptions options) {
  if (!options.store) return invalid_argument("lake sink: no object store");
  if (!options.clock) options.clock = &SystemClock::instance();
  std::unique_ptr<LakeSink> s(new LakeSink(std::move(options)));
  auto& o = s->opts_;
  SL_ASSIGN_OR_RETURN(s->pattern_, PartitionPattern::parse(o.settings.partition));
  if (o.settings.time_column != "arrival") {
    const auto& sch = o.settings.schema;
    auto it = std::find_if(sch.begin(), sch.end(), [&](auto& f) { return f.name == o.settings.time_column; });
    if (it == sch.end()) return invalid_argument("time column \"" + o.settings.time_column + "\" is not a column");
    if (!it->type.is_temporal())
      return invalid_argument("time column \"" + o.settings.time_column + "\" must be a timestamp or a date");
    s->time_col_ = static_cast<int>(it - sch.begin());
  }
  if (o.signed_rows && (o.settings.schema.empty() || o.settings.schema.back().name != "op"))
    return invalid_argument("a lake sink of a changelog needs its last column to be \"op\"");
  o.file_options.format = o.settings.format;
  o.compaction.file_options = o.file_options;
  o.compaction.closed_after_us = o.roll_us + 60'000'000;
  SL_ASSIGN_OR_RETURN(auto t, Table::open(o.store, o.prefix, &o.settings));
  s->table_ = std::move(t);
  s->last_epoch_ = s->table_->snapshot()->epoch;
  return s;
}

// Open writers abort (nothing of them becomes visible); closed files not yet committed
// stay as a crash would leave them, for recover() or maintain() to delete.
LakeSink::~LakeSink() { open_.clear(); }

int64_t LakeSink::now_us() const { return opts_.clock->now_ms() * 1000; }

Status LakeSink::write(const DataChunk& in) {
  size_t n = in.size();
  if (n == 0) return Status::OK();
  const auto& schema = opts_.settings.schema;
  size_t data_cols = schema.size() - (opts_.signed_rows ? 1 : 0);
  if (in.column_count() != data_cols)
    return invalid_argument("lake sink: a chunk of " + std::to_string(in.column_count()) + " columns, expected " +
                            std::to_string(data_cols));
  if (!opts_.signed_rows && in.has_signs())
    for (size_t r = 0; r < n; r++)
      if (in.sign(r) < 0) return invalid_argument("a retraction reached an append-only lake sink");
  // The rows as written: the relation's columns, plus `op` for a changelog.
  // (Capacities follow the input: tests and backfills may hand over more than kVectorSize.)
  DataChunk owned({}, std::max<size_t>(n, 1));
  const DataChunk* rows = &in;
  if (opts_.signed_rows) {
    for (size_t k = 0; k < data_cols; k++) owned.add_column(exec::Vector::sharing(in.column(k)));
    exec::Vector op(TypeId::kVarchar, std::max<size_t>(n, 1));
    auto* d = op.data<exec::StringRef>();
    static const char kPlus[] = "+", kMinus[] = "-";
    for (size_t r = 0; r < n; r++) d[r] = exec::StringRef(in.sign(r) < 0 ? kMinus : kPlus, 1);
    owned.add_column(std::move(op));
    owned.set_size(n);
    rows = &owned;
  }
  if (stats_.oldest_pending_ms == 0) stats_.oldest_pending_ms = opts_.clock->now_ms();
  stats_.rows_written += n;
  unprepared_rows_ += static_cast<int64_t>(n);
  // Route rows by partition; most chunks fall in one.
  int64_t now = now_us();
  std::vector<int64_t> times(n, now);
  if (time_col_ >= 0) {
    const auto& v = rows->column(static_cast<size_t>(time_col_));
    TypeId t = v.type().id;
    for (size_t r = 0; r < n; r++) {
      if (v.is_null(r)) continue;  // NULL time: processing time
      times[r] = t == TypeId::kDate ? int64_t{v.data<int32_t>()[r]} * 86'400'000'000LL : v.data<int64_t>()[r];
    }
  }
  std::map<std::string, exec::SelectionVector> parts;
  std::map<std::string, std::pair<int64_t, int64_t>> ranges;
  for (size_t r = 0; r < n; r++) {
    int64_t t = times[r];
    if (t < cur_lo_ || t >= cur_hi_) {
      cur_part_ = pattern_.format(t);
      if (!pattern_.range(cur_part_, &cur_lo_, &cur_hi_)) cur_lo_ = 1, cur_hi_ = 0;
    }
    parts[cur_part_].idx.push_back(static_cast<uint32_t>(r));
    auto [it, fresh] = ranges.try_emplace(cur_part_, t, t);
    if (!fresh) {
      it->second.first = std::min(it->second.first, t);
      it->second.second = std::max(it->second.second, t);
    }
  }
  if (parts.size() == 1) {
    auto& [p, sel] = *parts.begin();
    return write_part(p, *rows, ranges[p].first, ranges[p].second);
  }
  for (auto& [p, sel] : parts) {
    DataChunk sub({}, std::max<size_t>(sel.size(), 1));
    for (size_t k = 0; k < rows->column_count(); k++) {
      exec::Vector v(rows->column(k).type(), std::max<size_t>(sel.size(), 1));
      v.gather(rows->column(k), sel.idx.data(), sel.size());
      sub.add_column(std::move(v));
    }
    sub.set_size(sel.size());
    SL_RETURN_IF_ERROR(write_part(p, sub, ranges[p].first, ranges[p].second));
  }
  return Status::OK();
}

Status LakeSink::write_part(const std::string& partition, const DataChunk& rows, int64_t min_t, int64_t max_t) {
  auto it = open_.find(partition);
  if (it == open_.end()) {
    if (open_.size() >= opts_.max_open_files) {
      auto oldest = std::min_element(open_.begin(), open_.end(),
                                     [](auto& a, auto& b) { return a.second.opened_us < b.second.opened_us; });
      SL_RETURN_IF_ERROR(close_file(oldest->first));
    }
    OpenFile f;
    f.file.partition = partition;
    f.file.path = table_->new_file_path(partition, "s");
    f.file.min_time_us = INT64_MAX;
    f.file.max_time_us = INT64_MIN;
    f.opened_us = now_us();
    SL_ASSIGN_OR_RETURN(f.writer, open_data_file_writer(table_->store(), table_->key_of(f.file.path),
                                                        opts_.settings.schema, opts_.file_options));
    it = open_.emplace(partition, std::move(f)).first;
  }
  OpenFile& f = it->second;
  SL_RETURN_IF_ERROR(f.writer->write(rows));
  f.file.min_time_us = std::min(f.file.min_time_us, min_t);
  f.file.max_time_us = std::max(f.file.max_time_us, max_t);
  if (f.writer->bytes() >= opts_.roll_bytes || now_us() - f.opened_us >= opts_.roll_us) return close_file(partition);
  return Status::OK();
}

Status LakeSink::close_file(const std::string& partition) {
  auto it = open_.find(partition);
  if (it == open_.end()) return Status::OK();
  OpenFile f = std::move(it->second);
  open_.erase(it);
  SL_ASSIGN_OR_RETURN(auto sum, f.writer->finish());
  f.file.rows = sum.rows;
  f.file.bytes = sum.file_bytes;
  f.file.columns = sum.columns;
  closed_.push_back(std::move(f.file));
  return Status::OK();
}

Result<std::string> LakeSink::prepare(uint64_t epoch, const std::string& source_positions) {
  while (!open_.empty()) SL_RETURN_IF_ERROR(close_file(open_.begin()->first));
  if (closed_.empty() && !pending_) return std::string();
  CommitSpec spec;
  if (pending_) spec = std::move(*pending_);  // an earlier epoch whose commit failed rides along
  for (auto& f : closed_) spec.added.push_back(std::move(f));
  closed_.clear();
  spec.operation = "append";
  spec.epoch = std::max(epoch, last_epoch_ + 1);
  last_epoch_ = spec.epoch;
  spec.source_positions = source_positions;
  spec.timestamp_ms = 0;
  pending_ = std::move(spec);
  unprepared_rows_ = 0;
  return table_->encode(0, *pending_);
}

Status LakeSink::commit(uint64_t) {
  if (!pending_) return Status::OK();
  auto snap = table_->refresh();
  if (!snap.ok()) {
    stats_.last_error = snap.status().to_string();
    return snap.status();
  }
  if (snap.value()->epoch < pending_->epoch) {
    auto r = table_->commit(*pending_);
    if (!r.ok()) {
      stats_.last_error = r.status().to_string();
      return r.status();
    }
    stats_.commits++;
  }
  pending_.reset();
  stats_.last_error.clear();
  if (unprepared_rows_ == 0 && open_.empty()) stats_.oldest_pending_ms = 0;
  return Status::OK();
}

Status LakeSink::recover(const std::string& pending) {
  SL_ASSIGN_OR_RETURN(auto snap, table_->refresh());
  if (!pending.empty()) {
    SL_ASSIGN_OR_RETURN(CommitSpec spec, table_->decode(pending));
    if (snap->epoch < spec.epoch) {
      // Prepared and in the checkpoint, not yet published: publish it now.
      for (auto& f : spec.added) {
        auto st = table_->store().stat(table_->key_of(f.path));
        if (!st.ok())
          return corruption("lake sink recovery: " + table_->uri() + f.path + " of the pending commit (epoch " +
                            std::to_string(spec.epoch) + "): " + st.status().message());
      }
      spec.timestamp_ms = 0;
      SL_RETURN_IF_ERROR(table_->commit(spec).status());
      stats_.commits++;
    }
    last_epoch_ = std::max(last_epoch_, spec.epoch);
  }
  last_epoch_ = std::max(last_epoch_, table_->snapshot()->epoch);
  // Whatever no commit references was written after that checkpoint: its rows are read
  // again from the checkpoint's positions.
  return table_->remove_orphans({}, opts_.grace_ms).status();
}

void LakeSink::abort() {
  open_.clear();  // writers abort on destruction: nothing becomes visible
  for (auto& f : closed_) table_->store().remove(table_->key_of(f.path)).ignore();
  closed_.clear();
  unprepared_rows_ = 0;
}

int64_t LakeSink::uncommitted_rows() const {
  int64_t n = 0;
  for (auto& f : closed_) n += f.rows;
  if (pending_)
    for (auto& f : pending_->added) n += f.rows;
  for (auto& [p, f] : open_) n += f.writer->rows();
  return n;
}

std::set<std::string> LakeSink::unpublished_paths() const {
  std::set<std::string> out;
  for (auto& f : closed_) out.insert(f.path);
  if (pending_)
    for (auto& f : pending_->added) out.insert(f.path);
  for (auto& [p, f] : open_) out.insert(f.file.path);
  return out;
}

Status LakeSink::maintain(bool force) {
  int64_t now = now_us();
  if (!force && last_maintain_us_ != INT64_MIN && now - last_maintain_us_ < opts_.maintain_interval_us)
    return Status::OK();
  last_maintain_us_ = now;
  Status st;
  if (opts_.retain_us > 0) {
    auto r = table_->apply_retention(opts_.retain_us, now);
    if (!r.ok()) st = r.status();
  }
  if (st.ok()) {
    auto r = table_->compact(opts_.compaction, now);
    if (!r.ok()) st = r.status();
  }
  if (st.ok()) {
    auto r = table_->remove_orphans(unpublished_paths(), opts_.grace_ms);
    if (!r.ok()) st = r.status();
  }
  if (!st.ok()) stats_.last_error = "maintenance: " + st.to_string();
  return st;
}

Status LakeSink::purge() {
  abort();
  pending_.reset();
  return table_->purge();
}

}  // namespace sl::lake
