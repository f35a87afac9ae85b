#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints docs/validation.md's window table: the model's BW_DMA_RD curve through
VT-d (a results.csv of regress/sweeps/pciebench_rd_window_vtd.json) beside the
measured one, with the error at every window.

  regress/iommusim_regress.py sweep regress/sweeps/pciebench_rd_window_vtd.json -j 2 --out OUT
  scripts/validation-table.py OUT/results.csv

Measured: pcie-bench (Neugebauer et al., "Understanding PCIe performance for end
host networking", SIGCOMM 2018), NFP-6000, Gen3 x8, Broadwell Xeon E5-2630v4,
intel_iommu=on, superpages off; 64 B random reads, Gb/s, as quoted in issue 10.
"""
import csv
import sys

MEASURED_GBPS = {4096: 31.4, 16384: 32.1, 262144: 32.4, 524288: 22.3, 1048576: 15.2, 1572864: 13.0,
                 2097152: 12.1, 3145728: 11.3, 4194304: 10.9, 8388608: 10.4, 16777216: 10.1,
                 33554432: 9.9, 67108864: 9.8}


def window_name(b):
    return f"{b // 1048576} MiB" if b >= 1048576 and b % 1048576 == 0 else (
        f"{b / 1048576:g} MiB" if b >= 1048576 else f"{b // 1024} KiB")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: validation-table.py RESULTS_CSV")
    with open(sys.argv[1], newline="") as f:
        rows = {int(r["tg0.window_size"]): r for r in csv.DictReader(f) if r["status"] == "pass"}
    print("| window | measured Gb/s | model Gb/s | error | model M DMA/s | IOTLB hit rate | walks | merged misses |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for w, meas in sorted(MEASURED_GBPS.items()):
        r = rows.get(w)
        if r is None:
            print(f"| {window_name(w)} | {meas} | (not run) | | | | | |")
            continue
        model = float(r["system.tg0.throughput_gbps"])
        print(f"| {window_name(w)} | {meas} | {model:.1f} | {100 * (model - meas) / meas:+.0f}% | "
              f"{float(r['system.tg0.transactions_per_s']) / 1e6:.1f} | {float(r['iotlb_hit_rate']):.3f} | "
              f"{r['system.vtd0.walker.walks']} | {r['system.vtd0.iotlb.merged_misses']} |")


if __name__ == "__main__":
    main()
