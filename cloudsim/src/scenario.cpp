// Scenario JSON: strict parsing (unknown keys and wrong types are errors, named by their path).
#include "hangar/cloudsim/scenario.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "hash.h"

namespace hangar::cloudsim {
namespace {

using nlohmann::json;

struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads one JSON object, remembering which keys were read so leftovers can be reported.
class Reader {
 public:
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) fail("must be an object");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw ScenarioError(path_ + ": " + what);
  }
  const std::string& path() const { return path_; }

  const json* find(const char* key) {
    used_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  void get(const char* key, std::string& out) {
    if (auto* v = find(key)) {
      if (!v->is_string()) fail(std::string(key) + " must be a string");
      out = v->get<std::string>();
    }
  }
  void get(const char* key, bool& out) {
    if (auto* v = find(key)) {
      if (!v->is_boolean()) fail(std::string(key) + " must be true or false");
      out = v->get<bool>();
    }
  }
  void get(const char* key, double& out) {
    if (auto* v = find(key)) {
      if (!v->is_number()) fail(std::string(key) + " must be a number");
      out = v->get<double>();
    }
  }
  void get(const char* key, std::int64_t& out) {
    if (auto* v = find(key)) {
      if (!v->is_number_integer()) fail(std::string(key) + " must be an integer");
      out = v->get<std::int64_t>();
    }
  }
  void get(const char* key, int& out) {
    std::int64_t wide = out;
    get(key, wide);
    out = static_cast<int>(wide);
  }
  template <typename T>
  void get(const char* key, std::vector<T>& out) {
    if (auto* v = find(key)) {
      if (!v->is_array()) fail(std::string(key) + " must be an array");
      out.clear();
      for (const auto& e : *v) {
        bool ok = std::is_same_v<T, std::string> ? e.is_string() : e.is_number_integer();
        if (!ok) fail(std::string(key) + " has an element of the wrong type: " + e.dump());
        out.push_back(e.get<T>());
      }
    }
  }

  // Reads each element of the array `key` with `read_one(element, path)`.
  template <typename T, typename F>
  void get_array(const char* key, std::vector<T>& out, F read_one) {
    if (auto* v = find(key)) {
      if (!v->is_array()) fail(std::string(key) + " must be an array");
      out.clear();
      for (std::size_t i = 0; i < v->size(); ++i) {
        out.push_back(read_one((*v)[i], path_ + "." + key + "[" + std::to_string(i) + "]"));
      }
    }
  }

  // A nested object read by `read`, then checked for leftovers.
  template <typename F>
  void get_object(const char* key, F read) {
    if (auto* v = find(key)) {
      Reader nested(*v, path_ + "." + key);
      read(nested);
      nested.finish();
    }
  }

  void finish() const {
    for (const auto& item : object_.items()) {
      if (!used_.count(item.key())) fail("unknown key '" + item.key() + "'");
    }
  }

 private:
  const json& object_;
  std::string path_;
  std::set<std::string> used_;
};

void read_budget(Reader& r, Budget& out) {
  r.get("limit", out.limit);
  r.get("window_seconds", out.window_seconds);
  if (out.limit < 1 || out.window_seconds <= 0) r.fail("limit and window_seconds must be > 0");
}

// A pattern that matches no endpoint is a typo ("imported.imprt"): the faults it names would
// never strike, and a failure test would pass for the wrong reason (black-box round 7).
void check_patterns(const Reader& r, const char* key, const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns) {
    const bool known = std::any_of(endpoint_ids().begin(), endpoint_ids().end(),
                                   [&](const auto& id) { return endpoint_matches({pattern}, id); });
    if (!known) {
      r.fail(std::string(key) + ": '" + pattern +
             "' matches no endpoint (use *, graph, an endpoint id such as imported.import, or a "
             "prefix ending in * such as imported.*; hangar-cloudsim's README lists the ids)");
    }
  }
}

