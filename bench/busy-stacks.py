#!/usr/bin/env python3
"""Reads the busy samples of a sampled-thread-time trace as a CPU profile.

dotnet-trace's dotnet-sampled-thread-time profile samples every thread, waiting or not; each sample's stack ends in
CPU_TIME (the thread was running managed code) or UNMANAGED_CODE_TIME (native code: a wait, or a system call). The
CPU-sampling profile needs perf_events, which these machines lack, so this keeps the CPU_TIME samples and prints the
methods that hold the most of them, exclusive (the frame under CPU_TIME) and inclusive, and the native time by its
managed caller. Runtime frames (thread-pool spinning, GC suspension) are part of what the process spends, so they stay.

  dotnet-trace convert --format speedscope -o relay.speedscope.json relay.nettrace
  bench/busy-stacks.py relay.speedscope.speedscope.json [TOP]
"""
import collections
import json
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) == 3 else 30
    trace = json.load(open(sys.argv[1]))
    names = [frame["name"] for frame in trace["shared"]["frames"]]
    exclusive, inclusive, native = collections.Counter(), collections.Counter(), collections.Counter()
    busy = 0.0
    for profile in trace["profiles"]:
        stack, last = [], None
        for event in profile["events"]:
            at = event["at"]
            if stack and last is not None and len(stack) > 1:
                spent, leaf = at - last, names[stack[-1]]
                if leaf == "CPU_TIME":
                    busy += spent
                    exclusive[stack[-2]] += spent
                    for frame in set(stack[:-1]):
                        inclusive[frame] += spent
                elif leaf == "UNMANAGED_CODE_TIME":
                    native[stack[-2]] += spent
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            elif stack:
                stack.pop()
    if busy == 0:
        sys.exit("no CPU_TIME samples: is this a dotnet-sampled-thread-time trace?")
    print(f"busy (managed) sample time: {busy / 1000:.1f} s")
    for title, counts, scale in (("exclusive", exclusive, busy), ("inclusive", inclusive, busy)):
        print(f"== {title}, % of busy time")
        for frame, spent in counts.most_common(top):
            print(f"{spent / scale * 100:6.2f}  {names[frame][:160]}")
    print("== native time by managed caller (waits included), s")
    for frame, spent in native.most_common(top):
        print(f"{spent / 1000:8.1f}  {names[frame][:160]}")


if __name__ == "__main__":
    main()
