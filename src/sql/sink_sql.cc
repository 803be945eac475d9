// CREATE SINK / DROP SINK (see sink_sql.h).
#include "sql/sink_sql.h"

#include <cctype>
#include <map>
#include <vector>

#include "exec/error.h"

namespace sl::sql {

namespace {

namespace ss = exec::sqlstate;

struct Token {
  enum Kind { kWord, kQuoted, kString, kNumber, kPunct, kEnd } kind = kEnd;
  std::string text;  // words lower-cased; quoted identifiers and strings unescaped
  int pos = 0;
};

class Lexer {
 public:
  Lexer(const std::string& s, int offset) : s_(s), offset_(offset) {}
  std::vector<Token> all() {
    std::vector<Token> out;
    for (;;) {
      Token t = next();
      out.push_back(t);
      if (t.kind == Token::kEnd) return out;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg, size_t at) {
    throw exec::SqlError(ss::kSyntaxError, msg, static_cast<int>(at) + offset_);
  }
  Token next() {
    while (i_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[i_]))) {
        i_++;
      } else if (s_.compare(i_, 2, "--") == 0) {
        while (i_ < s_.size() && s_[i_] != '\n') i_++;
      } else {
        break;
      }
    }
    Token t;
    t.pos = static_cast<int>(i_) + offset_;
    if (i_ >= s_.size()) return t;
    char c = s_[i_];
    size_t start = i_;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '$')) i_++;
      t.kind = Token::kWord;
      for (size_t k = start; k < i_; k++) t.text += static_cast<char>(std::tolower(static_cast<unsigned char>(s_[k])));
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) i_++;
      t.kind = Token::kNumber;
      t.text = s_.substr(start, i_ - start);
    } else if (c == '\'' || c == '"') {
      i_++;
      for (;;) {
        if (i_ >= s_.size()) fail(c == '\'' ? "unterminated quoted string" : "unterminated quoted identifier", start);
        if (s_[i_] == c) {
          if (i_ + 1 < s_.size() && s_[i_ + 1] == c) {
            t.text += c;
            i_ += 2;
            continue;
          }
          i_++;
          break;
        }
        t.text += s_[i_++];
      }
      t.kind = c == '\'' ? Token::kString : Token::kQuoted;
      if (t.kind == Token::kQuoted && t.text.empty()) fail("zero-length delimited identifier", start);
    } else if (c == '(' || c == ')' || c == ',' || c == '=' || c == ';') {
      i_++;
      t.kind = Token::kPunct;
      t.text = std::string(1, c);
    } else {
      fail(std::string("syntax error at or near \"") + c + "\"", start);
    }
    return t;
  }
  const std::string& s_;
  int offset_;
  size_t i_ = 0;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}
  const Token& peek() const { return t_[p_]; }
  void skip() {
    if (t_[p_].kind != Token::kEnd) p_++;
  }
  bool word(const char* w) {
    if (peek().kind == Token::kWord && peek().text == w) {
      p_++;
      return true;
    }
    return false;
  }
  void expect_word(const char* w) {
    if (!word(w)) fail_here(std::string("expected ") + w);
  }
  bool punct(char c) {
    if (peek().kind == Token::kPunct && peek().text[0] == c) {
      p_++;
      return true;
    }
    return false;
  }
  std::string ident(const char* what) {
    const Token& t = peek();
    if (t.kind != Token::kWord && t.kind != Token::kQuoted) fail_here(std::string("expected ") + what);
    p_++;
    return t.text;
  }
  void end() {
    punct(';');
    if (peek().kind != Token::kEnd) fail_here("syntax error at or near \"" + peek().text + "\"");
  }
  [[noreturn]] void fail_here(const std::string& msg) const {
    const Token& t = peek();
    std::string m = msg;
    if (t.kind == Token::kEnd) m += " at end of input";
    else if (msg.rfind("syntax error", 0) != 0) m += " at or near \"" + t.text + "\"";
    throw exec::SqlError(ss::kSyntaxError, m, t.pos);
  }

 private:
  std::vector<Token> t_;
  size_t p_ = 0;
};

std::shared_ptr<StreamHook> need_hook(PlanEnv& env, const char* what) {
  if (!env.stream_hook)
    throw exec::SqlError(ss::kFeatureNotSupported, std::string(what) + " needs the streaming runtime (streamlake serve)");
  return env.stream_hook;
}

}  // namespace

bool is_sink_statement(std::string_view low) {
  auto starts = [&](std::string_view kw1, std::string_view kw2) {
    if (low.substr(0, kw1.size()) != kw1) return false;
    size_t i = kw1.size();
    if (i >= low.size() || !std::isspace(static_cast<unsigned char>(low[i]))) return false;
    while (i < low.size() && std::isspace(static_cast<unsigned char>(low[i]))) i++;
    if (low.substr(i, kw2.size()) != kw2) return false;
    size_t j = i + kw2.size();
    return j == low.size() || !(std::isalnum(static_cast<unsigned char>(low[j])) || low[j] == '_');
  };
  return starts("create", "sink") || starts("drop", "sink");
}

StatementPlan plan_sink_statement(const std::string& text, int offset, PlanEnv& env) {
  Parser p(Lexer(text, offset).all());
  StatementPlan sp;
  if (p.word("create")) {
    p.expect_word("sink");
    bool if_not_exists = false;
    if (p.word("if")) {
      p.expect_word("not");
      p.expect_word("exists");
      if_not_exists = true;
    }
    std::string name = p.ident("a sink name");
    p.expect_word("from");
    std::string from = p.ident("a table or view name");
    std::map<std::string, std::string> options;
    if (p.word("with")) {
      if (!p.punct('(')) p.fail_here("expected (");
      do {
        const Token& k = p.peek();
        std::string key = p.ident("an option name");
        if (options.count(key))
          throw exec::SqlError(ss::kSyntaxError, "option \"" + key + "\" specified more than once", k.pos);
        if (!p.punct('=')) p.fail_here("expected =");
        const Token& v = p.peek();
        if (v.kind != Token::kString && v.kind != Token::kNumber && v.kind != Token::kWord) p.fail_here("expected a value");
        options[key] = v.text;
        p.skip();
      } while (p.punct(','));
      if (!p.punct(')')) p.fail_here("expected , or )");
    }
    p.end();
    sp.kind = StatementKind::kCreateTable;
    sp.tag = "CREATE SINK";
    if (env.describe_only) return sp;
    auto hook = need_hook(env, "CREATE SINK");
    sp.action = [hook, name, from, options, if_not_exists](exec::ExecContext&) -> int64_t {
      hook->create_sink(name, from, options, if_not_exists);
      return 0;
    };
    return sp;
  }
  p.expect_word("drop");
  p.expect_word("sink");
  bool if_exists = false;
  if (p.word("if")) {
    p.expect_word("exists");
    if_exists = true;
  }
  std::string name = p.ident("a sink name");
  bool purge = p.word("purge");
  p.end();
  sp.kind = StatementKind::kDrop;
  sp.tag = "DROP SINK";
  if (env.describe_only) return sp;
  auto hook = need_hook(env, "DROP SINK");
  sp.action = [hook, name, if_exists, purge](exec::ExecContext&) -> int64_t {
    hook->drop_sink(name, if_exists, purge);
    return 0;
  };
  return sp;
}

}  // namespace sl::sql
