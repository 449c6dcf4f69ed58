// The cloud's failure vocabulary (cloud_error.h): names, codes, and the one reading of an error
// answer.
#include "hangar/cloud/cloud_error.h"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

namespace hangar::cloud {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<Failure, std::string_view>, 20> kNames{{
    {Failure::kNone, "none"},
    {Failure::kNetwork, "network"},
    {Failure::kTimeout, "timeout"},
    {Failure::kInsecureUrl, "insecure_url"},
    {Failure::kNotConfigured, "not_configured"},
    {Failure::kThrottled, "throttled"},
    {Failure::kTransient, "transient"},
    {Failure::kAuth, "auth"},
    {Failure::kInDoubt, "in_doubt"},
    {Failure::kNotFound, "not_found"},
    {Failure::kInvalidHash, "invalid_hash"},
    {Failure::kAlreadyExists, "already_exists"},
    {Failure::kRejected, "rejected"},
    {Failure::kAlreadyRegistered, "already_registered"},
    {Failure::kOtherTenant, "other_tenant"},
    {Failure::kDuplicated, "duplicated"},
    {Failure::kDeviceNotFound, "device_not_found"},
    {Failure::kImportFailed, "import_failed"},
    {Failure::kNotSent, "not_sent"},
    {Failure::kNone, ""},  // an empty name reads back as none too
}};

// Intune wraps a second JSON document in error.message ({"_version": 3, "Message": "... -
// Operation ID (for customer support): ... - Activity ID: ... - Url: ...", ...}): its Message is
// the text a person needs, not the escaped document.
std::string unwrap_intune_message(const std::string& message) {
  const auto start = message.find_first_not_of(" \t\r\n");
  if (start == std::string::npos || message[start] != '{') return message;
  try {
    const Json inner = Json::parse(message);
    if (inner.is_object()) {
      if (auto it = inner.find("Message"); it != inner.end() && it->is_string()) {
        return it->get<std::string>();
      }
    }
  } catch (const Json::exception&) {
  }
  return message;
}

std::string string_at(const Json& json, const char* key) {
  auto it = json.find(key);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool mentions(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

}  // namespace

std::string_view failure_name(Failure failure) {
  for (const auto& [value, name] : kNames) {
    if (value == failure) return name;
  }
  return "none";
}

std::optional<Failure> parse_failure(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

const char* failure_code(Failure failure) {
  switch (failure) {
    case Failure::kNone:
      return "";
    case Failure::kNetwork:
    case Failure::kNotSent:
      return kErrNetwork;
    case Failure::kTimeout:
      return kErrTimeout;
    case Failure::kInsecureUrl:
      return kErrInsecureUrl;
    case Failure::kNotConfigured:
      return kErrNotConfigured;
    case Failure::kThrottled:
      return kErrThrottled;
    case Failure::kTransient:
      return kErrTransient;
    case Failure::kAuth:
      return kErrAuth;
    case Failure::kInDoubt:
      return kErrInDoubt;
    case Failure::kNotFound:
    case Failure::kInvalidHash:
    case Failure::kAlreadyExists:
    case Failure::kRejected:
    case Failure::kAlreadyRegistered:
    case Failure::kOtherTenant:
    case Failure::kDuplicated:
    case Failure::kDeviceNotFound:
    case Failure::kImportFailed:
      return kErrRejected;
  }
  return kErrRejected;
}

Failure failure_of(const core::Error& error) {
  if (error.category > 0 && error.category <= static_cast<int>(Failure::kNotSent)) {
    return static_cast<Failure>(error.category);
  }
  for (Failure coarse : {Failure::kNetwork, Failure::kTimeout, Failure::kInsecureUrl,
                         Failure::kNotConfigured, Failure::kThrottled, Failure::kTransient,
                         Failure::kAuth, Failure::kInDoubt, Failure::kRejected}) {
    if (error.code == failure_code(coarse)) return coarse;
  }
  return Failure::kNone;
}

void set_failure(core::Error& error, Failure failure) {
  error.category = static_cast<int>(failure);
  error.code = failure_code(failure);
}

bool unreachable(const core::Error& error) {
  return error.code == kErrNetwork || error.code == kErrTimeout;
}

bool never_sent(const core::Error& error) {
  // The code too: a cause set and the code overwritten afterwards no longer holds.
  return error.code == kErrNetwork && failure_of(error) == Failure::kNotSent;
}

GraphErrorBody parse_graph_error(std::string_view text) {
  GraphErrorBody out;
  try {
    const Json parsed = Json::parse(text);
    if (parsed.is_object() && parsed.contains("error")) {
      const Json& error = parsed["error"];
      if (error.is_object()) {
        out.code = string_at(error, "code");
        out.message = unwrap_intune_message(string_at(error, "message"));
        if (auto inner = error.find("innerError"); inner != error.end() && inner->is_object()) {
          out.request_id = string_at(*inner, "request-id");
          out.client_request_id = string_at(*inner, "client-request-id");
        }
        out.text = out.code;
        if (!out.message.empty()) out.text += (out.text.empty() ? "" : ": ") + out.message;
        if (!out.text.empty()) return out;
      } else if (error.is_string()) {
        // OAuth2 errors: {"error":"invalid_client","error_description":"AADSTS..."}
        out.code = error.get<std::string>();
        out.message = parsed.value("error_description", "");
        out.text = out.code + ": " + out.message;
        return out;
      }
    }
  } catch (const Json::exception&) {
  }
  out.text = std::string(text.substr(0, 200));
  return out;
}

Failure classify_answer(int status, std::string_view body) {
  if (status == 429) return Failure::kThrottled;
  if (status >= 500) return Failure::kTransient;
  if (status == 401 || status == 403) return Failure::kAuth;
  // A StorageError in the body is the service's own "try again" (DOMAIN.md).
  if (mentions(body, "StorageError")) return Failure::kTransient;
  if (status == 404) return Failure::kNotFound;
  const std::string text = parse_graph_error(body).text;
  // The import refuses a hash that is not padded base64: "Cannot convert the literal '...' to the
  // expected type 'Edm.Binary'" (GRAPH-FACTS.md), or names the property.
  if (mentions(text, "Edm.Binary") || mentions(text, "hardwareIdentifier")) {
    return Failure::kInvalidHash;
  }
  // Adding a member that is one already: "One or more added object references already exist for
  // the following modified properties: 'members'."
  if (status == 400 && mentions(text, "already exist")) return Failure::kAlreadyExists;
  return Failure::kRejected;
}

Failure classify_import_error(std::optional<long long> code, std::string_view name) {
  if ((code && *code == 806) || name == "ZtdDeviceAlreadyAssigned") {
    return Failure::kAlreadyRegistered;
  }
  if ((code && *code == 808) || name == "ZtdDeviceAssignedToOtherTenant") {
    return Failure::kOtherTenant;
  }
  if ((code && *code == 802) || name == "InvalidZtdHardwareHash") return Failure::kInvalidHash;
  if (name == "ZtdDeviceDuplicated") return Failure::kDuplicated;
  if (name == "ZtdDeviceNotFound" || name == "DeviceNotFound") return Failure::kDeviceNotFound;
  if (name == "StorageError") return Failure::kTransient;
  return Failure::kImportFailed;
}

}  // namespace hangar::cloud
