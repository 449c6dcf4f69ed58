// Token issue and validation (see auth.h).
#include "auth.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "text.h"

namespace hangar::cloudsim {

std::string TokenStore::issue(const std::string& client_id, const std::string& tenant_id,
                              const std::string& audience, std::int64_t now_ms,
                              std::int64_t lifetime_ms, Rng& rng) {
  // Forget tokens that expired an hour ago so a long run does not grow without bound; a client
  // presenting one still gets "unknown token", which is also a 401.
  std::erase_if(tokens_,
                [&](const auto& entry) { return entry.second.expires_ms + 3'600'000 < now_ms; });
  nlohmann::json header{{"typ", "JWT"}, {"alg", "RS256"}, {"kid", "hangar-cloudsim"}};
  nlohmann::json payload{{"aud", audience},
                         {"iss", "https://sts.windows.net/" + tenant_id + "/"},
                         {"iat", now_ms / 1000},
                         {"nbf", now_ms / 1000},
                         {"exp", (now_ms + lifetime_ms) / 1000},
                         {"appid", client_id},
                         {"tid", tenant_id},
                         {"roles", {"DeviceManagementServiceConfig.ReadWrite.All"}},
                         {"uti", rng.token(22)}};
  std::string token = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump()) +
                      "." + rng.token(86);
  tokens_[token] = Grant{client_id, now_ms + lifetime_ms, audience};
  ++issued_;
  return token;
}

TokenValidation TokenStore::validate(std::string_view authorization, std::int64_t now_ms) const {
  std::string value = trim(authorization);
  if (value.empty()) return {TokenCheck::kMissing, {}};
  if (!istarts_with(value, "Bearer ")) return {TokenCheck::kMalformed, {}};
  std::string token = trim(std::string_view(value).substr(7));
  if (token.empty()) return {TokenCheck::kMissing, {}};
  if (std::count(token.begin(), token.end(), '.') != 2) return {TokenCheck::kMalformed, {}};
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return {TokenCheck::kUnknown, {}};
  if (it->second.expires_ms <= now_ms) {
    return {TokenCheck::kExpired, it->second.client_id, it->second.audience};
  }
  return {TokenCheck::kOk, it->second.client_id, it->second.audience};
}

}  // namespace hangar::cloudsim
