// SPDX-License-Identifier: Apache-2.0
#include "common/number_format.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include <gtest/gtest.h>

using namespace iommusim;

TEST(NumberFormat, EverydayValuesInPlainNotation) {
  EXPECT_EQ(format_number(1000), "1000");
  EXPECT_EQ(format_number(80), "80");
  EXPECT_EQ(format_number(25.6), "25.6");
  EXPECT_EQ(format_number(0.001), "0.001");
  EXPECT_EQ(format_number(1e9), "1000000000");
  EXPECT_EQ(format_number(5e11), "500000000000");
  EXPECT_EQ(format_number(-2.5), "-2.5");
  EXPECT_EQ(format_number(0), "0");
}

TEST(NumberFormat, ExtremesInScientificNotation) {
  EXPECT_EQ(format_number(1e12), "1e+12");
  EXPECT_EQ(format_number(1e15), "1e+15");
  EXPECT_EQ(format_number(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_number(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(format_number(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(NumberFormat, RoundTripsExactly) {
  for (double v : {0.1, 1.0 / 3.0, 8088.5520000000015, 123456789.123, 3e-6, 57.88476562673236})
    EXPECT_EQ(std::strtod(format_number(v).c_str(), nullptr), v) << format_number(v);
}

TEST(NumberFormat, SignificantDigitsWithoutExponent) {
  EXPECT_EQ(format_significant(2.7534e6, 3), "2750000");
  EXPECT_EQ(format_significant(26730000.4, 4), "26730000");
  EXPECT_EQ(format_significant(0.0012345, 3), "0.00123");
  EXPECT_EQ(format_significant(1449.7, 3), "1450");
  EXPECT_EQ(format_significant(0, 3), "0");
}
