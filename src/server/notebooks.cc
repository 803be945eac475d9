#include "server/notebooks.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "server/zeppelin.h"
#include "stream/internal.h"  // write_file_atomic: the one synced atomic writer

namespace sl::server {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw ApiError(400, "bad_request", field + ": " + what);
}

size_t utf8_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; k++)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

// Parses a body as JSON; 413 over the limit, 400 when it does not parse.
json parse_body(const std::string& body) {
  if (body.size() > kMaxNotebookBytes)
    throw ApiError(413, "too_large",
                   "body: " + std::to_string(body.size()) + " bytes; a notebook is at most 1 MiB (1048576 bytes)");
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) bad("body", "not valid JSON");
  if (!doc.is_object()) bad("body", "expected a JSON object");
  return doc;
}

const json* member(const json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

std::string need_string(const json& o, const char* key, const std::string& field) {
  const json* v = member(o, key);
  if (!v) bad(field, "missing");
  if (!v->is_string()) bad(field, "expected a string");
  return v->get<std::string>();
}

std::string check_name(const json& o) {
  std::string name = need_string(o, "name", "name");
  if (!valid_utf8(name)) bad("name", "not valid UTF-8");
  size_t n = utf8_chars(name);
  if (n < 1 || n > kMaxNameChars) bad("name", "must be 1 to 200 characters (got " + std::to_string(n) + ")");
  return name;
}

ChartView parse_view(const json& v, const std::string& field) {
  if (!v.is_object()) bad(field, "expected an object");
  ChartView out;
  if (const json* m = member(v, "mode")) {
    if (!m->is_string()) bad(field + ".mode", "expected a string");
    out.mode = m->get<std::string>();
    static const char* kModes[] = {"table", "bar", "line", "area", "pie", "scatter"};
    bool ok = false;
    for (const char* k : kModes) ok |= out.mode == k;
    if (!ok) bad(field + ".mode", "must be one of table, bar, line, area, pie, scatter");
  }
  auto column = [&](const json& c, const std::string& f) {
    if (!c.is_string()) bad(f, "expected a string");
    std::string s = c.get<std::string>();
    if (s.size() > 1024) bad(f, "longer than 1024 bytes");
    return s;
  };
  if (const json* x = member(v, "x"); x && !x->is_null()) out.x = column(*x, field + ".x");
  if (const json* y = member(v, "y"); y && !y->is_null()) {
    if (!y->is_array()) bad(field + ".y", "expected an array of column names");
    if (y->size() > 64) bad(field + ".y", "at most 64 columns");
    for (size_t i = 0; i < y->size(); i++) out.y.push_back(column((*y)[i], field + ".y[" + std::to_string(i) + "]"));
  }
  if (const json* s = member(v, "series"); s && !s->is_null()) out.series = column(*s, field + ".series");
  if (const json* s = member(v, "stacked"); s && !s->is_null()) {
    if (!s->is_boolean()) bad(field + ".stacked", "expected true or false");
    out.stacked = s->get<bool>();
  }
  return out;
}

// Paragraphs from our own JSON ("paragraphs" absent = none, unless `required`: a PUT
// carries the whole notebook, and a missing list must not silently empty it).
std::vector<Paragraph> parse_paragraphs(const json& doc, bool required = false) {
  std::vector<Paragraph> out;
  const json* ps = member(doc, "paragraphs");
  if (required && !ps) bad("paragraphs", "missing: PUT takes the whole notebook");
  if (!ps || ps->is_null()) return out;
  if (!ps->is_array()) bad("paragraphs", "expected an array");
  if (ps->size() > kMaxParagraphs)
    bad("paragraphs", "has " + std::to_string(ps->size()) + " entries; at most " + std::to_string(kMaxParagraphs));
  std::set<std::string> ids;
  for (size_t i = 0; i < ps->size(); i++) {
    std::string f = "paragraphs[" + std::to_string(i) + "]";
    const json& p = (*ps)[i];
    if (!p.is_object()) bad(f, "expected an object");
    Paragraph par;
    if (const json* id = member(p, "id"); id && !id->is_null()) {
      if (!id->is_string() || !is_uuid(id->get<std::string>())) bad(f + ".id", "expected a UUID string");
      par.id = id->get<std::string>();
      for (char& c : par.id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!ids.insert(par.id).second) bad(f + ".id", "duplicates an earlier paragraph's id");
    } else {
      par.id = random_uuid();
    }
    par.type = need_string(p, "type", f + ".type");
    if (par.type != "sql" && par.type != "markdown" && par.type != "text")
      bad(f + ".type", "must be sql, markdown or text");
    par.text = need_string(p, "text", f + ".text");
    if (par.text.size() > kMaxParagraphTextBytes)
      bad(f + ".text", std::to_string(par.text.size()) + " bytes; at most 65536");
    if (!valid_utf8(par.text)) bad(f + ".text", "not valid UTF-8");
    if (const json* v = member(p, "view"); v && !v->is_null()) par.view = parse_view(*v, f + ".view");
    if (const json* l = member(p, "live"); l && !l->is_null()) {
      if (!l->is_boolean()) bad(f + ".live", "expected true or false");
      par.live = l->get<bool>();
    }
    if (const json* u = member(p, "unsupported"); u && !u->is_null()) {
      if (!u->is_string() || u->get<std::string>().size() > 100) bad(f + ".unsupported", "expected a short string or null");
      par.unsupported = u->get<std::string>();
    }
    out.push_back(std::move(par));
  }
  return out;
}

ojson to_ojson(const Notebook& nb) {
  ojson j;
  j["id"] = nb.id;
  j["name"] = nb.name;
  j["owner"] = nb.owner;
  j["version"] = nb.version;
  j["created_ms"] = nb.created_ms;
  j["updated_ms"] = nb.updated_ms;
  ojson ps = ojson::array();
  for (const Paragraph& p : nb.paragraphs) {
    ojson pj;
    pj["id"] = p.id;
    pj["type"] = p.type;
    pj["text"] = p.text;
    ojson v;
    v["mode"] = p.view.mode;
    v["x"] = p.view.x;
    v["y"] = p.view.y;
    v["series"] = p.view.series ? ojson(*p.view.series) : ojson(nullptr);
    v["stacked"] = p.view.stacked;
    pj["view"] = std::move(v);
    pj["live"] = p.live;
    pj["unsupported"] = p.unsupported ? ojson(*p.unsupported) : ojson(nullptr);
    ps.push_back(std::move(pj));
  }
  j["paragraphs"] = std::move(ps);
  return j;
}

// A stored file back into a Notebook (fields the server manages included).
Notebook from_file(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw ApiError(500, "XX000", "not a JSON object");
  const json* fv = member(doc, "format_version");
  if (!fv || !fv->is_number_integer() || fv->get<int>() != kNotebookFormatVersion)
    throw ApiError(500, "XX000", "unknown format_version");
  Notebook nb;
  nb.id = need_string(doc, "id", "id");
  if (!is_uuid(nb.id)) throw ApiError(500, "XX000", "id is not a UUID");
  nb.name = need_string(doc, "name", "name");
  nb.owner = need_string(doc, "owner", "owner");
  for (auto [key, out] : {std::pair{"version", &nb.version}, {"created_ms", &nb.created_ms}, {"updated_ms", &nb.updated_ms}}) {
    const json* v = member(doc, key);
    if (!v || !v->is_number_integer()) bad(key, "expected an integer");
    *out = v->get<int64_t>();
  }
  nb.paragraphs = parse_paragraphs(doc);
  return nb;
}

// Our export JSON has typed paragraphs; a Zeppelin note's paragraphs never carry "type"
// (and its "version" is a string such as "0.9.0").
bool is_zeppelin(const json& doc) {
  const json* ps = member(doc, "paragraphs");
  if (const json* v = member(doc, "version"); v && v->is_string()) return true;
  if (!ps || !ps->is_array()) return false;
  for (const json& p : *ps) {
    if (!p.is_object()) return false;
    if (p.contains("type")) return false;
    if (p.contains("config") || p.contains("text")) return true;
  }
  return false;
}

}  // namespace