Rule read_rule(const json& j, const std::string& path) {
  Reader r(j, path);
  Rule rule;
  std::string description;  // free text for whoever reads the scenario
  r.get("description", description);
  r.get("serial", rule.serial);
  r.get("serial_prefix", rule.serial_prefix);
  r.get("error", rule.error);
  r.get("code", rule.code);
  rule.times = -1;
  r.get("times", rule.times);
  r.get("delay_seconds", rule.delay_seconds);
  if (auto* v = r.find("group_tag")) {
    if (!v->is_string()) r.fail("group_tag must be a string");
    rule.group_tag = v->get<std::string>();
  }
  r.get("profile_status", rule.profile_status);
  r.finish();
  if (rule.serial.empty() && rule.serial_prefix.empty()) r.fail("needs serial or serial_prefix");
  if (rule.times < 0) rule.times = rule.error == "StorageError" ? 1 : 0;
  return rule;
}

SeedDevice read_device(const json& j, const std::string& path) {
  Reader r(j, path);
  SeedDevice d;
  r.get("id", d.id);
  r.get("serial_number", d.serial_number);
  r.get("hardware_hash", d.hardware_hash);
  r.get("group_tag", d.group_tag);
  r.get("manufacturer", d.manufacturer);
  r.get("model", d.model);
  r.get("user_principal_name", d.user_principal_name);
  r.get("profile_status", d.profile_status);
  r.get_object("managed", [&](Reader& m) {
    SeedDevice::Managed managed;
    m.get("id", managed.id);
    m.get("device_name", managed.device_name);
    m.get("last_sync_days_ago", managed.last_sync_days_ago);
    d.managed = managed;
  });
  r.finish();
  if (d.serial_number.empty()) r.fail("serial_number is required");
  if (!d.hardware_hash.empty() && !decode_edm_binary(d.hardware_hash)) {
    r.fail("hardware_hash is not valid base64");
  }
  return d;
}

OemDevice read_oem_device(const json& j, const std::string& path) {
  Reader r(j, path);
  OemDevice d;
  r.get("serial_number", d.serial_number);
  r.get("manufacturer", d.manufacturer);
  r.get("model", d.model);
  r.finish();
  if (d.serial_number.empty()) r.fail("serial_number is required");
  return d;
}

SeedUser read_user(const json& j, const std::string& path) {
  Reader r(j, path);
  SeedUser u;
  r.get("id", u.id);
  r.get("user_principal_name", u.user_principal_name);
  r.get("display_name", u.display_name);
  r.get("licenses", u.licenses);
  r.finish();
  if (u.user_principal_name.empty()) r.fail("user_principal_name is required");
  return u;
}

SeedSku read_sku(const json& j, const std::string& path) {
  Reader r(j, path);
  SeedSku sku;
  r.get("sku_id", sku.sku_id);
  r.get("sku_part_number", sku.sku_part_number);
  r.finish();
  if (sku.sku_id.empty() || sku.sku_part_number.empty()) {
    r.fail("sku_id and sku_part_number are required");
  }
  return sku;
}

SeedGroup read_group(const json& j, const std::string& path) {
  Reader r(j, path);
  SeedGroup g;
  r.get("id", g.id);
  r.get("display_name", g.display_name);
  r.get("membership_rule", g.membership_rule);
  r.get("members", g.members);
  r.finish();
  return g;
}

bool valid_rate(double rate) { return rate >= 0 && rate <= 1; }

