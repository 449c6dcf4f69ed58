// Starting OpenSSL (POSIX builds) so it outlives the process's exit handlers.
#pragma once

namespace hangar::core {

// Initialises libcrypto without its exit-time cleanup. cpprest's thread pool may still be freeing
// TLS objects (a handshake's keys) while the exit handlers run and join its threads; OpenSSL's own
// handler, run before that join, would already have destroyed the locks those frees take, and the
// pool thread then spins on a freed lock forever (seen: a test process at 100% CPU after its last
// test passed). The operating system reclaims the memory instead. Must run before anything else
// starts OpenSSL: both users in Hangar (SHA-256 and the cpprest transport) call it first. Safe to
// call any number of times, from any thread. Does nothing on Windows (CNG and WinHTTP).
void start_crypto_library();

}  // namespace hangar::core
