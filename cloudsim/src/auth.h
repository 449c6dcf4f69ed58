// Access tokens: what the token endpoint issued, and the check every Graph call makes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "hangar/cloudsim/rng.h"

namespace hangar::cloudsim {

enum class TokenCheck { kOk, kMissing, kMalformed, kExpired, kUnknown };

struct TokenValidation {
  TokenCheck check = TokenCheck::kMissing;
  std::string client_id;  // set unless missing, malformed or unknown
  std::string audience;   // the resource the token was issued for ("https://graph.microsoft.com")
};

class TokenStore {
 public:
  // A JWT-shaped bearer token (header.payload.signature, base64url) with the usual claims, so a
  // client that reads `exp` or redacts "eyJ..." strings behaves as it would with the real service.
  // `audience` is the scope's resource (the scope without "/.default").
  std::string issue(const std::string& client_id, const std::string& tenant_id,
                    const std::string& audience, std::int64_t now_ms, std::int64_t lifetime_ms,
                    Rng& rng);
  // `authorization` is the raw Authorization header value.
  TokenValidation validate(std::string_view authorization, std::int64_t now_ms) const;
  std::uint64_t issued() const { return issued_; }
  void reset_counter() { issued_ = 0; }

 private:
  struct Grant {
    std::string client_id;
    std::int64_t expires_ms = 0;
    std::string audience;
  };
  std::unordered_map<std::string, Grant> tokens_;
  std::uint64_t issued_ = 0;
};

}  // namespace hangar::cloudsim
