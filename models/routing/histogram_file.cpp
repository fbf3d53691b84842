// Token-ID histogram files: "count" per line, or "token_id count" pairs (routing.hpp).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "config/error.hpp"
#include "routing/routing.hpp"

namespace sparsim::routing {

namespace {

struct Field {
  std::string_view text;
  int column = 0;  ///< 1-based
};

/// Whitespace-separated fields of a line, '#' starting a comment.
std::vector<Field> fields_of(std::string_view line) {
  std::vector<Field> out;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '#') {
    if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '#') ++i;
    out.push_back(Field{line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return out;
}

class Parser {
 public:
  Parser(std::string name, std::string key, int vocab)
      : name_(std::move(name)), key_(std::move(key)), counts_(static_cast<std::size_t>(vocab), 0.0),
        seen_at_(static_cast<std::size_t>(vocab), 0) {}

  [[noreturn]] void fail(int line, int column, const std::string& msg) const {
    // A whole-line problem points at column 1.
    throw InputError(Origin{name_, line, line > 0 ? std::max(column, 1) : 0}, key_, "token histogram: " + msg);
  }

  void line(int no, std::string_view text) {
    const auto f = fields_of(text);
    if (f.empty()) return;
    if (f.size() > 2) fail(no, f[2].column, "expected 'count' or 'token_id count', found " + std::to_string(f.size()) + " fields");
    const int form = static_cast<int>(f.size());
    if (form_ == 0) {
      form_ = form;
      form_line_ = no;
    } else if (form != form_) {
      fail(no, f[0].column, std::string("mixes the two forms: line ") + std::to_string(form_line_) + " is '" +
                                (form_ == 1 ? "count" : "token_id count") + "', this line is '" +
                                (form == 1 ? "count" : "token_id count") + "'");
    }
    last_line_ = no;
    if (form == 1) {
      if (next_id_ >= vocab()) fail(no, f[0].column, "more than vocab (" + std::to_string(vocab()) + ") counts");
      store(no, next_id_++, f[0]);
    } else {
      store(no, token_id(no, f[0]), f[1]);
    }
  }

  std::vector<double> finish() {
    if (form_ == 0) fail(0, 0, "no counts found");
    if (form_ == 1 && next_id_ != vocab()) {
      fail(last_line_, 0, "expected one count per token ID (vocab " + std::to_string(vocab()) + "), found " +
                              std::to_string(next_id_));
    }
    bool any = false;
    for (double c : counts_) any = any || c > 0;
    if (!any) fail(last_line_, 0, "all counts are zero");
    return std::move(counts_);
  }

 private:
  int vocab() const { return static_cast<int>(counts_.size()); }

  int token_id(int no, const Field& f) const {
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), v);
    if (ec != std::errc() || ptr != f.text.data() + f.text.size()) {
      fail(no, f.column, "token ID '" + std::string(f.text) + "' is not an integer");
    }
    if (v < 0 || v >= vocab()) {
      fail(no, f.column, "token ID " + std::string(f.text) + " outside [0, vocab " + std::to_string(vocab()) + ")");
    }
    const auto id = static_cast<std::size_t>(v);
    if (seen_at_[id] != 0) fail(no, f.column, "token ID " + std::string(f.text) + " already given on line " + std::to_string(seen_at_[id]));
    return static_cast<int>(v);
  }

  void store(int no, int id, const Field& f) {
    double c = 0;
    const auto [ptr, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), c);
    if (ec != std::errc() || ptr != f.text.data() + f.text.size() || !std::isfinite(c)) {
      fail(no, f.column, "count '" + std::string(f.text) + "' is not a number");
    }
    if (c < 0) fail(no, f.column, "count " + std::string(f.text) + " is negative");
    counts_[static_cast<std::size_t>(id)] = c;
    seen_at_[static_cast<std::size_t>(id)] = no;
  }

  std::string name_, key_;
  std::vector<double> counts_;
  std::vector<int> seen_at_;  ///< line that gave each ID, 0 = none yet
  int form_ = 0;              ///< fields per line: 1 = count, 2 = token_id count; 0 = not yet known
  int form_line_ = 0;
  int last_line_ = 0;
  int next_id_ = 0;
};

}  // namespace

std::vector<double> parse_token_histogram(std::istream& in, const std::string& name, int vocab,
                                          const std::string& key_path) {
  SPARSIM_ASSERT(vocab > 0, "parse_token_histogram: vocab must be > 0");
  Parser p(name, key_path, vocab);
  std::string text;
  for (int no = 1; std::getline(in, text); ++no) p.line(no, text);
  return p.finish();
}

std::vector<double> read_token_histogram(const std::string& path, int vocab, const std::string& key_path) {
  std::ifstream in(path);
  if (!in) throw InputError(Origin{path, 0, 0}, key_path, "cannot open token histogram file");
  return parse_token_histogram(in, path, vocab, key_path);
}

}  // namespace sparsim::routing
