# SPDX-License-Identifier: Apache-2.0
"""The configurations the scaling benches build: N endpoints of one kind on
one platform, each endpoint's work small (or set by the caller), so that what
grows with N is the simulator's own cost. bench/startup_scaling.sh and
bench/map_scaling.sh import it."""


def system(name, list_key, names, extra=""):
    return f"[system]\nplatform = {name}\nseed = 1\n{list_key} = " + ",".join(names) + "\n" + extra + "\n"


def simple(n):
    names = [f"tg{i}" for i in range(n)]
    return system("simple", "endpoints", names) + "".join(
        f"[tg{i}]\nop = read\nsize = 64\ncount = 10\n\n" for i in range(n))


def vtd_tg(n):
    names = [f"tg{i}" for i in range(n)]
    return system("x86-vtd", "endpoints", names) + "".join(
        f"[tg{i}]\nkind = tg\nrequester_id = {0x100 + i:#x}\nop = read\nsize = 64\ncount = 10\nwindow_size = 64K\n\n"
        for i in range(n))


def vtd_workload(n, count=16, before="", body=""):
    """N streaming workloads, each with its own requester id and IOAS, `count`
    buffers from a pool of 4; `before` goes between [system] and the
    endpoints' sections, `body` into each endpoint's."""
    names = [f"ep{i}" for i in range(n)]
    return system("x86-vtd", "endpoints", names) + before + "".join(
        f"[ep{i}]\nworkload = streaming\naddress_space = {i + 1}\nrid = {0x100 + i:#x}\n{body}"
        f"count = {count}\nbuffers = 4\n\n" for i in range(n))


# A pSeries bridge owns 16 buses from bus 16 k and PEs 0..511: 256 endpoints
# per bridge, on its second bus, each in a PE of its own. Every PE's default
# window is 16 MiB (a 32 KiB TCE table), so that 4096 PEs' tables fit the
# hypervisor's 1 GiB (2 GiB windows take 4 MiB each).
PER_PHB = 256


def pseries(n, body):
    phbs = [f"phb{k}" for k in range((n + PER_PHB - 1) // PER_PHB)]
    names = [f"ep{i}" for i in range(n)]
    text = system("pseries", "endpoints", names, "phbs = " + ",".join(phbs) + "\n")
    text += "[hv]\nphb.default_window = 16M\n\n"
    for i in range(n):
        k, j = divmod(i, PER_PHB)
        text += (f"[ep{i}]\nunit = phb{k}\npe = {j + 1}\nrequester_id = {((16 * k + 1) << 8) | j:#x}\n"
                 f"{body}\n")
    return text


def pseries_tg(n):
    return pseries(n, "kind = tg\nop = read\nsize = 64\ncount = 10\nwindow_base = 0x100000\nwindow_size = 64K\n")


def s390(kind):
    def config(n):
        names = [f"d{i}" for i in range(n)]
        return system("s390", "devices", names) + "".join(
            f"[d{i}]\nkind = {kind}\ncount = 1\ncu = {i % 256}\n\n" for i in range(n))
    return config


PLATFORMS = {"simple": simple, "x86-vtd-tg": vtd_tg, "x86-vtd-workload": vtd_workload, "pseries-tg": pseries_tg,
             "s390-block": s390("block"), "s390-stream": s390("stream")}
