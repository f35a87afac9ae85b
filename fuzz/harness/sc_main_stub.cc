// SPDX-License-Identifier: Apache-2.0
// libsystemc's own main() calls sc_main(); a fuzz target's main is
// libFuzzer's, which never does. The library still needs the symbol.
extern "C" int sc_main(int, char*[]) { return 0; }
