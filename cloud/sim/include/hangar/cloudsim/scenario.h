// The scenario: everything that shapes a simulated tenant (credentials, registration timing,
// failure rules, throttling, fault injection, devices and users already there), read from JSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hangar/core/result.h"

namespace hangar::cloudsim {

struct AppCredential {
  std::string client_id;
  std::string client_secret;
};

struct AuthConfig {
  std::string tenant_id = "11111111-1111-4111-8111-111111111111";
  std::vector<AppCredential> apps{
      {"22222222-2222-4222-8222-222222222222", "hangar-cloudsim-secret"}};
  // Real time, not scaled: a client measures token lifetime with its own clock.
  std::int64_t token_lifetime_seconds = 3600;
};

struct ImportConfig {
  std::int64_t max_devices_per_call = 500;
  // Check that each decoded hash has the 'OA' record layout (InvalidZtdHardwareHash otherwise).
  // Base64 itself is always checked: a bad literal is the HTTP 400 Edm.Binary error.
  bool validate_hash = true;
  // deviceImportStatus of a fresh record: "pending" or "unknown".
  std::string initial_status = "pending";
};

// Delays are simulated seconds; Scenario::time_scale divides them into real time.
struct RegistrationConfig {
  double delay_seconds = 300;          // from import to complete/error
  double jitter_seconds = 60;          // plus uniform [0, jitter) per device
  double profile_delay_seconds = 120;  // from registration to deployment profile assignment
  std::string profile_status = "assignedUnkownSyncState";  // (sic): Graph's spelling
};

struct PagingConfig {
  std::int64_t page_size = 100;       // without $top
  std::int64_t max_page_size = 1000;  // $top above this is capped
};

// At most `limit` admitted requests in any `window_seconds` (a sliding window, real time).
struct Budget {
  std::int64_t limit = 0;
  double window_seconds = 20;
};

struct ThrottleConfig {
  bool enabled = true;
  Budget writes{100, 20};     // per app: POST/PUT/PATCH/DELETE on Graph (DOMAIN.md)
  Budget requests{1000, 20};  // per app: every Graph request
  // Endpoint patterns (see endpoint_matches) whose 429s carry no Retry-After, as some Intune
  // endpoints do.
  std::vector<std::string> omit_retry_after;
};

// Injected faults, decided by the scenario's seeded RNG so a sequential run repeats exactly.
struct FaultConfig {
  std::vector<std::string> endpoints{"graph"};  // where faults apply (patterns)
  double error_rate = 0;                        // 5xx before processing
  std::vector<int> error_statuses{500, 502, 503, 504};
  std::int64_t latency_ms = 0;  // added to every response, real time
  std::int64_t jitter_ms = 0;   // plus uniform [0, jitter]
  double drop_rate = 0;         // connection closed, request not processed
  double drop_after_rate = 0;   // request processed, then the connection closed: reply lost
  double malformed_rate = 0;    // request processed, 200 with a body cut mid-JSON
};

// A failure/behaviour rule matched against an imported row's serial number. Every matcher given
// must match; the first matching rule wins.
struct Rule {
  std::string serial;         // exact
  std::string serial_prefix;  // prefix
  std::string error;          // deviceErrorName; empty: no error (only timing or data change)
  int code = 0;               // deviceErrorCode; 0: default_error_code(error)
  // Applies to the first N imports of a serial, then no more (0: always). StorageError defaults
  // to 1 because it is transient: the client's retry must succeed.
  int times = 0;
  double delay_seconds = -1;             // registration delay (< 0: the scenario's)
  std::optional<std::string> group_tag;  // registered with this group tag instead
  std::string profile_status;            // deploymentProfileAssignmentStatus reached instead

  bool matches(const std::string& serial_number) const;
};

// A device already registered in the tenant (for example by a partner), optionally enrolled.
struct SeedDevice {
  std::string id;  // generated when empty
  std::string serial_number;
  std::string hardware_hash;  // base64; lets a re-import of the same hardware be recognised
  std::string group_tag;
  std::string manufacturer;
  std::string model;
  std::string user_principal_name;
  std::string profile_status = "assignedUnkownSyncState";
  struct Managed {
    std::string id;  // generated when empty
    std::string device_name;
    double last_sync_days_ago = 0;
  };
  std::optional<Managed> managed;
};

// A device the OEM has reported: what a hashless (manufacturer+model+serial) row can match.
struct OemDevice {
  std::string serial_number;
  std::string manufacturer;
  std::string model;
};

struct SeedUser {
  std::string id;  // generated when empty
  std::string user_principal_name;
  std::string display_name;
  std::vector<std::string> licenses;  // skuIds
};

// An Entra ID group (a device profile's group); `members` are serial numbers of seeded devices
// that are enrolled (only those have a directory device object).
struct SeedGroup {
  std::string id;  // generated when empty
  std::string display_name;
  std::string membership_rule;  // non-empty: dynamic membership (direct adds/removes are 400)
  std::vector<std::string> members;
};

struct Scenario {
  std::uint64_t seed = 1;
  // Registration work runs this many times faster than real time (60: a 5-minute registration
  // takes 5 seconds). Tokens, throttle windows and Retry-After stay in real time.
  double time_scale = 1;
  AuthConfig auth;
  ImportConfig import;
  RegistrationConfig registration;
  PagingConfig paging;
  ThrottleConfig throttling;
  FaultConfig faults;
  std::vector<Rule> rules;
  std::vector<SeedDevice> devices;
  std::vector<OemDevice> oem_devices;
  std::vector<SeedUser> users;
  std::vector<SeedGroup> groups;
};

// Parses a scenario document. Every field is optional and unknown keys are errors: a typo in a
// rule must not silently turn a failure test into a success. Error code "scenario_invalid".
core::Result<Scenario> parse_scenario(const nlohmann::json& document);
core::Result<Scenario> load_scenario_file(const std::filesystem::path& path);

// Endpoint patterns: "*" (everything), "graph" (every endpoint but the token one), an exact
// endpoint id ("imported.import"), or a prefix ending in '*' ("imported.*").
bool endpoint_matches(const std::vector<std::string>& patterns, const std::string& endpoint);

}  // namespace hangar::cloudsim
