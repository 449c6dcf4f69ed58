// The typed messages of ipc/messages/: every message survives to_json -> from_json unchanged and
// keeps today's wire form (field names and types), and a malformed reply (each required field
// missing, a field of the wrong type) is a clear malformed_reply error naming the field: never a
// thrown exception, never a default.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "hangar/ipc/commands.h"
#include "hangar/ipc/messages/config.h"
#include "hangar/ipc/messages/device.h"
#include "hangar/ipc/messages/events.h"
#include "hangar/ipc/messages/import.h"
#include "hangar/ipc/messages/queue.h"
#include "hangar/ipc/messages/status.h"
#include "hangar/ipc/messages/version.h"

namespace hangar::ipc::msg {
namespace {

using core::DeviceState;

// Every message filled in, optional fields included, so a round trip compares every field.
StatusReply full_status() {
  StatusReply s;
  for (const DeviceState state : core::kDeviceStates) {
    s.states[state] = static_cast<std::int64_t>(state) + 1;
  }
  s.long_pending = 7;
  s.long_pending_devices = {{"PF1", 1000, "no deployment profile"}, {"PF2", 2000, ""}};
  s.queue_depth = 3;
  s.service_version = "1.2.3";
  s.platform = "linux";
  s.uptime_seconds = 42;
  s.subscribers = 2;
  s.endpoint = "/run/hangar.sock";
  s.data_dir = "/var/lib/hangar";
  s.caller = {"alice", true, false};
  Cloud& c = s.cloud;
  c.mode = "tenant";
  c.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  c.credentials = "set with `hangar config set-credentials`";
  c.url = "https://graph.microsoft.com";
  c.online = false;
  c.paused = true;
  c.throttled = 4;
  c.requests = 99;
  c.last_error = "HTTP 500";
  c.last_error_at = 5;
  c.last_error_resolved = true;
  c.last_error_resolved_at = 6;
  c.waiting_on = "a write to Intune";
  c.waiting_since = 7;
  c.waiting_ms = 8;
  c.requests_waiting = 2;
  c.needs_attention = std::vector<RefusedForm>{
      {"GET .../x", "confirming", 500, "boom", "req-1", 10, 11, 3, "listed instead"}};
  c.next_retry_at = 12;
  c.activity =
      Activity{13, ActivityPassSummary{
                       14, 15, 16, 17, 18, 19, 20, 21, 22, 1, {{"UT-1", "Contoso", "Laptop 7"}}}};
  Groups groups;
  groups.configured = true;
  groups.running = false;
  groups.next_sweep_at = 21;
  GroupSweepSummary last;
  last.started_at = 22;
  last.finished_at = 23;
  last.devices = 24;
  last.skipped = 25;
  last.added = 26;
  last.removed = 27;
  last.removals_skipped = 28;
  last.skipped_removals = std::vector<SkippedRemovalInfo>{{"SN", "group-1", "power-user", "why"}};
  last.requests = 29;
  last.errors = 30;
  last.last_error = "denied";
  groups.last_sweep = last;
  c.groups = groups;
  return s;
}

Device full_device() {
  Device d;
  d.id = 5;
  d.serial = "PF0ABC12";
  d.state = DeviceState::kRegistrationPending;
  d.state_display = "Registration Pending";
  d.profile = "power-user";
  d.partner_registered = false;
  d.attempts = 2;
  d.created_at = 1;
  d.updated_at = 2;
  d.state_changed_at = 3;
  d.has_hash = true;
  d.product_id = "pid";
  d.manufacturer = "Contoso";
  d.model = "Laptop 7";
  d.group_tag = "Sales";
  d.assigned_user = "a@contoso.com";
  d.failure_reason = "Device not found";
  d.last_error = "HTTP 404";
  d.request_id = "req";
  d.source_file = "a.csv";
  d.source_line = 4;
  d.import_id = "imp";
  d.cloud_device_id = "cloud";
  d.next_attempt_at = 9;
  d.managed_device_id = "md";
  d.enrollment_state = "enrolled";
  d.last_sync_at = 10;
  d.delivered_at = 11;
  d.delivered_to = "b@contoso.com";
  d.azure_ad_device_id = "aad";
  d.last_contacted_at = 12;
  d.advice = "Confirm these values with your device supplier";
  d.permanent = true;
  d.long_pending = true;
  d.pending_flagged_at = 13;
  d.pending_cause = "no profile";
  d.hash = "AAEC";
  return d;
}

ShowReply full_show() {
  ShowReply r;
  r.device = full_device();
  HashSummary h;
  h.bytes = 4000;
  h.os_build = "10.0.22631.2861";
  h.serial = "PF0ABC12";
  h.manufacturer = "Contoso";
  h.model = "Laptop 7";
  h.sku = "sku";
  h.family = "family";
  h.tpm_version = "2.0";
  h.checksum = "valid";
  r.hash_summary = h;
  r.history = {{std::nullopt, DeviceState::kQueued, "Queued", std::nullopt, 1},
               {DeviceState::kQueued, DeviceState::kRegistrationPending, "Registration Pending",
                "uploaded", 2}};
  r.history_omitted = 3;
  r.group_corrections = {{4, "added", "g1", "standard", std::nullopt},
                         {5, "skipped", "g2", "power-user", "own group unknown"}};
  r.group_corrections_omitted = 1;
  return r;
}

ConfigReply full_config() {
  ConfigReply c;
  c.mode = "tenant";
  c.graph_url = "https://graph.microsoft.com";
  c.authority_url = "https://login.microsoftonline.com";
  c.scope = "https://graph.microsoft.com/.default";
  c.source = "set-credentials";
  c.credentials_file = "/var/lib/hangar/credentials.json";
  c.config_file = "/etc/hangar/hangar.json";
  c.secret = {true, "store", "/var/lib/hangar/secret", "0600 file", true, "unreadable", true};
  c.tenant_id = "t";
  c.client_id = "c";
  c.set_at = 5;
  c.set_by = "root";
  c.problem = "none";
  return c;
}

// Round trip: the parsed message serialises to the same JSON, whatever field it holds.
template <typename T>
void expect_round_trip(const T& message) {
  const Json wire = message.to_json();
  auto parsed = T::from_json(wire);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message << "\n" << wire.dump(2);
  EXPECT_EQ(parsed->to_json(), wire);
  // Through CBOR too (the import path's encoding), as the frame carries it.
  auto from_cbor = T::from_json(Json::from_cbor(Json::to_cbor(wire)));
  ASSERT_TRUE(from_cbor.ok()) << from_cbor.error().message;
  EXPECT_EQ(from_cbor->to_json(), wire);
}

// Each required field of `wire` left out (and given the wrong type) must fail naming it. `paths`
// are the required fields, with their path ("cloud.groups.configured").
template <typename T>
void expect_required(const Json& wire, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    // "history[1].to" -> /history/1/to
    std::string pointer_text = "/";
    for (const char ch : path) {
      if (ch == '.' || ch == '[') {
        pointer_text += '/';
      } else if (ch != ']') {
        pointer_text += ch;
      }
    }
    const Json::json_pointer pointer(pointer_text);
    Json missing = wire;
    missing[pointer.parent_pointer()].erase(pointer.back());
    auto parsed = T::from_json(missing);
    ASSERT_FALSE(parsed.ok()) << path << " missing was accepted";
    EXPECT_EQ(parsed.error().code, kMalformedReply);
    EXPECT_NE(parsed.error().message.find("field \"" + path + "\" is missing"), std::string::npos)
        << parsed.error().message;

    Json wrong = wire;
    // Text where the field is no text, a number where it is.
    wrong[pointer] = wire[pointer].is_string() ? Json(5) : Json("x");
    auto mistyped = T::from_json(wrong);
    ASSERT_FALSE(mistyped.ok()) << path << " of the wrong type was accepted";
    EXPECT_NE(mistyped.error().message.find("field \"" + path + "\""), std::string::npos)
        << mistyped.error().message;
  }
}

TEST(Messages, StatusRoundTripsAndKeepsTheWireForm) {
  expect_round_trip(full_status());
  expect_round_trip(StatusReply{});
  const Json wire = full_status().to_json();
  // Today's field names and types: the tray, scripts and old e2e tests read these.
  EXPECT_EQ(wire["states"]["ready_for_user"], 4);
  EXPECT_EQ(wire["states"].size(), 6u);
  EXPECT_EQ(wire["caller"]["can_write"], true);
  EXPECT_EQ(wire["cloud"]["needs_attention"][0]["http_status"], 500);
  EXPECT_EQ(wire["cloud"]["activity"]["last_pass_at"], 14);
  EXPECT_EQ(wire["cloud"]["groups"]["last_sweep"]["skipped_removals"][0]["serial"], "SN");
  EXPECT_FALSE(StatusReply{}.to_json().contains("long_pending_devices"));
}

TEST(Messages, StatusWithoutAFieldOrWithAWrongTypeNamesIt) {
  expect_required<StatusReply>(full_status().to_json(),
                               {"states",
                                "long_pending",
                                "queue_depth",
                                "service_version",
                                "platform",
                                "uptime_seconds",
                                "subscribers",
                                "endpoint",
                                "data_dir",
                                "caller",
                                "caller.user",
                                "caller.can_write",
                                "caller.is_admin",
                                "cloud",
                                "cloud.activity.next_pass_at",
                                "cloud.activity.devices",
                                "cloud.activity.untagged",
                                "cloud.activity.untagged_devices[0].serial",
                                "cloud.groups.configured",
                                "cloud.groups.running",
                                "cloud.groups.last_sweep.finished_at"});
  Json wire = full_status().to_json();
  wire["states"]["delivered"] = 1;
  auto unknown = StatusReply::from_json(wire);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("\"delivered\", which is no device state"),
            std::string::npos)
      << unknown.error().message;
  wire = full_status().to_json();
  wire["cloud"]["needs_attention"][0]["http_status"] = "500";
  auto text = StatusReply::from_json(wire);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(
      text.error().message.find(
          "field \"cloud.needs_attention[0].http_status\" must be a 32-bit integer, got text"),
      std::string::npos)
      << text.error().message;
  EXPECT_FALSE(StatusReply::from_json(Json::array()).ok());
  EXPECT_FALSE(StatusReply::from_json(Json()).ok());
}

