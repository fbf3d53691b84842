#include "config/tree.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

namespace sparsim::config {

namespace fs = std::filesystem;

namespace {

bool names_a_file(const YAML::Node& n) {
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  auto ends = [&](std::string_view suf) {
    return s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
  };
  return ends(".yaml") || ends(".yml");
}

Origin mark_origin(const std::string& file, const YAML::Mark& m) {
  if (m.is_null()) return Origin{file, 0, 0};
  return Origin{file, m.line + 1, m.column + 1};
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

bool is_index(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The list index an is_index segment names; one too large for size_t (std::stoul threw
// out_of_range past every catch: fuzz_scenario) is beyond any list, so it is the list's size.
std::size_t index_in(const std::string& s, std::size_t size) {
  std::size_t idx = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), idx);
  return ec == std::errc() && end == s.data() + s.size() ? idx : size;
}

// Aliases (*name) are refused: one inside its own anchor makes the tree infinite (the include
// walk overflowed the stack), and nested ones grow it exponentially (40 lines, 2^40 nodes: a
// hang); includes are the way to share a part. The parser's events name the first alias.
class AliasFinder : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> first;
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (!first) first = mark;
  }
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

constexpr const char* kNoAliases = "YAML aliases (*name) are not supported; write the value out, or put it in a file and include it";
constexpr const char* kNotText = "expected UTF-8 text (YAML 1.2), found a ";

// Where `text` stops being what YAML reads (YAML 1.2 §5.1: Unicode in UTF-8, printable; yaml-cpp
// does not check): the 1-based line and column of the first byte that is not valid UTF-8 or is a
// control character other than tab, line feed and carriage return, and what it is; nullopt when
// the text is clean. Such bytes did not survive `--resolved` (the emitter escapes them, and a
// name read back differed), so they are refused where they are written.
struct BadByte {
  int line, column;
  std::string what;
};
std::optional<BadByte> first_bad_byte(const std::string& text) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < text.size(); ++column) {
    const auto b = static_cast<unsigned char>(text[i]);
    char hex[48];
    if (b < 0x80) {
      if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f) {
        std::snprintf(hex, sizeof hex, "control character 0x%02X", b);
        return BadByte{line, column, hex};
      }
      if (b == '\n') line += 1, column = 0;
      i += 1;
      continue;
    }
    // a multi-byte sequence: its length from the lead byte, continuation bytes 10xxxxxx, no
    // overlong forms or surrogates, at most U+10FFFF
    const int n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    bool ok = n > 0 && i + n <= text.size();
    for (int k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (ok && n >= 3) {
      const auto b1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(b == 0xe0 && b1 < 0xa0) && !(b == 0xed && b1 >= 0xa0) && !(b == 0xf0 && b1 < 0x90) && !(b == 0xf4 && b1 >= 0x90);
    }
    if (!ok) {
      std::snprintf(hex, sizeof hex, "byte 0x%02X, not UTF-8", b);
      return BadByte{line, column, hex};
    }
    i += n;
  }
  return std::nullopt;
}

// YAML::Load of the first document of `text`, with the mark of its first alias if it has one.
// Throws what YAML::Load throws.
YAML::Node load_text(const std::string& text, std::optional<YAML::Mark>& alias) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  AliasFinder finder;
  parser.HandleNextDocument(finder);
  alias = finder.first;
  return YAML::Load(text);
}

// The path include cycles are compared by. One the file system cannot resolve (a component too
// long, or not a directory) stays as written: load_yaml_file reports it as a file it cannot open.
std::string canonical_or_self(const std::string& path) {
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(path, ec);
  return ec ? path : resolved.string();
}

}  // namespace

bool is_key(const YAML::Node& key) { return key.IsScalar() || key.IsNull(); }

YAML::Node load_yaml_file(const std::string& path, const Origin& named_at, const std::string& key) {
  std::ifstream in(path);
  if (!in) throw InputError(named_at, key, "cannot open file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (const auto bad = first_bad_byte(text)) {
    throw InputError(Origin{path, bad->line, bad->column}, key, kNotText + bad->what);
  }
  try {
    std::optional<YAML::Mark> alias;
    YAML::Node n = load_text(text, alias);
    if (alias) throw InputError(mark_origin(path, *alias), key, kNoAliases);
    if (!n.IsMap()) {
      throw InputError(Origin{path, 1, 1}, key, "expected a YAML mapping at the top of the file");
    }
    return n;
  } catch (const YAML::Exception& e) {
    throw InputError(mark_origin(path, e.mark), key, "YAML syntax error: " + e.msg);
  }
}

Tree Tree::load(const std::string& path) {
  Tree t;
  t.file_ = path;
  t.root_ = load_yaml_file(path, Origin{path, 0, 0}, "");
  t.file_of_prefix_[""] = path;
  std::vector<std::string> stack{canonical_or_self(path)};
  t.resolve_includes(t.root_, "", path, stack);
  return t;
}

