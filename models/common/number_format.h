// SPDX-License-Identifier: Apache-2.0
// Numbers as people write them: 1000, 0.25, 2750000, never 1e+03 or 2.75e+06
// for a value of an everyday size. Shared by the parameter help, the effective
// config.ini, and the run summary.
#pragma once

#include <string>

namespace iommusim {

// The shortest text that reads back as exactly `v`, in plain decimal notation
// for 1e-6 <= |v| < 1e12 (and 0), in scientific notation beyond, where
// counting zeros is no longer reading; "nan", "inf".
std::string format_number(double v);

// `v` rounded to `digits` significant digits, in plain decimal notation below
// 1e12 (2.7534e6 with 3 digits -> "2750000"; 0.0012345 -> "0.00123").
std::string format_significant(double v, int digits);

}  // namespace iommusim
