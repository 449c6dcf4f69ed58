// hangard option parsing: defaults < config file < environment < flags.
#include "hangar/service/options.h"

#include "hangar/core/credential_checks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "hangar/core/device.h"
#include "hangar/core/excerpt.h"
#include "hangar/core/paths.h"
#include "hangar/core/text_wrap.h"
#include "hangar/intake/portal_csv.h"
#include "trust.h"

namespace hangar::service {

namespace {

// The shortest activity pass or group sweep interval: each lists the tenant, so a typo such as
// 0.0000001 must not poll Graph continuously.
constexpr double kShortestIntervalHours = 0.01;

// A poll interval the engine can live with: often enough for a staging room, never a flood.
bool poll_interval_fits(double seconds) {
  return std::isfinite(seconds) && seconds >= 0.5 && seconds <= 86400;
}

using core::make_error;

const std::set<std::string> kLogLevels{"trace", "debug", "info", "warn", "error", "off"};

bool is_guid(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

// "profile_groups": {"standard": "<group object id>", ...}: known profiles, GUIDs, and no group
// twice (a group that is two profiles' would make the sweep move devices back and forth).
core::Status read_profile_groups(const std::filesystem::path& file, const nlohmann::json& value,
                                 std::map<std::string, std::string>& out) {
  const std::string where = file.string() + ": \"profile_groups\"";
  if (!value.is_object()) {
    return make_error("config_error",
                      where +
                          " must be an object mapping profiles to Entra ID group object ids, "
                          "e.g. {\"standard\": \"<group id>\"}");
  }
  std::map<std::string, std::string> groups;
  std::map<std::string, std::string> profile_of;  // group id (lower) -> profile
  for (auto item = value.begin(); item != value.end(); ++item) {
    const auto profile = core::parse_profile(item.key());
    if (!profile) {
      return make_error("config_error", where + ".\"" + item.key() + "\": unknown profile; use " +
                                            std::string(core::profile_spellings()));
    }
    const std::string name(core::cli_name(*profile));
    if (!item.value().is_string() || !is_guid(item.value().get<std::string>())) {
      return make_error("config_error", where + ".\"" + item.key() +
                                            "\" must be the group's object id, a GUID (Entra "
                                            "ID > Groups > the group > Object ID)");
    }
    std::string id = item.value().get<std::string>();
    std::string folded = id;
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (groups.contains(name)) {
      return make_error("config_error",
                        where + ".\"" + item.key() + "\": profile " + name + " is given twice");
    }
    if (auto other = profile_of.find(folded); other != profile_of.end()) {
      return make_error("config_error", where + ".\"" + item.key() + "\": group " + id +
                                            " is also " + other->second +
                                            "'s; each profile needs its own group");
    }
    profile_of.emplace(folded, name);
    groups.emplace(name, std::move(id));
  }
  out = std::move(groups);
  return {};
}

// "tag_profiles": {"<group tag>": "standard", ...}: the profile of partner-registered devices
// that carry the tag. Tags compare without case (as the activity pass compares them), so "Lab" and
// "lab" are one tag mapped twice; each must be a tag the portal's CSV can carry.
core::Status read_tag_profiles(const std::filesystem::path& file, const nlohmann::json& value,
                               std::map<std::string, std::string>& out) {
  const std::string where = file.string() + ": \"tag_profiles\"";
  if (!value.is_object()) {
    return make_error("config_error", where +
                                          " must be an object mapping group tags to profiles, e.g. "
                                          "{\"Contoso-Sales\": \"standard\"}");
  }
  std::map<std::string, std::string> profiles;  // tag (lower) -> profile
  std::map<std::string, std::string> spelled;   // tag (lower) -> as first written
  for (auto item = value.begin(); item != value.end(); ++item) {
    const std::string key = where + ".\"" + item.key() + "\"";
    if (item.key().empty()) {
      return make_error("config_error",
                        key +
                            ": an empty group tag cannot be mapped; devices without a tag are "
                            "tracked with \"track_untagged\": true");
    }
    if (auto problem = core::group_tag_problem(item.key()); !problem.empty()) {
      return make_error("config_error", key + ": the group tag " + problem);
    }
    const auto profile = item.value().is_string()
                             ? core::parse_profile(item.value().get<std::string>())
                             : std::nullopt;
    if (!profile) {
      return make_error("config_error",
                        key + ": " +
                            (item.value().is_string()
                                 ? "unknown profile \"" + item.value().get<std::string>() + "\""
                                 : std::string("must be a profile name")) +
                            "; use " + std::string(core::profile_spellings()));
    }
    std::string folded = item.key();
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto other = spelled.find(folded); other != spelled.end()) {
      return make_error("config_error", key + ": the tag is mapped twice (also as \"" +
                                            other->second + "\"; tags are compared without case)");
    }
    spelled.emplace(folded, item.key());
    profiles.emplace(std::move(folded), std::string(core::cli_name(*profile)));
  }
  out = std::move(profiles);
  return {};
}

core::Status read_config(const std::filesystem::path& file, bool required, Options& options) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (required) {
      return make_error("config_error", "config file " + file.string() + " does not exist");
    }
    return {};
  }
  // A config file another user could have written would hand them the service: an authority URL
  // of theirs receives the client secret (see trust.h).
  if (auto trusted = check_trusted_path(file, "config file"); !trusted) {
    return make_error("config_error", trusted.error().message);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error("config_error", "cannot read config file " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  // A key given twice is refused, as on the wire, not read as "the last one wins" (black-box round
  // 10: a second "tag_profiles" silently dropped the first one's mappings).
  std::vector<std::set<std::string>> keys;
  std::vector<std::string> objects;  // the key that opened each object ("" at the top)
  std::string pending_key;
  std::optional<std::string> duplicate;
  const nlohmann::json::parser_callback_t check_keys = [&](int, nlohmann::json::parse_event_t event,
                                                           nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      keys.emplace_back();
      objects.push_back(pending_key);
    } else if (event == Event::object_end) {
      if (!keys.empty()) keys.pop_back();
      if (!objects.empty()) objects.pop_back();
    } else if (event == Event::key && !keys.empty()) {
      pending_key = parsed.get<std::string>();
      if (!keys.back().insert(pending_key).second && !duplicate) {
        duplicate = "\"" + core::excerpt(pending_key) + "\" is given twice" +
                    (objects.back().empty() ? std::string()
                                            : " in \"" + core::excerpt(objects.back()) + "\"");
      }
    }
    return true;
  };
  try {
    j = nlohmann::json::parse(text.str(), check_keys);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for a number no double holds (1e400: black-box round 14,
    // hangard aborted): both are a file that is not valid for Hangar, said with its name.
    return make_error("config_error", file.string() + ": not valid JSON: " + e.what());
  }
  if (duplicate) {
    return make_error("config_error", file.string() + ": " + *duplicate +
                                          "; keep one (a key given twice is never read as \"the "
                                          "last one wins\")");
  }
  if (!j.is_object()) return make_error("config_error", file.string() + ": must be a JSON object");
  for (auto item = j.begin(); item != j.end(); ++item) {
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    // A bound on durations: "never" written as 1e16 would overflow the milliseconds it becomes.
    const auto too_large = [&](const std::string& name, double most, const char* means) {
      std::ostringstream bound;
      bound << most;
      return make_error("config_error", file.string() + ": \"" + name + "\" must be at most " +
                                            bound.str() + " (" + means + "); " + value.dump() +
                                            " is too large");
    };
    auto want_string = [&](std::string& out) -> core::Status {
      if (!value.is_string()) {
        return make_error("config_error", file.string() + ": \"" + key + "\" must be a string");
      }
      out = value.get<std::string>();
      // "" is not "the default": an unset variable written into the file would otherwise pick the
      // system endpoint or the simulated cloud without a word (black-box round 11).
      if (out.empty()) {
        return make_error("config_error", file.string() + ": \"" + key +
                                              "\" is empty; leave the key out for its default");
      }
      return {};
    };
    core::Status status;
    if (key == "endpoint") {
      status = want_string(options.endpoint);
    } else if (key == "operators_group") {
      status = want_string(options.operators_group);
    } else if (key == "cloud_url") {
      status = want_string(options.cloud_url);
    } else if (key == "authority_url") {
      status = want_string(options.authority_url);
    } else if (key == "graph_url") {
      status = want_string(options.graph_url);
    } else if (key == "graph_scope") {
      status = want_string(options.graph_scope);
      if (status && !options.graph_scope.ends_with("/.default")) {
        status = make_error("config_error", file.string() +
                                                ": \"graph_scope\" must end in \"/.default\" (the "
                                                "client-credentials scope, e.g. "
                                                "https://graph.microsoft.us/.default)");
      }
    } else if (key == "tenant_id" || key == "client_id") {
      // GUIDs, as `hangar config set-credentials` takes them (black-box round 14: any text was
      // sent to the token endpoint and failed there, hours later in status).
      std::string& target = key == "tenant_id" ? options.tenant_id : options.client_id;
      status = want_string(target);
      if (status) {
        if (auto guid = core::normalize_guid(target)) {
          target = *guid;
        } else {
          status = make_error("config_error",
                              file.string() + ": \"" + key +
                                  "\" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), as "
                                  "the Entra ID app registration shows it");
        }
      }
    } else if (key == "log_level") {
      status = want_string(options.log_level);
    } else if (key == "batch_size") {
      if (!value.is_number_integer() || value.get<long long>() < 1 ||
          value.get<long long>() > 500) {
        status = make_error("config_error", file.string() +
                                                ": \"batch_size\" must be a whole number from 1 "
                                                "to 500 (devices per import call)");
      } else {
        options.batch_size = value.get<int>();
      }
    } else if (key == "poll_interval_seconds") {
      // In the file too: a service installed by the MSI runs without flags.
      if (!value.is_number() || !poll_interval_fits(value.get<double>())) {
        status = make_error("config_error", file.string() +
                                                ": \"poll_interval_seconds\" must be a number of "
                                                "seconds from 0.5 to 86400 (default 30)");
      } else {
        options.poll_interval_seconds = value.get<double>();
      }
    } else if (key == "profile_groups") {
      status = read_profile_groups(file, value, options.profile_groups);
    } else if (key == "tag_profiles") {
      status = read_tag_profiles(file, value, options.tag_profiles);
    } else if (key == "track_untagged") {
      if (!value.is_boolean()) {
        status = make_error("config_error", file.string() +
                                                ": \"track_untagged\" must be true or false "
                                                "(whether tenant devices without a group tag "
                                                "are tracked)");
      } else {
        options.track_untagged = value.get<bool>();
      }
    } else if (key == "group_sweep_interval_hours") {
      // Bounded both ways, as the activity pass is (black-box round 15: 1e308 was taken).
      if (!value.is_number() || value.get<double>() < kShortestIntervalHours ||
          value.get<double>() > 8'760) {
        status = make_error("config_error", file.string() +
                                                ": \"group_sweep_interval_hours\" must be a "
                                                "number of hours from 0.01 to 8760 (a year)");
      } else {
        options.group_sweep_interval_hours = value.get<double>();
      }
    } else if (key == "event_queue_size") {
      if (!value.is_number_integer() || value.get<long long>() < 16 ||
          value.get<long long>() > 1'000'000) {
        status = make_error("config_error", file.string() +
                                                ": \"event_queue_size\" must be a whole number "
                                                "from 16 to 1000000 (changes queued for a "
                                                "subscriber before it reads on from the "
                                                "history)");
      } else {
        options.event_queue_size = value.get<int>();
      }
    } else if (key == "max_subscribers" || key == "max_subscribers_per_user") {
      if (!value.is_number_integer() || value.get<long long>() < 1 ||
          value.get<long long>() > kMaxSubscribersLimit) {
        status = make_error(
            "config_error",
            file.string() + ": \"" + key + "\" must be a whole number from 1 to " +
                std::to_string(kMaxSubscribersLimit) +
                (key == "max_subscribers" ? " (event streams open at once, in all)"
                                          : " (event streams one user may have open at once)"));
      } else if (key == "max_subscribers") {
        options.max_subscribers = value.get<int>();
      } else {
        options.max_subscribers_per_user = value.get<int>();
      }
    } else if (key == "max_connections" || key == "reserved_connections" ||
               key == "max_connections_per_user" || key == "request_memory_mib") {
      // name, lowest, highest, what it is
      struct Range {
        long long low, high;
        const char* what;
        int* out;
      };
      const Range range =
          key == "max_connections"
              ? Range{16, 1024, "connections the service serves at once", &options.max_connections}
          : key == "reserved_connections"
              ? Range{1, 512, "connections kept for administrators and the service's account",
                      &options.reserved_connections}
          : key == "max_connections_per_user"
              ? Range{1, 1024, "connections one user may hold at once",
                      &options.max_connections_per_user}
              : Range{8, 1024, "MiB that requests being received may hold in all",
                      &options.request_memory_mib};
      if (!value.is_number_integer() || value.get<long long>() < range.low ||
          value.get<long long>() > range.high) {
        status = make_error("config_error",
                            file.string() + ": \"" + key + "\" must be a whole number from " +
                                std::to_string(range.low) + " to " + std::to_string(range.high) +
                                " (" + range.what + ")");
      } else {
        *range.out = value.get<int>();
      }
    } else if (key == "idle_timeout_seconds") {
      if (!value.is_number() || value.get<double>() < 1 || value.get<double>() > 3600) {
        status = make_error("config_error",
                            file.string() +
                                ": \"idle_timeout_seconds\" must be a number from 1 to 3600 (how "
                                "long a connection may wait between requests)");
      } else {
        options.idle_timeout_seconds = value.get<double>();
      }
    } else if (key == "activity_interval_hours" || key == "inactive_after_days") {
      if (!value.is_number() || value.get<double>() <= 0) {
        status = make_error("config_error",
                            file.string() + ": \"" + key + "\" must be a positive number");
      } else if (key == "activity_interval_hours" && value.get<double>() < kShortestIntervalHours) {
        // Each pass lists the tenant's devices (black-box round 15: 0.0000001 listed them
        // every 30 ms).
        status = make_error("config_error", file.string() +
                                                ": \"activity_interval_hours\" must be at least "
                                                "0.01 (36 s): each pass lists the tenant's "
                                                "devices");
      } else if (const bool hours = key == "activity_interval_hours";
                 value.get<double>() > (hours ? 8'760 : 3'650)) {
        status = too_large(key, hours ? 8'760 : 3'650, hours ? "hours: a year" : "days: ten years");
      } else if (key == "activity_interval_hours") {
        options.activity_interval_hours = value.get<double>();
      } else {
        options.inactive_after_days = value.get<double>();
      }
    } else if (key == "pending_warning_minutes" || key == "pending_limit_hours") {
      if (!value.is_number() || value.get<double>() <= 0) {
        status = make_error(
            "config_error",
            file.string() + ": \"" + key + "\" must be a positive number (" +
                (key == "pending_warning_minutes" ? "minutes of Registration Pending before "
                                                    "a device is flagged"
                                                  : "hours of Registration Pending before a "
                                                    "device is Registration failed") +
                ")");
      } else if (const bool minutes = key == "pending_warning_minutes";
                 value.get<double>() > (minutes ? 525'600 : 8'760)) {
        status = too_large(key, minutes ? 525'600 : 8'760,
                           minutes ? "minutes: a year" : "hours: a year");
      } else if (key == "pending_warning_minutes") {
        options.pending_warning_minutes = value.get<double>();
        options.pending_warning_set = true;
      } else {
        options.pending_limit_hours = value.get<double>();
      }
    } else if (key == "required_licenses") {
      bool ok = value.is_array();
      if (ok) {
        for (const auto& sku : value) ok = ok && sku.is_string() && !sku.get<std::string>().empty();
      }
      if (!ok) {
        status = make_error("config_error", file.string() +
                                                ": \"required_licenses\" must be a list of "
                                                "licences, each a SKU id or its skuPartNumber "
                                                "(strings)");
      } else {
        options.required_licenses = value.get<std::vector<std::string>>();
      }
    } else {
      // Unknown keys are errors: a misspelt setting silently ignored is worse than a refusal.
      status = make_error("config_error", file.string() + ": unknown setting \"" + key + "\"");
    }
    if (!status) return status;
  }
  return {};
}

}  // namespace

std::string usage() {
  return core::wrap_lines(
      "usage: hangard [--config FILE] [--data-dir DIR] [--endpoint ENDPOINT]\n"
      "               [--operators-group GROUP] [--log-level LEVEL]\n"
      "               [--cloud-url URL] [--poll-interval SECONDS] [--batch-size N]\n"
      "environment: HANGAR_CONFIG, HANGAR_DATA_DIR, HANGAR_ENDPOINT, HANGAR_CLOUD_URL,\n"
      "             HANGAR_CLIENT_SECRET\n"
      "config file (JSON, default <data-dir>/hangar.json): endpoint, operators_group, "
      "log_level,\n"
      "  cloud_url, authority_url, graph_url, graph_scope (default: the Graph host's\n"
      "  /.default), tenant_id, client_id, batch_size (1-500),\n"
      "  activity_interval_hours, inactive_after_days, required_licenses ([SKU ids or names]),\n"
      "  pending_warning_minutes (default 30), pending_limit_hours (default 24),\n"
      "  profile_groups ({profile: Entra ID group object id}), group_sweep_interval_hours,\n"
      "  tag_profiles ({group tag: profile} for partner-registered devices), track_untagged\n"
      "  (true: also track tenant devices without a group tag; default false: only counted),\n"
      "  event_queue_size (16-1000000), max_subscribers (1-128, default 64),\n"
      "  max_subscribers_per_user (1-128, default 8), max_connections (16-1024, default 256),\n"
      "  reserved_connections (for administrators, default 16), max_connections_per_user\n"
      "  (default 32), idle_timeout_seconds (1-3600, default 30), request_memory_mib (8-1024,\n"
      "  default 24)\n"
      "credentials: `hangar config set-credentials` stores tenant, client id and the secret\n"
      "  (protected: a 0600 file on Linux, DPAPI on Windows; they override tenant_id/client_id\n"
      "  in the config file); HANGAR_CLIENT_SECRET overrides the stored secret; the secret is\n"
      "  never read from the config file and never logged\n"
      "without any tenant, hangard talks to the simulated cloud at " +
      std::string(kDefaultCloudUrl) + "\n");
}

core::Result<Options> parse_options(const std::vector<std::string>& args) {
  std::string flag_config, flag_data_dir, flag_endpoint, flag_group, flag_level, flag_cloud,
      flag_poll, flag_batch;
  bool group_set = false;
  std::set<std::string> flags_seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto take = [&](std::string& out) -> core::Status {
      // Each once, never empty: `--data-dir A --data-dir B` or `--cloud-url ""` (an unset
      // variable in a unit file) took the last or the default without a word (black-box round
      // 11).
      const std::string name = arg.substr(0, arg.find('='));
      if (!flags_seen.insert(name).second) return make_error("usage", name + " is given twice");
      auto eq = arg.find('=');
      if (eq != std::string::npos) {
        out = arg.substr(eq + 1);
        if (out.empty()) return make_error("usage", name + " needs a value, not an empty one");
        return {};
      }
      if (i + 1 >= args.size()) return make_error("usage", arg + " needs a value");
      // `--endpoint --cloud-url URL` took the next option's name as the socket's (black-box
      // round 10); a value that starts with "--" is given as --name=--value.
      if (args[i + 1].starts_with("--")) {
        return make_error("usage", arg + " needs a value, not the option " + args[i + 1] +
                                       " (a value starting with -- is given as " + arg + "=VALUE)");
      }
      out = args[++i];
      if (out.empty()) return make_error("usage", name + " needs a value, not an empty one");
      return {};
    };
    auto is = [&](const char* name) {
      return arg == name || arg.rfind(std::string(name) + "=", 0) == 0;
    };
    core::Status status;
    if (is("--config")) {
      status = take(flag_config);
    } else if (is("--data-dir")) {
      status = take(flag_data_dir);
    } else if (is("--endpoint")) {
      status = take(flag_endpoint);
    } else if (is("--operators-group")) {
      status = take(flag_group);
      group_set = true;
    } else if (is("--log-level")) {
      status = take(flag_level);
    } else if (is("--cloud-url")) {
      status = take(flag_cloud);
    } else if (is("--poll-interval")) {
      status = take(flag_poll);
    } else if (is("--batch-size")) {
      status = take(flag_batch);
    } else {
      status = make_error("usage", "unknown option \"" + arg + "\"");
    }
    if (!status) return status.error();
  }

