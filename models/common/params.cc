// SPDX-License-Identifier: Apache-2.0
#include "common/params.h"

#include "common/number_format.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace iommusim {

namespace {
std::string strip_separators(const std::string& text) {
  std::string s;
  s.reserve(text.size());
  for (char c : text)
    if (c != '_') s.push_back(c);
  return s;
}

} // namespace

bool parse_uint(const std::string& text, uint64_t* out) {
  std::string s = strip_separators(text);
  if (s.empty() || s[0] == '-' || s[0] == '+') return false;
  uint64_t mult = 1;
  char last = s.back();
  bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (!hex) {
    switch (last) {
      case 'K': case 'k': mult = 1ull << 10; break;
      case 'M': case 'm': mult = 1ull << 20; break;
      case 'G': case 'g': mult = 1ull << 30; break;
      case 'T': case 't': mult = 1ull << 40; break;
      default: break;
    }
    if (mult != 1) s.pop_back();
  }
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, hex ? 16 : 10);
  if (errno != 0 || end == s.c_str() || *end != '\0') return false;
  if (mult != 1 && v > std::numeric_limits<uint64_t>::max() / mult) return false;
  *out = static_cast<uint64_t>(v) * mult;
  return true;
}

bool parse_int(const std::string& text, int64_t* out) {
  std::string s = strip_separators(text);
  bool neg = !s.empty() && s[0] == '-';
  uint64_t mag = 0;
  if (!parse_uint(neg ? s.substr(1) : s, &mag)) return false;
  if (neg) {
    if (mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) return false;
    *out = mag == static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1
               ? std::numeric_limits<int64_t>::min()
               : -static_cast<int64_t>(mag);
  } else {
    if (mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(mag);
  }
  return true;
}

bool parse_double(const std::string& text, double* out) {
  std::string s = strip_separators(text);
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || *end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool parse_bool(const std::string& text, bool* out) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") { *out = true; return true; }
  if (text == "false" || text == "0" || text == "no" || text == "off") { *out = false; return true; }
  return false;
}

std::string shown_text(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  return text.substr(0, limit) + "... (" + std::to_string(text.size()) + " characters)";
}

std::string format_hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

ParamList ParamList::scope(const std::string& sub) { return ParamList(full(sub), specs_, check_); }

ParamList ParamList::checker() {
  auto placeholder = std::make_shared<std::vector<ParamSpec>>(1);  // what specs().back() edits
  return ParamList("", std::move(placeholder), std::make_shared<CheckState>());
}

void ParamList::push(ParamSpec spec) {
  if (!check_) {
    specs_->push_back(std::move(spec));
    return;
  }
  if (check_->error.empty()) {
    const std::string err = spec.apply(spec.current());
    if (!err.empty()) check_->error = spec.name + ": " + err;
  }
  specs_->back() = std::move(spec);
}

std::string ParamList::check_values() const {
  for (const ParamSpec& s : *specs_) {
    // apply() parses what current() writes, so it refuses exactly the values
    // a config could not have set.
    const std::string err = s.apply(s.current());
    if (!err.empty()) return s.name + ": " + err;
  }
  return "";
}

void ParamList::add_custom(const std::string& name, const std::string& default_text,
                           const std::string& accepted, const std::string& unit,
                           const std::string& help,
                           std::function<std::string(const std::string&)> apply,
                           std::function<std::string()> current, const std::string& source) {
  push(ParamSpec{full(name), ParamKind::String, default_text, unit, help, accepted,
                 std::move(apply), std::move(current), source});
}

void ParamList::add_bool(std::string_view name, bool* field, std::string_view help,
                         std::string_view source) {
  if (accepted_plainly(true)) return;  // "true" or "false", both accepted
  auto apply = [field](const std::string& t) -> std::string {
    bool v;
    if (!parse_bool(t, &v)) return "'" + t + "' is not a boolean";
    *field = v;
    return "";
  };
  auto current = [field]() -> std::string { return *field ? "true" : "false"; };
  push(ParamSpec{full(name), ParamKind::Bool, current(), "", std::string(help),
                 "true/false (also 1/0, yes/no, on/off)", std::move(apply), std::move(current),
                 std::string(source)});
}

namespace {
// "an integer in MIN..MAX", built in place: with thousands of endpoints the
// declarations build it tens of thousands of times. The apply functions
// build it again only for an error's message, instead of each keeping a copy.
template <typename I>
std::string integer_range_text(I min, I max) {
  std::string text = "an integer in ";
  char buf[24];  // the 20 digits of 2^64 - 1, or a sign and 19 digits
  text.append(buf, std::to_chars(buf, buf + sizeof buf, min).ptr);
  text += "..";
  text.append(buf, std::to_chars(buf, buf + sizeof buf, max).ptr);
  return text;
}

// One integer parameter bound to a field of unsigned type T, range-checked.
template <typename T>
ParamSpec uint_spec(std::string full_name, T* field, uint64_t min, uint64_t max,
                    std::string_view unit, std::string_view help, std::string_view source) {
  max = std::min<uint64_t>(max, std::numeric_limits<T>::max());
  auto apply = [field, min, max](const std::string& t) -> std::string {
    uint64_t v;
    if (!parse_uint(t, &v)) return "'" + t + "' is not " + integer_range_text(min, max);
    if (v < min || v > max) return std::to_string(v) + " is out of range: expected " + integer_range_text(min, max);
    *field = static_cast<T>(v);
    return "";
  };
  auto current = [field]() -> std::string { return std::to_string(*field); };
  return ParamSpec{std::move(full_name), ParamKind::UInt, current(), std::string(unit), std::string(help),
                   integer_range_text(min, max), std::move(apply), std::move(current), std::string(source)};
}
}  // namespace

void ParamList::add_uint(std::string_view name, uint64_t* field, uint64_t min, uint64_t max,
                         std::string_view unit, std::string_view help, std::string_view source) {
  if (accepted_plainly(*field >= min && *field <= max)) return;
  push(uint_spec(full(name), field, min, max, unit, help, source));
}

void ParamList::add_uint(std::string_view name, uint32_t* field, uint64_t min, uint64_t max,
                         std::string_view unit, std::string_view help, std::string_view source) {
  if (accepted_plainly(*field >= min && *field <= max)) return;
  push(uint_spec(full(name), field, min, max, unit, help, source));
}

void ParamList::add_int(std::string_view name, int64_t* field, int64_t min, int64_t max,
                        std::string_view unit, std::string_view help, std::string_view source) {
  if (accepted_plainly(*field >= min && *field <= max)) return;
  auto apply = [field, min, max](const std::string& t) -> std::string {
    int64_t v;
    if (!parse_int(t, &v)) return "'" + t + "' is not " + integer_range_text(min, max);
    if (v < min || v > max) return std::to_string(v) + " is out of range: expected " + integer_range_text(min, max);
    *field = v;
    return "";
  };
  auto current = [field]() -> std::string { return std::to_string(*field); };
  push(ParamSpec{full(name), ParamKind::Int, current(), std::string(unit), std::string(help),
                 integer_range_text(min, max),
                 std::move(apply), std::move(current), std::string(source)});
}

namespace {
// "a number in MIN..MAX", each bound in the shortest form that reads back exactly.
std::string number_range_text(double min, double max) {
  std::string text = "a number in ";
  text += format_number(min);
  text += "..";
  text += format_number(max);
  return text;
}
}  // namespace

void ParamList::add_double(std::string_view name, double* field, double min, double max,
                           std::string_view unit, std::string_view help, std::string_view source) {
  // format_number() writes the shortest form that reads back exactly.
  if (accepted_plainly(std::isfinite(*field) && *field >= min && *field <= max)) return;
  auto apply = [field, min, max](const std::string& t) -> std::string {
    double v;
    if (!parse_double(t, &v)) return "'" + t + "' is not " + number_range_text(min, max);
    if (v < min || v > max) return t + " is out of range: expected " + number_range_text(min, max);
    *field = v;
    return "";
  };
  auto current = [field]() -> std::string { return format_number(*field); };
  push(ParamSpec{full(name), ParamKind::Double, current(), std::string(unit), std::string(help),
                 number_range_text(min, max),
                 std::move(apply), std::move(current), std::string(source)});
}

void ParamList::add_string(std::string_view name, std::string* field, std::string_view help,
                           std::string_view source) {
  if (accepted_plainly(true)) return;  // any text
  auto apply = [field](const std::string& t) -> std::string { *field = t; return ""; };
  auto current = [field]() -> std::string { return *field; };
  push(ParamSpec{full(name), ParamKind::String, current(), "", std::string(help), "any text", std::move(apply),
                 std::move(current), std::string(source)});
}

void ParamList::add_address(std::string_view name, uint64_t* field, uint64_t max,
                            std::string_view help, std::string_view source) {
  if (accepted_plainly(*field <= max)) return;
  auto accepted = [max] { return "an address in 0x0.." + format_hex(max) + " (hex with 0x, or decimal)"; };
  auto apply = [field, max, accepted](const std::string& t) -> std::string {
    uint64_t v;
    if (!parse_uint(t, &v)) return "'" + t + "' is not " + accepted();
    if (v > max) return t + " is out of range: expected " + accepted();
    *field = v;
    return "";
  };
  auto current = [field]() -> std::string { return format_hex(*field); };
  push(ParamSpec{full(name), ParamKind::Address, current(), "address", std::string(help), accepted(),
                 std::move(apply), std::move(current), std::string(source)});
}

void ParamList::add_choice(const std::string& name, std::string* field,
                           const std::vector<std::string>& choices, const std::string& help,
                           const std::string& source) {
  if (accepted_plainly(std::find(choices.begin(), choices.end(), *field) != choices.end())) return;
  std::string accepted = "one of:";
  for (size_t i = 0; i < choices.size(); ++i) accepted += (i ? ", " : " ") + choices[i];
  auto apply = [field, choices, accepted](const std::string& t) -> std::string {
    for (const auto& c : choices)
      if (c == t) { *field = t; return ""; }
    return "'" + t + "' is not " + accepted;
  };
  auto current = [field]() -> std::string { return *field; };
  push(ParamSpec{full(name), ParamKind::Choice, current(), "", help, std::move(accepted), std::move(apply),
                 std::move(current), source});
}

void declare_param(ParamList& p, std::string_view key, uint64_t* field, const accepts::AddressUpTo& range,
                   std::string_view unit, std::string_view help, std::string_view source) {
  p.add_address(key, field, range.max, help, source);
  p.specs().back().unit = unit;
}

void declare_param(ParamList& p, std::string_view key, bool* field, const accepts::Boolean&,
                   std::string_view unit, std::string_view help, std::string_view source) {
  p.add_bool(key, field, help, source);
  p.specs().back().unit = unit;
}

void declare_param(ParamList& p, std::string_view key, std::string* field, const accepts::AnyText&,
                   std::string_view unit, std::string_view help, std::string_view source) {
  p.add_string(key, field, help, source);
  p.specs().back().unit = unit;
}

void declare_param(ParamList& p, std::string_view key, std::string* field, const accepts::Words& words,
                   std::string_view unit, std::string_view help, std::string_view source) {
  p.add_choice(std::string(key), field, words.words, std::string(help), std::string(source));
  p.specs().back().unit = unit;
}

} // namespace iommusim
