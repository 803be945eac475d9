// Connector interfaces between the streaming runtime and the outside world. This header
// holds the Sink; Source and Scan are still the runtime's own (see README.md).
//
// A Sink consumes one relation's changelog (a stream table's rows, or a materialized
// view's output) and publishes it exactly once, in two phases driven by the runtime's
// checkpoint (docs/lake.md, "Commit protocol"):
//
//   write(chunk) ...            rows of the current epoch; written, not yet durable
//   rec = prepare(epoch, pos)   everything written so far is durable but invisible;
//                               `rec` (the pending commit) goes into the checkpoint
//   <checkpoint with rec is durable>
//   commit(epoch)               publishes the prepared epoch (idempotent)
//
// After a crash the runtime loads its last checkpoint and calls recover(rec) with the
// pending commit it holds: the sink publishes it unless it is published already (the
// published commit records the epoch), then deletes output no commit references (written
// after that checkpoint: the runtime re-reads those rows from the checkpoint's positions).
// So a prepared epoch is re-committed or discarded, never both, and never twice.
//
// Threads: one thread at a time (the runtime's pipeline thread, under its mutex).
#pragma once

#include <cstdint>
#include <string>

#include "exec/vector.h"
#include "util/status.h"

namespace sl::connector {

class Sink {
 public:
  virtual ~Sink() = default;
  // Appends rows in the sink's schema. Rows carry the changelog sign (chunk.sign(i));
  // append-only sinks refuse retractions with kInvalidArgument.
  virtual Status write(const exec::DataChunk& chunk) = 0;
  // Makes everything written since the last prepare (and a prepared epoch whose commit
  // failed) durable but invisible, and returns the pending commit record to store in the
  // checkpoint ("" when there is nothing to commit). `source_positions` is an opaque
  // string the commit records (where the input stood at this epoch).
  virtual Result<std::string> prepare(uint64_t epoch, const std::string& source_positions) = 0;
  // Publishes what the last prepare() made durable. Call only after the checkpoint
  // holding its record is durable. Idempotent; on failure the pending commit stays and
  // the next prepare() carries it along.
  virtual Status commit(uint64_t epoch) = 0;
  // Crash recovery: `pending` is the record of the last durable checkpoint ("" if none).
  virtual Status recover(const std::string& pending) = 0;
  // Drops everything written since the last prepare (uncommitted output is deleted).
  virtual void abort() = 0;
};

}  // namespace sl::connector