Scenario parse_or_throw(const json& document) {
  Scenario s;
  Reader root(document, "scenario");
  std::string description;
  root.get("description", description);
  auto seed = static_cast<std::int64_t>(s.seed);
  root.get("seed", seed);
  s.seed = static_cast<std::uint64_t>(seed);
  root.get("time_scale", s.time_scale);
  if (s.time_scale <= 0) root.fail("time_scale must be > 0");

  root.get_object("auth", [&](Reader& r) {
    r.get("tenant_id", s.auth.tenant_id);
    r.get("token_lifetime_seconds", s.auth.token_lifetime_seconds);
    r.get_array("apps", s.auth.apps, [](const json& j, const std::string& path) {
      Reader a(j, path);
      AppCredential app;
      a.get("client_id", app.client_id);
      a.get("client_secret", app.client_secret);
      a.finish();
      if (app.client_id.empty() || app.client_secret.empty()) {
        a.fail("client_id and client_secret are required");
      }
      return app;
    });
    if (s.auth.tenant_id.empty()) r.fail("tenant_id must not be empty");
    if (s.auth.token_lifetime_seconds < 1) r.fail("token_lifetime_seconds must be >= 1");
  });
  root.get_object("import", [&](Reader& r) {
    r.get("max_devices_per_call", s.import.max_devices_per_call);
    r.get("validate_hash", s.import.validate_hash);
    r.get("serial_filter_status", s.import.serial_filter_status);
    const int status = s.import.serial_filter_status;
    if (status != 0 && status != 400 && status != 501) {
      r.fail("serial_filter_status must be 0, 400 or 501");
    }
    if (s.import.max_devices_per_call < 1) r.fail("max_devices_per_call must be >= 1");
  });
  root.get_object("registration", [&](Reader& r) {
    r.get("delay_seconds", s.registration.delay_seconds);
    r.get("jitter_seconds", s.registration.jitter_seconds);
    r.get("profile_delay_seconds", s.registration.profile_delay_seconds);
    r.get("profile_status", s.registration.profile_status);
    if (s.registration.delay_seconds < 0 || s.registration.jitter_seconds < 0 ||
        s.registration.profile_delay_seconds < 0) {
      r.fail("delays must be >= 0");
    }
  });
  root.get_object("paging", [&](Reader& r) {
    r.get("page_size", s.paging.page_size);
    r.get("max_page_size", s.paging.max_page_size);
    r.get("directory_page_size", s.paging.directory_page_size);
    r.get("directory_max_page_size", s.paging.directory_max_page_size);
    if (s.paging.page_size < 1 || s.paging.max_page_size < 1 || s.paging.directory_page_size < 1 ||
        s.paging.directory_max_page_size < 1) {
      r.fail("sizes must be >= 1");
    }
  });
  root.get_object("throttling", [&](Reader& r) {
    r.get("enabled", s.throttling.enabled);
    r.get_object("writes", [&](Reader& b) { read_budget(b, s.throttling.writes); });
    r.get_object("requests", [&](Reader& b) { read_budget(b, s.throttling.requests); });
    r.get("omit_retry_after", s.throttling.omit_retry_after);
    check_patterns(r, "omit_retry_after", s.throttling.omit_retry_after);
    r.get("omit_retry_after_rate", s.throttling.omit_retry_after_rate);
    if (!valid_rate(s.throttling.omit_retry_after_rate)) {
      r.fail("omit_retry_after_rate must be between 0 and 1");
    }
  });
  root.get_object("faults", [&](Reader& r) {
    auto& f = s.faults;
    r.get("endpoints", f.endpoints);
    check_patterns(r, "endpoints", f.endpoints);
    r.get("error_rate", f.error_rate);
    r.get("error_statuses", f.error_statuses);
    r.get("latency_ms", f.latency_ms);
    r.get("jitter_ms", f.jitter_ms);
    r.get("drop_rate", f.drop_rate);
    r.get("drop_after_rate", f.drop_after_rate);
    r.get("malformed_rate", f.malformed_rate);
    for (double rate : {f.error_rate, f.drop_rate, f.drop_after_rate, f.malformed_rate}) {
      if (!valid_rate(rate)) r.fail("rates must be between 0 and 1");
    }
    if (f.error_statuses.empty()) r.fail("error_statuses must not be empty");
    for (int status : f.error_statuses) {
      if (status < 500 || status > 599) r.fail("error_statuses must be 5xx");
    }
    if (f.latency_ms < 0 || f.jitter_ms < 0) r.fail("latency_ms and jitter_ms must be >= 0");
  });
  root.get_object("lenient", [&](Reader& r) {
    auto& l = s.lenient;
    r.get("autopilot_select", l.autopilot_select);
    r.get("any_filter", l.any_filter);
    r.get("pending_status", l.pending_status);
    r.get("import_id_per_call", l.import_id_per_call);
    r.get("echo_hardware_identifier", l.echo_hardware_identifier);
    r.get("plain_intune_errors", l.plain_intune_errors);
    r.get("always_retry_after", l.always_retry_after);
    r.get("entra_object_at_enrollment", l.entra_object_at_enrollment);
    r.get("any_token_audience", l.any_token_audience);
  });
  root.get_array("refusals", s.refusals, [](const json& j, const std::string& path) {
    Reader r(j, path);
    RefusalRule rule;
    r.get("endpoint", rule.endpoint);
    r.get("query", rule.query);
    r.get("status", rule.status);
    r.get("times", rule.times);
    r.finish();
    if (rule.endpoint.empty()) r.fail("endpoint is required (an endpoint id or pattern)");
    check_patterns(r, "endpoint", {rule.endpoint});
    if (rule.status != 400 && rule.status != 500 && rule.status != 501) {
      r.fail("status must be 400, 500 or 501");
    }
    if (rule.times < 0) r.fail("times must be >= 0");
    return rule;
  });
  root.get_array("rules", s.rules, read_rule);
  root.get_object("tenant", [&](Reader& r) {
    r.get_array("devices", s.devices, read_device);
    r.get_array("oem_devices", s.oem_devices, read_oem_device);
    r.get_array("users", s.users, read_user);
    r.get_array("skus", s.skus, read_sku);
    r.get_array("groups", s.groups, read_group);
  });
  root.finish();
  return s;
}

}  // namespace

