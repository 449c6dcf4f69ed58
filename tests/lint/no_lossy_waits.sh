#!/usr/bin/env bash
# Fails when product code uses a C++20 wait that can lose its wake-up in the Windows build:
# std::stop_callback (also behind condition_variable_any's stop_token waits and jthread's
# stop_token), semaphores, latches, barriers and atomic waits all sleep in libstdc++ 12's waiter
# pool, which can miss a notification for ever under mingw-w64 (core/include/hangar/core/stop.h).
# Use core::StopSource / core::Wakeup / core::StopThread instead.
set -euo pipefail
root=${1:?usage: no_lossy_waits.sh SOURCE_DIR}
pattern='std::stop_token|std::stop_callback|std::stop_source|condition_variable_any|counting_semaphore|binary_semaphore|std::latch|std::barrier|atomic_wait|\.wait\([^)]*\bold\b'
found=$(grep -rnE "$pattern" "$root"/core "$root"/intake "$root"/store "$root"/ipc "$root"/cloud "$root"/cloudsim \
          "$root"/service "$root"/tray "$root"/client-cli --include='*.cpp' --include='*.h' \
        | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)  # comments may name them
if [[ -n "$found" ]]; then
  echo "no_lossy_waits: these waits can lose a wake-up under mingw-w64 (see core/stop.h):"
  echo "$found"
  exit 1
fi
echo "no_lossy_waits: none in $root"
