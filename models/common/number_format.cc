// SPDX-License-Identifier: Apache-2.0
#include "common/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace iommusim {

namespace {

bool everyday(double a) { return a == 0 || (a >= 1e-6 && a < 1e12); }

}  // namespace

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[400];  // the longest fixed shortest form of a double below 1e16 fits easily
  const auto fmt = everyday(std::fabs(v)) ? std::chars_format::fixed : std::chars_format::scientific;
  const auto r = std::to_chars(buf, buf + sizeof buf, v, fmt);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::to_string(v);
}

std::string format_significant(double v, int digits) {
  if (!std::isfinite(v) || v == 0) return format_number(v);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", digits > 0 ? digits - 1 : 0, v);  // rounds to `digits` digits
  return format_number(std::strtod(buf, nullptr));
}

}  // namespace iommusim