TEST(Messages, DevicesListAndShowRoundTrip) {
  expect_round_trip(full_device());
  Device bare;
  bare.serial = "S";
  bare.state_display = "Queued";
  expect_round_trip(bare);
  ListReply list;
  list.devices = {full_device(), bare};
  list.total = 1519;
  list.next_after_id = 5;
  expect_round_trip(list);
  expect_round_trip(ListReply{});
  expect_round_trip(full_show());
  ShowReply broken_hash;
  broken_hash.device = bare;
  broken_hash.hash_summary = HashSummary{12, "too short", {}, {}, {}, {}, {}, {}, {}, {}};
  expect_round_trip(broken_hash);
  // The state travels as its storage key, the display name beside it.
  const Json wire = full_device().to_json();
  EXPECT_EQ(wire["state"], "registration_pending");
  EXPECT_EQ(full_show().to_json()["history"][1]["from"], "queued");
  EXPECT_FALSE(full_show().to_json()["history"][0].contains("from"));
}

TEST(Messages, DeviceWithoutAFieldOrWithAWrongTypeNamesIt) {
  expect_required<Device>(
      full_device().to_json(),
      {"id", "serial", "state", "state_display", "profile", "partner_registered", "attempts",
       "created_at", "updated_at", "state_changed_at", "has_hash"});
  Json list = ListReply{{full_device()}, 1, std::nullopt}.to_json();
  expect_required<ListReply>(list, {"devices", "devices[0].serial"});
  expect_required<ShowReply>(
      full_show().to_json(),
      {"history", "history[1].to", "history[1].at", "group_corrections",
       "group_corrections[0].action", "hash_summary.bytes", "hash_summary.os_build"});
  Json wire = full_device().to_json();
  wire["state"] = "Registration Pending";  // a display name is not the wire's key
  auto display = Device::from_json(wire);
  ASSERT_FALSE(display.ok());
  EXPECT_NE(display.error().message.find("field \"state\" must be a device state"),
            std::string::npos)
      << display.error().message;
  wire = full_device().to_json();
  wire["source_line"] = "4";  // an optional field of the wrong type is an error too
  EXPECT_FALSE(Device::from_json(wire).ok());
}