bool Rule::matches(const std::string& serial_number) const {
  if (!serial.empty() && serial != serial_number) return false;
  if (!serial_prefix.empty() && serial_number.rfind(serial_prefix, 0) != 0) return false;
  return true;
}

core::Result<Scenario> parse_scenario(const nlohmann::json& document) {
  try {
    return parse_or_throw(document);
  } catch (const ScenarioError& e) {
    return core::make_error("scenario_invalid", e.what());
  } catch (const json::exception& e) {
    return core::make_error("scenario_invalid", std::string("scenario: ") + e.what());
  }
}

core::Result<Scenario> load_scenario_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::make_error("scenario_invalid",
                            "cannot read scenario file " + path.string() + ": check the path");
  }
  std::stringstream text;
  text << in.rdbuf();
  json document = json::parse(text.str(), nullptr, false);
  if (document.is_discarded()) {
    return core::make_error("scenario_invalid", path.string() + " is not valid JSON");
  }
  auto parsed = parse_scenario(document);
  if (!parsed) {
    return core::make_error("scenario_invalid", path.string() + ": " + parsed.error().message);
  }
  return parsed;
}

const std::vector<std::string>& endpoint_ids() {
  // The README's endpoint table, and the two ids of requests no endpoint takes.
  static const std::vector<std::string> ids{"token",
                                            "imported.import",
                                            "imported.list",
                                            "imported.get",
                                            "imported.delete",
                                            "autopilot.list",
                                            "autopilot.get",
                                            "autopilot.delete",
                                            "autopilot.updateDeviceProperties",
                                            "autopilot.assignUserToDevice",
                                            "managedDevices.list",
                                            "managedDevices.get",
                                            "users.get",
                                            "subscribedSkus.list",
                                            "groups.members.list",
                                            "groups.members.add",
                                            "groups.members.remove",
                                            "devices.list",
                                            "devices.get",
                                            "graph.unknown",
                                            "graph.method_not_allowed"};
  return ids;
}

bool endpoint_matches(const std::vector<std::string>& patterns, const std::string& endpoint) {
  for (const auto& p : patterns) {
    if (p == "*" || p == endpoint) return true;
    if (p == "graph" && endpoint != "token") return true;
    if (!p.empty() && p.back() == '*' && endpoint.rfind(p.substr(0, p.size() - 1), 0) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace hangar::cloudsim
