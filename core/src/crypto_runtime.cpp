// OpenSSL started without its exit-time cleanup (see crypto_runtime.h).
#include "hangar/core/crypto_runtime.h"

#ifndef _WIN32
#include <openssl/crypto.h>

#include <mutex>
#endif

namespace hangar::core {

void start_crypto_library() {
#ifndef _WIN32
  // OpenSSL takes the choice of exit handler from its first initialisation only.
  static std::once_flag once;
  std::call_once(once, [] { OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr); });
#endif
}

}  // namespace hangar::core
