#!/usr/bin/env python3
"""An ExaBGP API process that sends route commands when the recording script says so.

Usage (from an ExaBGP `process` block): exabgp-feed.py GO_FILE COMMANDS_FILE

Waits until GO_FILE exists, then writes each non-empty line of COMMANDS_FILE to ExaBGP (its standard
output is ExaBGP's API input), 0.3 s apart so every command becomes its own UPDATE, writes "sent" to
GO_FILE.done, and then reads ExaBGP's acknowledgements until ExaBGP closes the pipe. Lines starting with
"sleep N" pause for N seconds instead.
"""
import os
import sys
import time


def main():
    go, commands = sys.argv[1], sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.05)
    with open(commands) as f:
        lines = [line.strip() for line in f if line.strip()]
    for line in lines:
        if line.startswith("sleep "):
            time.sleep(float(line.split()[1]))
            continue
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        time.sleep(0.3)
    with open(go + ".done", "w") as f:
        f.write("sent\n")
    for _ in sys.stdin:
        pass


if __name__ == "__main__":
    main()