std::string notebook_json(const Notebook& nb) { return to_ojson(nb).dump(); }

Result<std::unique_ptr<NotebookStore>> NotebookStore::open(const std::string& dir, Clock* clock) {
  std::error_code ec;
  bool existed = fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return io_error("create " + dir + ": " + ec.message());
  if (!existed) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  std::unique_ptr<NotebookStore> store(new NotebookStore(dir, clock));
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const fs::path& p = e.path();
    if (p.extension() != ".json") continue;  // *.json.tmp: a write cut short
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    try {
      Notebook nb = from_file(ss.str());
      if (p.stem().string() != nb.id) throw ApiError(500, "XX000", "file name does not match its id");
      store->notebooks_[nb.id] = std::move(nb);
    } catch (const ApiError& err) {
      std::fprintf(stderr, "streamlake: WARNING: skipping notebook %s: %s\n", p.c_str(), err.what());
    }
  }
  if (ec) return io_error("read " + dir + ": " + ec.message());
  return store;
}

size_t NotebookStore::size() const {
  std::lock_guard lk(mu_);
  return notebooks_.size();
}

void NotebookStore::save_locked(const Notebook& nb) {
  ojson j = to_ojson(nb);
  j["format_version"] = kNotebookFormatVersion;
  try {
    stream::write_file_atomic(dir_ + "/" + nb.id + ".json", j.dump(1));
  } catch (const std::exception& e) {
    throw ApiError(500, "58030", std::string("could not save the notebook: ") + e.what());
  }
}

