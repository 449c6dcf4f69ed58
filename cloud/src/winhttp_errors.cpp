// WinHTTP's "never sent" codes (winhttp_errors.h).
#include "hangar/cloud/winhttp_errors.h"

namespace hangar::cloud::winhttp {

bool never_sent(std::uint32_t code) {
  switch (code) {
    case kInvalidUrl:
    case kUnrecognizedScheme:
    case kNameNotResolved:
    case kCannotConnect:
    case kSecureCertDateInvalid:
    case kSecureCertCnInvalid:
    case kSecureInvalidCa:
    case kSecureCertRevFailed:
    case kSecureChannelError:
    case kSecureInvalidCert:
    case kSecureCertRevoked:
    case kSecureFailure:
    case kSecureCertWrongUsage:
      return true;
    default:
      return false;
  }
}

}  // namespace hangar::cloud::winhttp
