#!/usr/bin/env python3
"""CPU seconds a command costs the host, counted in cgroups, so that
other work on the machine does not count: the command runs in a cgroup of
its own (its children too: the shims berth spawns stay in it), and the
containers it starts are counted in the cgroups they get (every cgroup
that appears elsewhere while it runs; only the innermost, as a cgroup's
usage includes its children's). cgroup v1 (cpuacct) or v2 (cpu.stat).
Then DOWN runs (not counted) and the cgroup goes.
Usage: bench/cgcpu.py COMMAND DOWN   (as root; prints the CPU seconds)"""
import os, subprocess, sys

V1 = "/sys/fs/cgroup/cpuacct"
V2 = "/sys/fs/cgroup"
v1 = os.path.isfile(os.path.join(V1, "cpuacct.usage"))
top = V1 if v1 else V2


def usage(d):
    """CPU nanoseconds of cgroup directory d (0 when it is gone)."""
    try:
        if v1:
            return int(open(os.path.join(d, "cpuacct.usage")).read())
        for line in open(os.path.join(d, "cpu.stat")):
            k, v = line.split()
            if k == "usage_usec":
                return int(v) * 1000
    except OSError:
        pass
    return 0


def cgroups():
    out = set()
    for root, dirs, files in os.walk(top):
        if ("cpuacct.usage" if v1 else "cpu.stat") in files:
            out.add(root)
    return out


before = cgroups()
own = os.path.join(top, "berth-bench-cpu-%d" % os.getpid())
os.mkdir(own)
try:
    subprocess.run(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec sh -c "$1"', own, sys.argv[1]],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new = sorted(d for d in cgroups() - before if d != own and not d.startswith(own + "/"))
    leaves = [d for d in new if not any(o != d and o.startswith(d + "/") for o in new)]
    total = usage(own) + sum(usage(d) for d in leaves)
    print("%.3f" % (total / 1e9))
finally:
    subprocess.run(["sh", "-c", sys.argv[2]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # What still runs in it (a shim that outlived DOWN) goes back to the
    # root cgroup; cgroups made below it (runc's, relative) go with it.
    for root, dirs, files in sorted(os.walk(own), key=lambda t: -len(t[0])):
        for pid in open(os.path.join(root, "cgroup.procs")).read().split():
            try:
                with open(os.path.join(top, "cgroup.procs"), "w") as f:
                    f.write(pid)
            except OSError:
                pass  # gone meanwhile
        os.rmdir(root)