Notebook& NotebookStore::find_locked(const std::string& id) {
  auto it = notebooks_.find(id);
  if (it == notebooks_.end()) throw ApiError(404, "not_found", "no notebook with id " + id);
  return it->second;
}

void NotebookStore::check_may_change(const Notebook& nb, const Caller& caller) {
  if (nb.owner != caller.user && !caller.is_admin())
    throw ApiError(403, "42501", "permission denied: notebook \"" + nb.name + "\" belongs to " + nb.owner +
                                     "; only its owner or an admin may change it");
}

net::HttpResponse NotebookStore::create(Notebook nb, const Caller& caller) {
  int64_t now = clock_->now_ms();
  nb.id = random_uuid();
  nb.owner = caller.user;
  nb.version = 1;
  nb.created_ms = nb.updated_ms = now;
  std::lock_guard lk(mu_);
  save_locked(nb);
  std::string body = notebook_json(nb);
  notebooks_[nb.id] = std::move(nb);
  return api_json(201, std::move(body));
}

void NotebookStore::handle(const net::HttpRequest& req, const Caller& caller, net::ResponseSink& sink) {
  try {
    sink.respond(dispatch(req, caller));
  } catch (const ApiError& e) {
    sink.respond(api_error(e.status, e.code, e.what()));
  } catch (const std::exception& e) {
    sink.respond(api_error(500, "XX000", std::string("internal error: ") + e.what()));
  }
}