  // A variable set to "" (an unset one expanded in a unit file) is not "unset": it would pick
  // the system's socket or data directory without a word, as an empty flag would (black-box
  // round 12). Refused unless a flag gives the value.
  for (const auto& [variable, flag] :
       {std::pair{"HANGAR_DATA_DIR", &flag_data_dir}, std::pair{"HANGAR_CONFIG", &flag_config},
        std::pair{"HANGAR_ENDPOINT", &flag_endpoint}, std::pair{"HANGAR_CLOUD_URL", &flag_cloud}}) {
    const char* value = std::getenv(variable);
    if (value != nullptr && *value == '\0' && flag->empty()) {
      return make_error("usage", std::string(variable) +
                                     " is set but empty; unset it for the default, or give a "
                                     "value");
    }
  }
  Options options;
  std::string env_data_dir = core::env("HANGAR_DATA_DIR");
  options.data_dir = !flag_data_dir.empty()  ? std::filesystem::path(flag_data_dir)
                     : !env_data_dir.empty() ? std::filesystem::path(env_data_dir)
                                             : core::default_data_dir();
  std::string env_config = core::env("HANGAR_CONFIG");
  bool config_explicit = !flag_config.empty() || !env_config.empty();
  options.config_file = !flag_config.empty()  ? std::filesystem::path(flag_config)
                        : !env_config.empty() ? std::filesystem::path(env_config)
                                              : core::default_config_file(options.data_dir);
  options.endpoint = core::default_endpoint();
  if (auto status = read_config(options.config_file, config_explicit, options); !status) {
    return status.error();
  }
  if (std::string e = core::env("HANGAR_ENDPOINT"); !e.empty()) options.endpoint = e;
  if (!flag_endpoint.empty()) options.endpoint = flag_endpoint;
  if (group_set) options.operators_group = flag_group;
  if (!flag_level.empty()) options.log_level = flag_level;
  std::string cloud_source = options.config_file.string() + ": \"cloud_url\"";
  if (std::string e = core::env("HANGAR_CLOUD_URL"); !e.empty()) {
    options.cloud_url = e;
    cloud_source = "HANGAR_CLOUD_URL";
  }
  if (!flag_cloud.empty()) {
    options.cloud_url = flag_cloud;
    cloud_source = "--cloud-url";
  }
  // "127.0.0.1:8710" would later be refused as "not https": the missing scheme is the mistake.
  if (!options.cloud_url.empty() && options.cloud_url.find("://") == std::string::npos) {
    return make_error("usage", cloud_source +
                                   " needs a scheme: https://... (http:// only for a "
                                   "loopback simulator), not \"" +
                                   options.cloud_url + "\"");
  }
  if (!flag_poll.empty()) {
    // Plain decimal only: strtod also takes "nan", "inf" and "0x10" (black-box round 11: nan
    // polled the import table 35 times a second).
    const bool decimal = flag_poll.find_first_not_of("0123456789.") == std::string::npos &&
                         std::count(flag_poll.begin(), flag_poll.end(), '.') <= 1 &&
                         flag_poll != ".";
    char* end = nullptr;
    const double seconds = decimal ? std::strtod(flag_poll.c_str(), &end) : 0;
    if (!decimal || end == flag_poll.c_str() || *end != '\0' || !poll_interval_fits(seconds)) {
      return make_error("usage",
                        "--poll-interval takes a number of seconds from 0.5 to 86400 "
                        "(default 30), not \"" +
                            core::excerpt(flag_poll) + "\"");
    }
    options.poll_interval_seconds = seconds;
  }
  if (!flag_batch.empty()) {
    char* end = nullptr;
    const long batch = std::strtol(flag_batch.c_str(), &end, 10);
    if (end == flag_batch.c_str() || *end != '\0' || batch < 1 || batch > 500) {
      return make_error("usage", "--batch-size takes a whole number from 1 to 500");
    }
    options.batch_size = static_cast<int>(batch);
  }
  // The stored secret (set-credentials) is read by the service's credential manager, which knows
  // where each platform keeps it; the environment variable overrides it.
  options.client_secret = core::env("HANGAR_CLIENT_SECRET");
  if (options.reserved_connections * 2 > options.max_connections) {
    return make_error("config_error", options.config_file.string() +
                                          ": \"reserved_connections\" (" +
                                          std::to_string(options.reserved_connections) +
                                          ") may be at most half of \"max_connections\" (" +
                                          std::to_string(options.max_connections) + ")");
  }
  // A per-user allowance above the whole could never be met (black-box round 10).
  if (options.max_connections_per_user > options.max_connections) {
    return make_error("config_error", options.config_file.string() +
                                          ": \"max_connections_per_user\" (" +
                                          std::to_string(options.max_connections_per_user) +
                                          ") may be at most \"max_connections\" (" +
                                          std::to_string(options.max_connections) + ")");
  }
  // A warning after the limit could never show: the device fails first (black-box round 8). A
  // limit set shorter than the default warning brings the warning to half of it.
  if (!options.pending_warning_set &&
      options.pending_warning_minutes >= options.pending_limit_hours * 60) {
    options.pending_warning_minutes = options.pending_limit_hours * 60 / 2;
  }
  if (options.pending_warning_minutes >= options.pending_limit_hours * 60) {
    std::ostringstream text;
    text << options.config_file.string() << ": \"pending_warning_minutes\" ("
         << options.pending_warning_minutes
         << ") must be less than \"pending_limit_hours\" in minutes ("
         << options.pending_limit_hours * 60
         << "): a device becomes Registration failed at the limit, so a later warning would "
            "never show";
    return make_error("config_error", text.str());
  }
  // A limit shorter than a few polls fails every device before its import was read (black-box
  // round 9: 0.0001 h failed a whole room). Short limits stay possible for the simulator.
  if (options.pending_limit_hours * 3600 < 3 * options.poll_interval_seconds) {
    std::ostringstream text;
    text << options.config_file.string() << ": \"pending_limit_hours\" ("
         << options.pending_limit_hours << ", " << options.pending_limit_hours * 3600
         << " s) must be at least three poll intervals (" << 3 * options.poll_interval_seconds
         << " s): a device would fail as pending too long before its import was read; the "
            "default is 24 (a registration usually takes under 10 minutes)";
    return make_error("config_error", text.str());
  }
  if (!kLogLevels.contains(options.log_level)) {
    // Named where it came from: the flag (a usage error) or the file (black-box round 10).
    const std::string levels = "\" is not one of trace, debug, info, warn, error, off";
    if (!flag_level.empty()) {
      return make_error("usage", "--log-level \"" + core::excerpt(options.log_level) + levels);
    }
    return make_error("config_error", options.config_file.string() + ": \"log_level\" \"" +
                                          core::excerpt(options.log_level) + levels);
  }
  return options;
}

}  // namespace hangar::service
