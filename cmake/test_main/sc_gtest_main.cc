// SPDX-License-Identifier: Apache-2.0
// GoogleTest entry point for binaries that link SystemC: libsystemc owns main()
// and calls sc_main(), so the test runner starts here.
#include <cstdlib>

#include <gtest/gtest.h>
#include <systemc>

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
