#!/bin/sh
# A stand-in for a compiler driver (M2-Mesoplanet) that starts the linker through PATH:
# driver.sh HEX2_INPUT OUTPUT. In `ours` mode the replay puts hexroot's hex2 first on PATH.
set -e
hex2 --architecture amd64 --little-endian --base-address 0x600000 -f "$1" -o "$2"