TEST(Messages, TruncateCutsEveryTextAndDropsTheHash) {
  Device d = full_device();
  d.last_error = std::string(10'000, 'x');
  d.truncate(100);
  EXPECT_FALSE(d.hash.has_value());
  EXPECT_EQ(d.truncated, true);
  EXPECT_LT(d.last_error->size(), 200u);
  expect_round_trip(d);
}

TEST(Messages, QueueRepliesRoundTrip) {
  expect_round_trip(RemoveReply{"PF1", DeviceState::kReadyForUser, true, "record-1"});
  expect_round_trip(RemoveReply{"PF1", DeviceState::kQueued, false, std::nullopt});
  expect_round_trip(RetryReply{3, 0, std::nullopt});
  expect_round_trip(RetryReply{0, 2, std::vector<SkippedReason>{{"Device not found", 2, "ask"}}});
  expect_round_trip(DeregisterReply{"PF1", "ap-1", std::nullopt});
  expect_round_trip(DeregisterReply{"PF1", "ap-1", true});
  expect_required<RemoveReply>(RemoveReply{"PF1", DeviceState::kActive, true, "r"}.to_json(),
                               {"removed", "state", "registered_in_autopilot"});
  expect_required<RetryReply>(RetryReply{0, 1, std::vector<SkippedReason>{{"r", 1, "a"}}}.to_json(),
                              {"requeued", "skipped", "skipped_reasons[0].reason",
                               "skipped_reasons[0].devices", "skipped_reasons[0].advice"});
  expect_required<DeregisterReply>(DeregisterReply{"PF1", "ap", true}.to_json(),
                                   {"deregistered", "autopilot_id"});
  DeliverReply delivered;
  static_cast<Device&>(delivered) = full_device();
  expect_round_trip(delivered);
  expect_required<DeliverReply>(delivered.to_json(), {"serial", "state"});
}

TEST(Messages, ImportRoundTrips) {
  ImportReply reply;
  reply.accepted = 1;
  reply.already_queued = 2;
  reply.updated = 3;
  reply.rejected = 4;
  ImportResult accepted{"PF1",    "a.csv:2", "accepted",      std::nullopt,
                        "10.0.1", "pf1",     "a@contoso.com", std::nullopt};
  ImportResult refused{"PF2",        "a.csv:3",    "invalid",    "Hardware hash not valid",
                       std::nullopt, std::nullopt, std::nullopt, "Hardware hash not valid"};
  reply.results = {accepted, refused};
  expect_round_trip(reply);
  expect_required<ImportReply>(reply.to_json(),
                               {"accepted", "already_queued", "updated", "rejected", "results",
                                "results[0].serial", "results[0].location", "results[0].outcome"});
  ImportRequest request;
  request.devices.push_back(Json{{"serial", "PF1"}});
  request.expect_build = "10.0.22631.2861";
  const Json wire = request.to_json();
  EXPECT_EQ(wire["devices"][0]["serial"], "PF1");
  EXPECT_EQ(wire["expect_build"], "10.0.22631.2861");
  EXPECT_FALSE(wire.contains("strict_serials"));
}

TEST(Messages, EventsRoundTripAndKeepFromAsNull) {
  expect_round_trip(SubscribeReply{true, 100, 10'000});
  ChangeEvent first{7, "PF1", std::nullopt, DeviceState::kQueued, "", 1000};
  expect_round_trip(first);
  EXPECT_TRUE(first.to_json()["from"].is_null()) << "the wire has \"from\": null, as before";
  EXPECT_EQ(first.to_json()["type"], "change");
  expect_round_trip(
      ChangeEvent{8, "PF1", DeviceState::kQueued, DeviceState::kRegistrationFailed, "why", 2});
  expect_round_trip(GapEvent{37, 137});
  expect_round_trip(HeartbeatEvent{5});
  expect_required<ChangeEvent>(first.to_json(), {"seq", "serial", "to", "reason", "at"});
  expect_required<GapEvent>(GapEvent{1, 2}.to_json(), {"missed", "seq"});
  expect_required<SubscribeReply>(SubscribeReply{true, 1, 2}.to_json(),
                                  {"subscribed", "seq", "heartbeat_ms"});
  Json negative = GapEvent{1, 2}.to_json();
  negative["missed"] = -1;
  EXPECT_FALSE(GapEvent::from_json(negative).ok());
}

TEST(Messages, ARemovalAndAGapsCauseRoundTrip) {
  RemovedEvent removed{9, "PF9Q", DeviceState::kReadyForUser, "removed by ada", 3000};
  expect_round_trip(removed);
  EXPECT_EQ(removed.to_json()["type"], "removed");
  EXPECT_FALSE(removed.to_json().contains("to")) << "a removal has no state to move to";
  expect_required<RemovedEvent>(removed.to_json(), {"seq", "serial", "reason", "at"});
  GapEvent lost{4, 12, std::string(GapEvent::kHistoryLost)};
  expect_round_trip(lost);
  EXPECT_EQ(lost.to_json()["cause"], "history_lost");
  EXPECT_EQ((GapEvent{1, 2}.to_json()["cause"]), "behind");
  // A gap from a service that sent no cause fell behind (the only gap there was).
  auto old = GapEvent::from_json(Json{{"type", "gap"}, {"missed", 1}, {"seq", 2}});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->cause, GapEvent::kBehind);
}

TEST(Messages, VersionRoundTripsAndSaysWhetherCborIsRead) {
  VersionReply v{"1.2.3",
                 "linux",
                 1,
                 1,
                 std::vector<std::string>{"json", "cbor"},
                 {{"status", "read", "service version"}}};
  expect_round_trip(v);
  EXPECT_TRUE(v.reads_cbor());
  v.encodings.reset();  // a service before CBOR
  expect_round_trip(v);
  EXPECT_FALSE(v.reads_cbor());
  expect_required<VersionReply>(
      v.to_json(), {"service_version", "platform", "protocol", "min_protocol", "commands",
                    "commands[0].name", "commands[0].permission"});
}

TEST(Messages, ConfigRepliesRoundTrip) {
  expect_round_trip(full_config());
  ConfigReply bare;
  bare.mode = "not_configured";
  expect_round_trip(bare);
  SetCredentialsReply set;
  static_cast<ConfigReply&>(set) = full_config();
  set.verified = false;
  set.verify_error = "unreachable";
  expect_round_trip(set);
  ClearCredentialsReply cleared;
  static_cast<ConfigReply&>(cleared) = full_config();
  cleared.cleared = true;
  expect_round_trip(cleared);
  expect_required<ConfigReply>(
      full_config().to_json(),
      {"mode", "graph_url", "authority_url", "scope", "source", "credentials_file", "config_file",
       "secret", "secret.set", "secret.source", "secret.store", "secret.protection",
       "secret.stored"});
  expect_required<SetCredentialsReply>(set.to_json(), {"verified", "mode"});
  expect_required<ClearCredentialsReply>(cleared.to_json(), {"cleared", "secret.stored"});
  const Json request = SetCredentialsRequest{"t", "c", "s", true, false}.to_json();
  EXPECT_EQ(request["client_secret"], "s");
  EXPECT_EQ(request["verify"], true);
}

// The command table names each typed message, and each message's kCommand is that entry.
template <typename T>
void expect_named_in_table(std::string_view type, bool request = false) {
  const CommandInfo* info = find_command(T::kCommand);
  ASSERT_NE(info, nullptr) << T::kCommand;
  const std::string_view named = request ? info->request_type : info->reply_type;
  EXPECT_TRUE(named.starts_with(type)) << T::kCommand << " names " << named << ", not " << type;
}

TEST(Messages, TheCommandTableNamesEachMessage) {
  expect_named_in_table<StatusReply>("msg::StatusReply");
  expect_named_in_table<ImportRequest>("msg::ImportRequest", true);
  expect_named_in_table<ImportReply>("msg::ImportReply");
  expect_named_in_table<ListReply>("msg::ListReply");
  expect_named_in_table<ShowReply>("msg::ShowReply");
  expect_named_in_table<DeliverReply>("msg::DeliverReply");
  expect_named_in_table<RemoveReply>("msg::RemoveReply");
  expect_named_in_table<RetryReply>("msg::RetryReply");
  expect_named_in_table<DeregisterReply>("msg::DeregisterReply");
  expect_named_in_table<ConfigReply>("msg::ConfigReply");
  expect_named_in_table<SetCredentialsRequest>("msg::SetCredentialsRequest", true);
  expect_named_in_table<SetCredentialsReply>("msg::SetCredentialsReply");
  expect_named_in_table<ClearCredentialsReply>("msg::ClearCredentialsReply");
  expect_named_in_table<SubscribeReply>("msg::SubscribeReply");
  expect_named_in_table<VersionReply>("msg::VersionReply");
  // And no entry names a type this test does not know.
  std::size_t typed = 0;
  for (const CommandInfo& info : kCommands) typed += !info.reply_type.empty();
  EXPECT_EQ(typed, 13u);
}

}  // namespace
}  // namespace hangar::ipc::msg