net::HttpResponse NotebookStore::dispatch(const net::HttpRequest& req, const Caller& caller) {
  std::vector<std::string> seg = path_segments(req.path, "/v1/notebooks");
  const std::string& m = req.method;
  auto method_not_allowed = [&] {
    return api_error(405, "bad_request", "method " + m + " not allowed on " + req.path);
  };
  if (seg.empty()) {
    if (m == "GET") {
      ojson list = ojson::array();
      std::lock_guard lk(mu_);
      for (const auto& [id, nb] : notebooks_) {
        ojson e;
        e["id"] = nb.id;
        e["name"] = nb.name;
        e["owner"] = nb.owner;
        e["updated_ms"] = nb.updated_ms;
        e["paragraphs"] = nb.paragraphs.size();
        list.push_back(std::move(e));
      }
      ojson out;
      out["notebooks"] = std::move(list);
      return api_json(200, out.dump());
    }
    if (m == "POST") {
      json doc = parse_body(req.body);
      Notebook nb;
      nb.name = check_name(doc);
      nb.paragraphs = parse_paragraphs(doc);
      return create(std::move(nb), caller);
    }
    return method_not_allowed();
  }
  if (seg.size() == 1 && seg[0] == "import") {
    if (m != "POST") return method_not_allowed();
    json doc = parse_body(req.body);
    Notebook nb;
    if (is_zeppelin(doc)) {
      ZeppelinNote z = convert_zeppelin_note(req.body);
      nb.name = std::move(z.name);
      nb.paragraphs = std::move(z.paragraphs);
    } else {
      nb.name = check_name(doc);
      nb.paragraphs = parse_paragraphs(doc);
      for (Paragraph& p : nb.paragraphs) p.id = random_uuid();  // a copy, not the original
    }
    return create(std::move(nb), caller);
  }
  const std::string& id = seg[0];
  if (!is_uuid(id)) throw ApiError(404, "not_found", "no notebook with id " + id);
  if (seg.size() == 2 && seg[1] == "export") {
    if (m != "GET") return method_not_allowed();
    std::lock_guard lk(mu_);
    const Notebook& nb = find_locked(id);
    net::HttpResponse r = api_json(200, to_ojson(nb).dump(2));
    // The file name: the notebook's name with anything but [A-Za-z0-9 _-] replaced.
    std::string file;
    for (char c : nb.name) file.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
    r.headers.emplace_back("content-disposition", "attachment; filename=\"" + file + ".json\"");
    return r;
  }
  if (seg.size() == 2 && seg[1] == "duplicate") {
    if (m != "POST") return method_not_allowed();
    Notebook copy;
    {
      std::lock_guard lk(mu_);
      copy = find_locked(id);
    }
    copy.name += " (copy)";
    if (utf8_chars(copy.name) > kMaxNameChars) {
      // Keep it within the limit: cut the original name, keep the suffix.
      std::string base = copy.name.substr(0, copy.name.size() - 7);
      while (utf8_chars(base) > kMaxNameChars - 7) {
        base.pop_back();
        while (!base.empty() && (static_cast<unsigned char>(base.back()) & 0xC0) == 0x80) base.pop_back();
        if (!base.empty() && (static_cast<unsigned char>(base.back()) & 0xC0) == 0xC0) base.pop_back();
      }
      copy.name = base + " (copy)";
    }
    for (Paragraph& p : copy.paragraphs) p.id = random_uuid();
    return create(std::move(copy), caller);
  }
  if (seg.size() != 1) throw ApiError(404, "not_found", "no such endpoint: " + m + " " + req.path);
  if (m == "GET") {
    std::lock_guard lk(mu_);
    return api_json(200, notebook_json(find_locked(id)));
  }
  if (m == "PUT") {
    json doc = parse_body(req.body);
    const json* v = member(doc, "version");
    if (!v) bad("version", "missing: send the version you read");
    if (!v->is_number_integer()) bad("version", "expected an integer");
    int64_t version = v->get<int64_t>();
    if (const json* bid = member(doc, "id"); bid && !bid->is_null() && (!bid->is_string() || bid->get<std::string>() != id))
      bad("id", "does not match the notebook in the URL");
    std::string name = check_name(doc);
    std::vector<Paragraph> paragraphs = parse_paragraphs(doc, /*required=*/true);
    std::lock_guard lk(mu_);
    Notebook& cur = find_locked(id);
    check_may_change(cur, caller);
    if (version != cur.version)
      throw ApiError(409, "conflict", "version " + std::to_string(version) + " is stale: the notebook is at version " +
                                          std::to_string(cur.version) + " (changed elsewhere); reload it");
    Notebook next = cur;
    next.name = std::move(name);
    next.paragraphs = std::move(paragraphs);
    next.version = cur.version + 1;
    next.updated_ms = std::max(clock_->now_ms(), cur.updated_ms);
    save_locked(next);
    cur = std::move(next);
    return api_json(200, notebook_json(cur));
  }
  if (m == "DELETE") {
    std::lock_guard lk(mu_);
    Notebook& cur = find_locked(id);
    check_may_change(cur, caller);
    std::error_code ec;
    fs::remove(dir_ + "/" + id + ".json", ec);
    if (ec) throw ApiError(500, "58030", "could not delete the notebook: " + ec.message());
    notebooks_.erase(id);
    return api_no_content();
  }
  return method_not_allowed();
}

}  // namespace sl::server
