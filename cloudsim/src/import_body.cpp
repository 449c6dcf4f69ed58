// Import request bodies, validated the way Graph's OData reader does (and with its wording where
// known: the Edm.Binary message for unpadded hashes is the one clients must recognise).
#include "import_body.h"

#include <set>

#include "hash.h"

namespace hangar::cloudsim {
namespace {

using nlohmann::json;

constexpr const char* kEntityType = "microsoft.graph.importedWindowsAutopilotDeviceIdentity";
constexpr const char* kPayloadUnreadable =
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is "
    "of valid JSON format.";

core::Error bad_request(std::string message) {
  return core::make_error("BadRequest", std::move(message));
}

std::string node_kind(const json& value) {
  if (value.is_object()) return "StartObject";
  if (value.is_array()) return "StartArray";
  return "PrimitiveValue";
}

core::Result<std::string> string_property(const json& item, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return bad_request(std::string("Cannot convert a primitive value to the expected type "
                                   "'Edm.String' for property '") +
                       name + "'. See the inner exception for more details.");
  }
  return it->get<std::string>();
}

core::Result<ImportRow> parse_item(const json& item) {
  static const std::set<std::string> kProperties{
      "id",         "orderIdentifier", "serialNumber",
      "productKey", "importId",        "hardwareIdentifier",
      "state",      "groupTag",        "assignedUserPrincipalName"};
  if (!item.is_object()) {
    return bad_request("An unexpected '" + node_kind(item) +
                       "' node was found when reading from the JSON reader. A 'StartObject' node "
                       "was expected.");
  }
  for (const auto& [key, value] : item.items()) {
    if (key == "@odata.type") {
      std::string type = value.is_string() ? value.get<std::string>() : value.dump();
      std::string bare = type.rfind('#', 0) == 0 ? type.substr(1) : type;
      if (bare != kEntityType) {
        return bad_request("A type named '" + bare +
                           "' could not be resolved by the model. When a model is available, each "
                           "type name must resolve to a valid type.");
      }
      continue;
    }
    if (key.find('@') != std::string::npos) continue;  // instance annotations are allowed
    if (!kProperties.count(key)) {
      return bad_request("The property '" + key + "' does not exist on type '" + kEntityType +
                         "'. Make sure to only use property names that are defined by the type "
                         "or mark the type as open type.");
    }
  }
  ImportRow row;
  struct Field {
    const char* name;
    std::string* out;
  };
  for (auto [name, out] : {Field{"serialNumber", &row.serial_number},
                           Field{"productKey", &row.product_key}, Field{"groupTag", &row.group_tag},
                           Field{"assignedUserPrincipalName", &row.assigned_user_principal_name},
                           Field{"importId", &row.import_id}}) {
    auto value = string_property(item, name);
    if (!value) return value.error();
    *out = std::move(*value);
  }
  if (auto it = item.find("state"); it != item.end() && !it->is_null() && !it->is_object()) {
    return bad_request("An unexpected '" + node_kind(*it) +
                       "' node was found for property 'state'. A 'StartObject' node was "
                       "expected.");
  }
  if (auto it = item.find("hardwareIdentifier"); it != item.end() && !it->is_null()) {
    std::string literal = it->is_string() ? it->get<std::string>() : it->dump();
    if (!it->is_string()) {
      return bad_request("Cannot convert the literal '" + literal +
                         "' to the expected type 'Edm.Binary'.");
    }
    if (!literal.empty()) {
      auto bytes = decode_edm_binary(literal);
      if (!bytes) {
        return bad_request("Cannot convert the literal '" + literal +
                           "' to the expected type 'Edm.Binary'.");
      }
      row.hardware_hash = std::move(*bytes);
    }
  }
  if (row.serial_number.empty() && row.hardware_hash) {
    // The hash carries the SMBIOS serial; the service can read it from there.
    row.serial_number = inspect_hash(*row.hardware_hash).serial_number;
  }
  if (row.serial_number.empty()) {
    return bad_request("A device needs a serialNumber or a hardwareIdentifier that contains one.");
  }
  return row;
}

core::Result<json> parse_json(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::exception&) {  // parse_error, or a number out of range
    return bad_request(kPayloadUnreadable);
  }
}

}  // namespace

core::Result<std::vector<ImportRow>> parse_import_body(const std::string& body,
                                                       std::int64_t max_rows) {
  constexpr const char* kParameter = "importedWindowsAutopilotDeviceIdentities";
  auto document = parse_json(body);
  if (!document) return document.error();
  if (!document->is_object()) {
    return bad_request("An unexpected '" + node_kind(*document) +
                       "' node was found when reading from the JSON reader. A 'StartObject' node "
                       "was expected.");
  }
  for (const auto& [key, value] : document->items()) {
    if (key != kParameter) {
      return bad_request("The parameter '" + key +
                         "' in the request payload is not a valid parameter for the operation "
                         "'import'.");
    }
  }
  auto it = document->find(kParameter);
  if (it == document->end() || it->is_null()) {
    return bad_request(std::string("The parameter '") + kParameter +
                       "' is missing or null: the import action needs the list of devices.");
  }
  if (!it->is_array()) {
    return bad_request("An unexpected '" + node_kind(*it) + "' node was found for parameter '" +
                       kParameter + "'. A 'StartArray' node was expected.");
  }
  auto count = static_cast<std::int64_t>(it->size());
  if (count > max_rows) {
    return bad_request("The import contains " + std::to_string(count) + " devices; at most " +
                       std::to_string(max_rows) + " are accepted per call. Split it into batches.");
  }
  std::vector<ImportRow> rows;
  rows.reserve(it->size());
  for (const auto& item : *it) {
    auto row = parse_item(item);
    if (!row) return row.error();
    rows.push_back(std::move(*row));
  }
  return rows;
}

}  // namespace hangar::cloudsim
