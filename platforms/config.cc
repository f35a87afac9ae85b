// SPDX-License-Identifier: Apache-2.0
#include "platforms/config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <unordered_map>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string_view>

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace iommusim {

std::string ConfigEntry::location() const {
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Where each key is written in the file, and the first line that is wrong:
// one Boost would refuse, a key set twice, a section opened twice. Boost
// parses the values; this scan finds line numbers for messages, following the
// same rules (sections, '#' comments).
struct FileScan {
  std::map<std::string, int> key_line;      // the line that sets each key
  std::map<std::string, int> section_line;  // the line that opens each section
  int bad_line = 0;
  std::string why;                          // what is wrong with bad_line
};

void scan_line(FileScan& scan, const std::string& raw, int n, std::string& section) {
  std::string line = raw;
  size_t hash = line.find('#');
  if (hash != std::string::npos) line = line.substr(0, hash);
  line = trim(line);
  if (line.empty()) return;
  auto refuse = [&](std::string why) { scan.bad_line = n, scan.why = std::move(why); };
  if (line.front() == '[' && line.back() == ']') {
    section = trim(line.substr(1, line.size() - 2));
    auto [it, fresh] = scan.section_line.emplace(section, n);
    if (!fresh)
      refuse("section [" + shown_text(section) + "] opened again (first at line " + std::to_string(it->second) +
             "); put all of its keys under one [" + shown_text(section) + "]");
    return;
  }
  size_t eq = line.front() == '[' ? std::string::npos : line.find('=');
  if (eq != std::string::npos && eq > 0) {
    std::string name = trim(line.substr(0, eq));
    std::string key = section.empty() ? name : section + "." + name;
    auto [it, fresh] = scan.key_line.emplace(key, n);
    if (!fresh)
      refuse("key '" + shown_text(key) + "' set again (first at line " + std::to_string(it->second) +
             "); a key is set once per file (a later --config file or --set overrides it)");
    return;
  }
  const std::string text = trim(raw);
  refuse("invalid line '" + shown_text(text) + "': " +
         (text[0] == ';' ? "comments start with '#', not ';'"
                         : "expected '[section]', 'key = value' or a '#' comment"));
}

FileScan scan_ini(std::istream& in) {
  FileScan scan;
  std::string raw, section;
  for (int n = 1; !scan.bad_line && std::getline(in, raw); ++n) scan_line(scan, raw, n, section);
  return scan;
}

// The text after the '#' of a comment line, or nullptr if `line` is not one.
const char* comment_text(const std::string& line) {
  if (line.empty() || line[0] != '#') return nullptr;
  size_t at = line.find_first_not_of("# \t");
  return at == std::string::npos ? "" : line.c_str() + at;
}

// Why `path` cannot be read as a config file, or "".
std::string unreadable(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return path + ": is a directory, not a config file";
  if (!std::filesystem::exists(path, ec)) return path + ": cannot open config file";
  return "";
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string ConfigSet::load_file(const std::string& path) {
  if (std::string err = unreadable(path); !err.empty()) return err;
  std::ifstream in(path);
  if (!in) return path + ": cannot open config file";
  FileScan scan = scan_ini(in);
  if (scan.bad_line) return path + ":" + std::to_string(scan.bad_line) + ": " + scan.why;
  if (scan.key_line.empty())
    return path + ": holds no setting (the file is empty or only comments); expected 'key = value' lines, "
                  "each under its '[section]'";
  in.clear();
  in.seekg(0);
  po::parsed_options parsed(nullptr);
  try {
    po::options_description none;
    parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
  } catch (const std::exception& e) {
    return path + ": " + e.what();
  }
  for (const po::option& opt : parsed.options) {
    ConfigEntry entry;
    entry.key = opt.string_key;
    entry.value = opt.value.empty() ? "" : trim(opt.value.front());
    entry.file = path;
    auto it = scan.key_line.find(entry.key);
    entry.line = it == scan.key_line.end() ? 0 : it->second;
    if (entry.key == kIncludeKey) {
      if (std::string err = load_include(entry); !err.empty()) return err;
      continue;
    }
    put(std::move(entry));
  }
  return "";
}

// `include = FILE` before the first section: FILE's entries are read at that
// point, so the including file's own entries (after the line) override them.
// A relative FILE is taken from the including file's directory.
std::string ConfigSet::load_include(const ConfigEntry& at) {
  const std::string where = at.location() + ": include = '" + shown_text(at.value) + "'";
  if (at.value.empty()) return where + ": names no file";
  std::filesystem::path target(at.value);
  if (target.is_relative()) target = std::filesystem::path(at.file).parent_path() / target;
  const std::string resolved = target.lexically_normal().string();
  if (std::find(including_.begin(), including_.end(), resolved) != including_.end())
    return where + ": includes itself (through " + std::to_string(including_.size()) + " file(s)); remove the cycle";
  if (including_.size() >= kMaxIncludeDepth)
    return where + ": includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " files";
  including_.push_back(std::filesystem::path(at.file).lexically_normal().string());
  std::string err = load_file(resolved);
  including_.pop_back();
  return err.empty() ? "" : where + ": " + err;
}

std::vector<IniSetting> read_ini_settings(const std::string& text, const std::string& name, std::string* error) {
  std::istringstream check(text);
  const FileScan scan = scan_ini(check);
  *error = scan.bad_line ? name + ":" + std::to_string(scan.bad_line) + ": " + scan.why : "";
  if (!error->empty()) return {};
  std::vector<IniSetting> settings;
  std::istringstream in(text);
  std::string raw, section, block;
  bool in_block = false;  // the line before was a comment line
  for (int n = 1; std::getline(in, raw); ++n) {
    const std::string line = trim(raw);
    if (const char* c = comment_text(line)) {
      block = in_block ? block + (*c ? " " : "") + c : c;
      in_block = true;
      continue;
    }
    in_block = false;
    if (line.empty()) continue;
    if (line.front() == '[') {
      section = trim(line.substr(1, line.size() - 2));
      block.clear();
      continue;
    }
    const size_t eq = line.find('=');
    const std::string key = trim(line.substr(0, eq));
    if (key == ConfigSet::kIncludeKey && section.empty()) continue;
    const std::string value = trim(line.substr(eq + 1, line.find('#') == std::string::npos ? std::string::npos
                                                                                            : line.find('#') - eq - 1));
    settings.push_back({section.empty() ? key : section + "." + key, value, block, n});
  }
  return settings;
}

std::string ConfigSet::add_override(const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || trim(assignment.substr(0, eq)).empty())
    return "--set '" + assignment + "': expected key=value";
  ConfigEntry entry;
  entry.key = trim(assignment.substr(0, eq));
  entry.value = trim(assignment.substr(eq + 1));
  entry.file = "--set";
  put(std::move(entry));
  return "";
}

void ConfigSet::put(ConfigEntry entry) {
  auto it = index_.emplace(entry.key, entries_.size());
  if (!it.second) {
    entries_[it.first->second] = std::move(entry);
    return;
  }
  entries_.push_back(std::move(entry));
}

const ConfigEntry* ConfigSet::find(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::string apply_config(const ConfigSet& config, const std::vector<ParamSpec>& specs,
                         size_t first) {
  for (size_t i = first; i < specs.size(); ++i) {
    const ConfigEntry* e = config.find(specs[i].name);
    if (!e) continue;
    std::string err = specs[i].apply(e->value);
    if (err.empty()) continue;
    const std::string value = shown_text(e->value);
    for (size_t at = err.find(e->value); value != e->value && at != std::string::npos; at = err.find(e->value, at))
      err.replace(at, e->value.size(), value);
    return e->location() + ": " + e->key + " = '" + value + "': " + shown_text(err, 400);
  }
  return "";
}

std::string nearest_key(const std::string& key, const std::vector<ParamSpec>& specs) {
  // Close enough to be a slip: a third of the key's length, at least 2 edits.
  const size_t allowed = std::max<size_t>(2, key.size() / 3);
  std::string best;
  size_t best_d = ~size_t{0};
  for (const ParamSpec& s : specs) {
    // The lengths' difference bounds the distance from below: a key far longer
    // or shorter than every declared one costs no distance computation.
    const size_t gap = key.size() > s.name.size() ? key.size() - s.name.size() : s.name.size() - key.size();
    if (gap > allowed || gap >= best_d) continue;
    size_t d = edit_distance(key, s.name);
    if (d < best_d) {
      best_d = d;
      best = s.name;
    }
  }
  return best_d <= allowed ? best : "";
}

std::string check_unknown_keys(const ConfigSet& config, const std::vector<ParamSpec>& specs,
                               const std::function<std::string(const std::string&)>& owner) {
  // Each declaration marks the entry that sets it, found through the config's
  // own index: no set of the declared names (tens of thousands with
  // thousands of endpoints, against the config's few entries).
  const std::vector<ConfigEntry>& entries = config.entries();
  std::vector<char> declared(entries.size(), 0);
  for (const ParamSpec& s : specs)
    if (const ConfigEntry* e = config.find(s.name)) declared[static_cast<size_t>(e - entries.data())] = 1;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (declared[i]) continue;
    const ConfigEntry& e = entries[i];
    std::string msg = e.location() + ": unknown key '" + shown_text(e.key) + "'";
    const std::string elsewhere = owner ? owner(e.key) : "";
    std::string near = nearest_key(e.key, specs);
    if (!elsewhere.empty()) msg += "; it " + elsewhere;
    else if (!near.empty()) msg += "; did you mean '" + near + "'?";
    msg += " (iommusim --help-params lists every key)";
    return msg;
  }
  return "";
}

namespace {

bool key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

// The words of `text` that may be keys, each with whether '=' follows it.
std::vector<std::pair<std::string, bool>> key_words(const std::string& text) {
  std::vector<std::pair<std::string, bool>> words;
  for (size_t i = 0; i < text.size();) {
    if (!key_char(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && key_char(text[j])) ++j;
    std::string w = text.substr(i, j - i);
    while (!w.empty() && w.back() == '.') w.pop_back();
    size_t k = j;
    while (k < text.size() && text[k] == ' ') ++k;
    words.emplace_back(std::move(w), k < text.size() && text[k] == '=');
    i = j;
  }
  return words;
}

// The declared keys `message` names, in order: full keys anywhere; after a
// leading "<instance>: ", its own keys as the first word or as "name = ...".
std::vector<std::string> keys_named(const std::string& message, const std::vector<ParamSpec>& specs) {
  std::set<std::string> declared;
  for (const ParamSpec& s : specs) declared.insert(s.name);
  std::vector<std::string> keys;
  auto add = [&](const std::string& k) {
    if (declared.count(k) && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  };
  const size_t colon = message.find(": ");
  const std::string instance = colon == std::string::npos ? "" : message.substr(0, colon);
  const bool scoped = !instance.empty() && std::all_of(instance.begin(), instance.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
  const auto words = key_words(scoped ? message.substr(colon + 2) : message);
  for (size_t i = 0; i < words.size(); ++i) {
    if (scoped && (i == 0 || words[i].second)) add(instance + "." + words[i].first);
    add(words[i].first);
  }
  return keys;
}

}  // namespace

std::string locate_keys(const std::string& message, const ConfigSet& config, const std::vector<ParamSpec>& specs) {
  const std::vector<std::string> keys = keys_named(message, specs);
  const ConfigEntry* primary = nullptr;
  for (const std::string& k : keys)
    if ((primary = config.find(k))) break;
  std::string where;
  for (const std::string& k : keys) {
    const ConfigEntry* e = config.find(k);
    if (e == primary) continue;
    where += (where.empty() ? "" : "; ") + k + (e ? " at " + e->location() : " at its default");
  }
  std::string out = primary ? primary->location() + ": " + message : message;
  if (!where.empty()) out += " (" + where + ")";
  return out;
}

namespace {
// The section of a parameter's name: what comes before its first '.' ("" for none).
std::string_view section_of(std::string_view key) {
  const size_t dot = key.find('.');
  return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

// The parameters grouped by section, sections in order of first appearance:
// one pass with an index (by views of the names, looked up before inserting,
// so that a section seen before costs no node), so writing a config stays
// linear in its size.
std::vector<std::pair<std::string, std::vector<const ParamSpec*>>> by_section(const std::vector<ParamSpec>& specs) {
  std::vector<std::pair<std::string, std::vector<const ParamSpec*>>> sections;
  std::unordered_map<std::string_view, size_t> index;
  for (const ParamSpec& s : specs) {
    const std::string_view sec = section_of(s.name);
    auto it = index.find(sec);
    if (it == index.end()) {
      it = index.emplace(sec, sections.size()).first;
      sections.emplace_back(std::string(sec), std::vector<const ParamSpec*>{});
    }
    sections[it->second].second.push_back(&s);
  }
  return sections;
}

// A markdown table cell: '|' would end it.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string shown_default(const ParamSpec& s) { return s.default_value.empty() ? "''" : s.default_value; }
}  // namespace

std::string markdown_cell(const std::string& text) { return cell(text); }

// Built in one string (with thousands of endpoints, a dozen stream
// insertions per parameter were most of the writer's time); the key is the
// part of the name after the section, not a copy.
std::string config_ini_text(const std::vector<ParamSpec>& specs) {
  std::string out = "# Effective iommusim configuration: `iommusim --config THIS_FILE` reproduces the run.\n";
  for (const auto& [sec, in] : by_section(specs)) {
    out += '\n';
    if (!sec.empty()) {
      out += '[';
      out += sec;
      out += "]\n";
    }
    for (const ParamSpec* s : in) {
      out += "# ";
      out += s->help;
      if (!s->unit.empty()) {
        out += " [";
        out += s->unit;
        out += ']';
      }
      out += '\n';
      const size_t dot = s->name.find('.');
      out.append(s->name, dot == std::string::npos ? 0 : dot + 1);
      out += " = ";
      out += s->current();
      out += '\n';
    }
  }
  return out;
}

void write_config_ini(std::ostream& os, const std::vector<ParamSpec>& specs) { os << config_ini_text(specs); }

std::string param_table_row(const ParamSpec& s, const std::string& prefix) {
  const std::string key = s.name.compare(0, prefix.size(), prefix) == 0 ? s.name.substr(prefix.size()) : s.name;
  return "| `" + key + "` | " + cell(shown_default(s)) + " | " + cell(s.unit) + " | " + cell(s.accepted) + " | " +
         cell(s.help) + " | " + cell(s.source) + " |";
}

void write_param_table(std::ostream& os, const std::vector<ParamSpec>& specs, const std::string& prefix) {
  os << "| key | default | unit | accepts | meaning | source of default |\n"
     << "| --- | --- | --- | --- | --- | --- |\n";
  for (const ParamSpec& s : specs) os << param_table_row(s, prefix) << "\n";
}

void write_param_help(std::ostream& os, const std::vector<ParamSpec>& specs, ParamHelpFormat format) {
  if (format == ParamHelpFormat::Markdown) {
    for (const auto& [sec, members] : by_section(specs)) {
      std::vector<ParamSpec> in;
      for (const ParamSpec* s : members) in.push_back(*s);
      os << "#### `[" << sec << "]`\n\n";
      write_param_table(os, in, sec.empty() ? "" : sec + ".");
      os << "\n";
    }
    return;
  }
  size_t width = 0;
  for (const ParamSpec& s : specs) width = std::max(width, s.name.size());
  for (const ParamSpec& s : specs) {
    os << s.name << std::string(width + 2 - s.name.size(), ' ') << s.help << "\n"
       << std::string(width + 2, ' ') << "default: " << shown_default(s);
    if (!s.unit.empty()) os << " " << s.unit;
    os << "; accepts " << s.accepted << "\n";
    if (!s.source.empty()) os << std::string(width + 2, ' ') << "source of default: " << s.source << "\n";
  }
}

} // namespace iommusim
