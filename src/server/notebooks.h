// Notebooks of the web UI: their model, validation, storage under DATA/notebooks/ and the
// /v1/notebooks endpoints (docs/notebook.md, "HTTP API").
//
// Storage: one file per notebook, DATA/notebooks/<uuid>.json, written atomically (tmp,
// fsync, rename, fsync dir); the file is the notebook's JSON plus "format_version": 1.
// open() loads every file; a file that does not parse is reported on stderr and skipped
// (left in place). Every change bumps `version`; a PUT naming an older version is refused
// (409) so two tabs never overwrite each other silently.
//
// Rules: every signed-in user lists and reads every notebook; only its owner or an admin
// changes or deletes it. Bodies over 1 MiB → 413; bad JSON, wrong types, more than 500
// paragraphs, a paragraph text over 64 KiB, a name not 1–200 characters → 400 naming the
// field. A refused request changes nothing.
//
// Threads: handle() is called on HTTP I/O threads; one mutex guards the map and
// serializes writes (a notebook write is one small fsync'd file).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http.h"
#include "server/api.h"
#include "util/status.h"
#include "util/time.h"

namespace sl::server {

inline constexpr size_t kMaxNotebookBytes = 1u << 20;
inline constexpr size_t kMaxParagraphs = 500;
inline constexpr size_t kMaxParagraphTextBytes = 64u << 10;
inline constexpr size_t kMaxNameChars = 200;
inline constexpr int kNotebookFormatVersion = 1;

// How a paragraph's result is shown: a table or a chart over its columns.
struct ChartView {
  std::string mode = "table";  // table | bar | line | area | pie | scatter
  std::string x;               // column for the x axis / pie labels ("" = none)
  std::vector<std::string> y;  // value columns
  std::optional<std::string> series;  // column that splits rows into series
  bool stacked = false;
};

struct Paragraph {
  std::string id;             // UUID
  std::string type = "sql";   // sql | markdown | text
  std::string text;
  ChartView view;
  bool live = false;          // follows its view (GET /v1/live)
  std::optional<std::string> unsupported;  // imported interpreter we cannot run ("%spark")
};

struct Notebook {
  std::string id;  // UUID
  std::string name;
  std::string owner;
  int64_t version = 1;
  int64_t created_ms = 0, updated_ms = 0;
  std::vector<Paragraph> paragraphs;
};

// The notebook as the API returns it (no format_version).
std::string notebook_json(const Notebook& nb);

class NotebookStore {
 public:
  // Opens DATA/notebooks (creating it, mode 0700) and loads every notebook.
  static Result<std::unique_ptr<NotebookStore>> open(const std::string& dir, Clock* clock);

  // Any request under /v1/notebooks. Answers through `sink` (throws nothing).
  void handle(const net::HttpRequest& req, const Caller& caller, net::ResponseSink& sink);

  size_t size() const;

 private:
  NotebookStore(std::string dir, Clock* clock) : dir_(std::move(dir)), clock_(clock) {}
  net::HttpResponse dispatch(const net::HttpRequest& req, const Caller& caller);
  net::HttpResponse create(Notebook nb, const Caller& caller);
  // REQUIRES: mu_ held. Writes the file; throws ApiError 500 on I/O failure.
  void save_locked(const Notebook& nb);
  Notebook& find_locked(const std::string& id);  // throws ApiError 404
  static void check_may_change(const Notebook& nb, const Caller& caller);  // throws 403

  std::string dir_;
  Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, Notebook> notebooks_;
};

}  // namespace sl::server
