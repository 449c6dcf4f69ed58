// Secret redaction (see redact.h).
#include "redact.h"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace hangar::service {

namespace {

constexpr std::string_view kRedacted = "[redacted]";

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::vector<std::string>& registry() {
  static std::vector<std::string> secrets;
  return secrets;
}

bool token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}

bool base64url_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '.';
}

bool iequal_at(std::string_view text, std::size_t at, std::string_view word) {
  if (at + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) !=
        std::tolower(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  return true;
}

void replace_all(std::string& text, std::string_view needle) {
  if (needle.empty()) return;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at)) {
    text.replace(at, needle.size(), kRedacted);
    at += kRedacted.size();
  }
}

// "Bearer <token>" (any case): the token goes.
void redact_bearer(std::string& text) {
  for (std::size_t at = 0; at + 7 < text.size(); ++at) {
    if (!iequal_at(text, at, "bearer")) continue;
    std::size_t start = at + 6;
    if (start >= text.size() || (text[start] != ' ' && text[start] != '\t')) continue;
    while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
    std::size_t end = start;
    while (end < text.size() && token_char(text[end])) ++end;
    // Real tokens are long; "bearer token" in a sentence is not one.
    if (end - start < 8) continue;
    text.replace(start, end - start, kRedacted);
    at = start + kRedacted.size() - 1;
  }
}

// JWTs (what Entra ID and the simulator issue) start with base64url("{\"") = "eyJ".
void redact_jwt(std::string& text) {
  for (auto at = text.find("eyJ"); at != std::string::npos; at = text.find("eyJ", at)) {
    std::size_t end = at;
    while (end < text.size() && base64url_char(text[end])) ++end;
    if (end - at >= 16) {
      text.replace(at, end - at, kRedacted);
      at += kRedacted.size();
    } else {
      at = end;
    }
  }
}

// client_secret=VALUE (a token request's form), "client_secret": "VALUE" (JSON), and the same
// for access and refresh tokens.
void redact_fields(std::string& text) {
  for (std::string_view key : {"client_secret", "access_token", "refresh_token"}) {
    for (std::size_t at = 0; at < text.size(); ++at) {
      if (!iequal_at(text, at, key)) continue;
      std::size_t start = at + key.size();
      std::size_t separators = 0;
      bool assigned = false;
      char quote = 0;  // the value's opening quote, once assigned
      while (start < text.size() && separators < 6 &&
             (text[start] == '"' || text[start] == '\'' || text[start] == ' ' ||
              text[start] == ':' || text[start] == '=')) {
        assigned = assigned || text[start] == ':' || text[start] == '=';
        if (assigned && (text[start] == '"' || text[start] == '\'')) quote = text[start];
        ++start;
        ++separators;
      }
      if (!assigned) continue;
      std::size_t end = start;
      if (quote != 0) {
        // A quoted value ends at its closing quote (spaces and all).
        while (end < text.size() && text[end] != quote && text[end] != '\n') ++end;
      } else {
        while (end < text.size() && text[end] != '&' && text[end] != ',' && text[end] != '}' &&
               text[end] != ' ' && text[end] != '\n' && text[end] != '\r' && text[end] != '\t' &&
               text[end] != '"' && text[end] != '\'') {
          ++end;
        }
      }
      if (end == start || text.compare(start, end - start, kRedacted) == 0) continue;
      text.replace(start, end - start, kRedacted);
      at = start + kRedacted.size() - 1;
    }
  }
}

}  // namespace

void register_secret(std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard lock(registry_mutex());
  auto& secrets = registry();
  if (std::find(secrets.begin(), secrets.end(), secret) == secrets.end()) {
    secrets.emplace_back(secret);
    // Longest first, so a secret that contains another is blanked whole.
    std::sort(secrets.begin(), secrets.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
}

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& secret : secrets) {
    if (secret.size() >= 4) replace_all(out, secret);
  }
  redact_bearer(out);
  redact_jwt(out);
  redact_fields(out);
  return out;
}

std::string redact(std::string_view text) {
  // Redacting under the lock: a copy of the list would be one more copy of every secret.
  std::lock_guard lock(registry_mutex());
  return redact(text, registry());
}

}  // namespace hangar::service