void Tree::resolve_includes(YAML::Node node, const std::string& key_path, const std::string& file,
                            std::vector<std::string>& stack) {
  if (!node.IsMap()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!is_key(it->first)) throw InputError(mark_origin(file, it->first.Mark()), key_path, kNotAKey);
    const std::string key = it->first.as<std::string>();
    const std::string path = join(key_path, key);
    YAML::Node value = it->second;
    if (key == "source" || key == "note") continue;
    if (names_a_file(value)) {
      const fs::path base = fs::path(file).parent_path();
      const std::string target = (base / value.Scalar()).lexically_normal().string();
      const Origin at = mark_origin(file, value.Mark());
      const std::string canon = canonical_or_self(target);
      if (std::find(stack.begin(), stack.end(), canon) != stack.end()) {
        throw InputError(at, path, "include cycle: '" + target + "' includes itself");
      }
      YAML::Node included = load_yaml_file(target, at, path);
      file_of_prefix_[path] = target;
      stack.push_back(canon);
      resolve_includes(included, path, target, stack);
      stack.pop_back();
      it->second = included;
    } else if (value.IsMap()) {
      resolve_includes(value, path, file, stack);
    }
  }
}

void Tree::set(const std::string& assignment, const std::string& flag) {
  const Origin cli{flag + " " + assignment, 0, 0};
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(cli, "", "expected key.path=value");
  }
  const std::string key_path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  if (const auto bad = first_bad_byte(text)) throw InputError(cli, key_path, kNotText + bad->what);
  std::optional<YAML::Mark> alias;
  try {
    value = load_text(text, alias);
  } catch (const YAML::Exception& e) {
    throw InputError(cli, key_path, "value is not valid YAML: " + e.msg);
  }
  if (alias) throw InputError(cli, key_path, kNoAliases);
  if (!value.IsDefined() || value.IsNull()) {
    throw InputError(cli, key_path, "empty value");
  }
  // The value replaces everything under key_path: forget where the old subtree came from.
  for (auto* m : {&file_of_prefix_, &overrides_}) {
    for (auto it = m->lower_bound(key_path); it != m->end() && it->first.rfind(key_path, 0) == 0;) {
      const bool under = it->first.size() == key_path.size() || it->first[key_path.size()] == '.';
      it = under ? m->erase(it) : std::next(it);
    }
  }
  if (names_a_file(value)) {
    value = load_yaml_file(value.Scalar(), cli, key_path);
    file_of_prefix_[key_path] = text;
    std::vector<std::string> stack{canonical_or_self(text)};
    resolve_includes(value, key_path, text, stack);
  } else if (value.IsMap()) {
    std::vector<std::string> stack;
    resolve_includes(value, key_path, ".", stack);
  }
  // Walk down, creating mappings for missing keys.
  std::vector<std::string> parts;
  std::stringstream ss(key_path);
  for (std::string p; std::getline(ss, p, '.');) {
    if (p.empty()) throw InputError(cli, key_path, "empty segment in key path");
    parts.push_back(p);
  }
  YAML::Node cur = root_;
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked = join(walked, parts[i]);
    if (cur.IsSequence() && is_index(parts[i])) {
      const size_t idx = index_in(parts[i], cur.size());
      if (idx >= cur.size()) throw InputError(cli, walked, "index out of range");
      cur.reset(cur[idx]);
      continue;
    }
    if (!cur.IsMap()) throw InputError(cli, walked, "cannot set a key inside a non-mapping value");
    if (!cur[parts[i]]) cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
    cur.reset(cur[parts[i]]);
  }
  const std::string& last = parts.back();
  if (cur.IsSequence() && is_index(last)) {
    const size_t idx = index_in(last, cur.size());
    if (idx >= cur.size()) throw InputError(cli, key_path, "index out of range");
    cur[idx] = value;
  } else if (cur.IsMap()) {
    cur[last] = value;
  } else {
    throw InputError(cli, key_path, "cannot set a key inside a non-mapping value");
  }
  overrides_[key_path] = cli.file;
}

Tree Tree::clone() const {
  Tree t = *this;
  t.root_.reset(YAML::Clone(root_));  // rebinds; `=` would write the copy into the shared node
  t.positions_ = false;
  return t;
}

Origin Tree::origin(const std::string& key_path, const YAML::Node& node) const {
  // The most specific --set or include that covers key_path.
  auto covers = [&](const std::string& prefix) {
    return prefix.empty() || key_path == prefix ||
           (key_path.size() > prefix.size() && key_path.compare(0, prefix.size(), prefix) == 0 &&
            key_path[prefix.size()] == '.');
  };
  std::string best_override;
  bool have_override = false;
  for (const auto& [k, v] : overrides_) {
    if (covers(k) && (!have_override || k.size() > best_override.size())) {
      best_override = k;
      have_override = true;
    }
  }
  std::string best_file_prefix;
  std::string file = file_;
  for (const auto& [k, v] : file_of_prefix_) {
    if (covers(k) && k.size() >= best_file_prefix.size()) {
      best_file_prefix = k;
      file = v;
    }
  }
  if (have_override && best_override.size() >= best_file_prefix.size()) {
    return Origin{overrides_.at(best_override), 0, 0};
  }
  return mark_origin(file, node && positions_ ? node.Mark() : YAML::Mark::null_mark());
}

std::string Tree::relative_to_file(const std::string& key_path, const std::string& path) const {
  if (fs::path(path).is_absolute()) return path;
  const Origin o = origin(key_path, YAML::Node());
  if (o.file.rfind("--set", 0) == 0) return path;  // command line: relative to the working directory
  return (fs::path(o.file).parent_path() / path).lexically_normal().string();
}

std::string Tree::emit() const {
  YAML::Emitter out;
  out << root_;
  return std::string(out.c_str()) + "\n";
}

}  // namespace sparsim::config
