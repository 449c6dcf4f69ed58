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
  // The answer to contains(serialNumber,'...') on import records, the one filter public tools use
  // there (nothing is documented): 0 serves it; 400 or 501 refuses it (and every other filter),
  // as a service that does not support it would. Any other filter is a 400 either way.
  int serial_filter_status = 0;
};

// Delays are simulated seconds; Scenario::time_scale divides them into real time.
struct RegistrationConfig {
  double delay_seconds = 300;          // from import to complete/error
  double jitter_seconds = 60;          // plus uniform [0, jitter) per device
  double profile_delay_seconds = 120;  // from registration to deployment profile assignment
  std::string profile_status = "assignedUnkownSyncState";  // (sic): Graph's spelling
};

// Intune's lists page at about 1,000 (microsoft-graph-docs-contrib #3693, powershell-intune-samples
// #2); the directory's at 100 by default and 999 at most (Graph paging docs).
struct PagingConfig {
  std::int64_t page_size = 1000;      // Intune lists without $top
  std::int64_t max_page_size = 1000;  // $top above this is capped
  std::int64_t directory_page_size = 100;
  std::int64_t directory_max_page_size = 999;
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
  // Endpoint patterns (see endpoint_matches) whose 429s never carry a Retry-After.
  std::vector<std::string> omit_retry_after;
  // The share of Intune endpoints' 429s sent without Retry-After, as some Intune endpoints do
  // (Microsoft Q&A); decided by a seeded RNG of its own.
  double omit_retry_after_rate = 0.5;
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

// The real service's answers where the simulator used to be more forgiving, each back on only by
// its own switch (cloudsim/README.md, "Fidelity"). All false: as strict as the service.
struct LenientConfig {
  bool autopilot_select = false;            // serve $select on windowsAutopilotDeviceIdentities
  bool any_filter = false;                  // the whole $filter language on every list
  bool pending_status = false;              // fresh import records "pending", not "unknown"
  bool import_id_per_call = false;          // one importId per import call (or the row's own)
  bool echo_hardware_identifier = false;    // hardwareIdentifier echoed in answers
  bool plain_intune_errors = false;         // Intune errors without the JSON-in-message document
  bool always_retry_after = false;          // every 429 carries Retry-After
  bool entra_object_at_enrollment = false;  // the Entra ID device appears at enrollment only
  bool any_token_audience = false;          // a token for any resource works on Graph
};

// A request form to refuse (fault injection for the client's fallbacks): requests to `endpoint`
// (a pattern) whose decoded query contains `query` (ignoring case) get `status`.
struct RefusalRule {
  std::string endpoint;
  std::string query;
  int status = 500;  // 400, 500 or 501
  int times = 0;     // 0: always; else the first N matching requests only
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

// One of the organization's subscriptions (a subscribedSku): the GUID users' assignedLicenses
// carry and the name admins know it by.
struct SeedSku {
  std::string sku_id;
  std::string sku_part_number;  // "SPE_E5"
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
  LenientConfig lenient;
  std::vector<RefusalRule> refusals;
  std::vector<Rule> rules;
  std::vector<SeedDevice> devices;
  std::vector<OemDevice> oem_devices;
  std::vector<SeedUser> users;
  std::vector<SeedSku> skus;
  std::vector<SeedGroup> groups;
};

// Parses a scenario document. Every field is optional and unknown keys are errors: a typo in a
// rule must not silently turn a failure test into a success. Error code "scenario_invalid".
core::Result<Scenario> parse_scenario(const nlohmann::json& document);
core::Result<Scenario> load_scenario_file(const std::filesystem::path& path);

// Endpoint patterns: "*" (everything), "graph" (every endpoint but the token one), an exact
// endpoint id ("imported.import"), or a prefix ending in '*' ("imported.*").
bool endpoint_matches(const std::vector<std::string>& patterns, const std::string& endpoint);
// Every endpoint id (the README's table, graph.unknown and graph.method_not_allowed).
const std::vector<std::string>& endpoint_ids();

}  // namespace hangar::cloudsim
