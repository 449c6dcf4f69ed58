// The commands that ask the service about itself or tell it what to do: version, ping, status,
// refresh, sync, retry, pause, resume, and capture's queuing (split from cli.cpp).
#include "cli.h"

#include "capture_cmd.h"
#include "cli_common.h"
#include "config_cmds.h"
#include "hangar/ipc/device_wire.h"
#include "list_view.h"

#include <chrono>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <thread>
#include <variant>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "hangar/core/device.h"
#include "hangar/core/paths.h"
#include "hangar/core/version.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/messages/import.h"
#include "hangar/ipc/messages/queue.h"
#include "hangar/ipc/messages/status.h"
#include "hangar/ipc/messages/version.h"

namespace hangar::cli {

namespace {

// How much of the last cloud error `status` prints: about five lines of an 80-column terminal
// (wrapped under its start), enough for the seed's advice after the error's own words (black-box
// round 11: 200 characters stopped before them).
constexpr std::size_t kStatusErrorWidth = 320;

std::string format_duration(std::int64_t seconds) {
  std::ostringstream s;
  std::int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
               sec = seconds % 60;
  if (d) s << d << "d ";
  if (d || h) s << h << "h ";
  if (d || h || m) s << m << "m ";
  s << sec << "s";
  return s.str();
}

// One line for a profile-group sweep (status and sync print it alike).
std::string group_summary(const ipc::msg::GroupSweepSummary& sweep) {
  std::ostringstream s;
  s << sweep.devices << " device(s) checked, " << sweep.added << " added to their profile's group, "
    << sweep.removed << " removed from another profile's group, " << sweep.removals_skipped
    << " removal(s) skipped, " << sweep.skipped << " without an Entra ID device id yet, "
    << sweep.errors << " error(s), " << sweep.requests << " call(s)";
  return s.str();
}

// What the activity pass found beside our devices: partner devices given the profile their tag
// maps to, and tenant devices without any group tag (tracked only with track_untagged), the first
// few named.
void print_untagged(const ipc::msg::ActivityPassSummary& activity, Io& io) {
  if (activity.profiles_set > 0) {
    io.out << activity.profiles_set
           << " partner-registered device(s) given the profile their group tag maps to "
           << "(tag_profiles)\n";
  }
  if (activity.untagged == 0) return;
  if (activity.untagged_added >= activity.untagged) {
    io.out << activity.untagged_added
           << " device(s) without a group tag found in the tenant; now tracked "
           << "(track_untagged), without a profile:\n";
  } else {
    io.out << activity.untagged
           << " device(s) in the tenant have no group tag and are not in Hangar; "
           << "not tracked (to track them: \"track_untagged\": true in hangar.json, or import "
           << "their CSV):\n";
  }
  for (const auto& device : activity.untagged_devices) {
    std::string make = device.manufacturer;
    if (!device.model.empty()) make += (make.empty() ? "" : " ") + device.model;
    io.out << "  " << device.serial << (make.empty() ? std::string() : "  " + make) << "\n";
  }
  if (const auto more =
          activity.untagged - static_cast<std::int64_t>(activity.untagged_devices.size());
      more > 0) {
    io.out << "  and " << more << " more (each is named in the service log)\n";
  }
}

// Asks for an activity pass (which also adds partner-registered devices) and waits (up to
// --timeout) for it to finish, then reports it. `hangar sync` is the same pass, worded for
// partner devices, followed by a profile-group sweep when profile groups are configured.
int activity_pass(const Globals& g, const std::vector<std::string>& args, Io& io,
                  const char* name) {
  using ipc::msg::StatusReply;
  auto parsed = parse_args(args, {}, {"--no-wait"});
  if (!parsed) return usage_error(io, name, parsed.error().message);
  if (!parsed->positional.empty()) return usage_error(io, name, "takes no arguments");
  const bool with_groups = std::string(name) == "sync";
  const auto last_pass = [](const StatusReply& status) -> std::int64_t {
    const auto& activity = status.cloud.activity;
    return activity && activity->last ? activity->last->last_pass_at : 0;
  };
  const auto last_sweep = [](const StatusReply& status) -> std::int64_t {
    const auto& groups = status.cloud.groups;
    return groups && groups->last_sweep ? groups->last_sweep->finished_at : 0;
  };
  auto before = call_typed<StatusReply>(g, io);
  if (auto* code = std::get_if<int>(&before)) return *code;
  const StatusReply& was = std::get<Typed<StatusReply>>(before).reply;
  const bool sweep = with_groups && was.cloud.groups && was.cloud.groups->configured;
  const std::int64_t previous = last_pass(was);
  const std::int64_t previous_sweep = last_sweep(was);
  // A connection lost just before puts the cloud "offline" until the service's next probe, a few
  // seconds on: only a failure after this request is an answer (black-box round 7).
  const std::int64_t asked_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  auto asked = call(g, io, "refresh");
  if (auto* code = std::get_if<int>(&asked)) return *code;
  if (sweep) {
    auto swept = call(g, io, "sweep-groups");
    if (auto* code = std::get_if<int>(&swept)) return *code;
  }
  if (parsed->has("--no-wait")) {
    io.out << (g.json
                   ? json_text(Json{{"ok", true}, {"refresh", "requested"}, {"group_sweep", sweep}})
                   : std::string(name) +
                         " requested: the activity pass (Active / Inactive, partner-registered "
                         "devices) runs now" +
                         (sweep ? ", then the profile-group sweep" : ""))
           << "\n";
    return kOk;
  }
  const auto deadline = std::chrono::steady_clock::now() + g.timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto now = call_typed<StatusReply>(g, io);
    if (auto* code = std::get_if<int>(&now)) return *code;
    const StatusReply& status = std::get<Typed<StatusReply>>(now).reply;
    const ipc::msg::Cloud& cloud = status.cloud;
    if (!cloud.online.value_or(true) && cloud.last_error_at.value_or(0) >= asked_ms) {
      // The service answered; the cloud did not. Exit 3 means "service unreachable" only.
      return report_error(
          core::make_error("cloud_offline",
                           std::string("the cloud is offline") +
                               (cloud.last_error ? " (" + *cloud.last_error + ")" : std::string()) +
                               "; the service runs the " +
                               (sweep ? "activity pass and group sweep" : "activity pass") +
                               " once it is reachable again (see hangar status)"),
          g, io);
    }
    if (last_pass(status) > previous && (!sweep || last_sweep(status) > previous_sweep)) {
      const ipc::msg::ActivityPassSummary& a = *cloud.activity->last;
      if (g.json) {
        Json out{{"ok", true}, {"activity", cloud.activity->to_json()}};
        if (sweep) out["groups"] = cloud.groups->last_sweep->to_json();
        io.out << json_text(out) << "\n";
      } else {
        // One fact a line, each within 80 columns; "changed" said as what it is (black-box
        // round 6: "1198 changed" explained nothing).
        io.out << a.partners_added << " partner-registered device(s) added\n"
               << "activity pass: " << a.devices << " registered device(s), " << a.active
               << " active, " << a.inactive << " inactive\n"
               << "  " << a.rows_written
               << " queue record(s) updated (state, enrollment, last sync); " << a.requests
               << " list call(s)\n";
        print_untagged(a, io);
        if (sweep) {
          const ipc::msg::GroupSweepSummary& last = *cloud.groups->last_sweep;
          io.out << "profile groups: " << group_summary(last) << "\n";
          // Removals held back: the device stays where it is, and why.
          const auto kept_list =
              last.skipped_removals.value_or(std::vector<ipc::msg::SkippedRemovalInfo>{});
          for (const auto& kept : kept_list) {
            io.out << "  not removed: " << kept.serial << " stays in " << kept.group_id << " ("
                   << kept.profile << "'s group): " << kept.reason << "\n";
          }
          if (const std::int64_t more =
                  last.removals_skipped - static_cast<std::int64_t>(kept_list.size());
              more > 0) {
            io.out << "  and " << more << " more (see the service log)\n";
          }
        } else if (with_groups) {
          io.out << "profile groups: not configured (profile_groups in hangar.json)\n";
        }
      }
      return kOk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Not kTimeout: the service answered every call; exit 3 is for a service that does not.
  return report_error(
      core::make_error("not_finished",
                       std::string("the ") +
                           (sweep ? "activity pass and group sweep" : "activity pass") +
                           " did not finish in time (the cloud may be "
                           "offline or throttling; see hangar status)"),
      g, io);
}

}  // namespace

int cmd_version(const Globals& g, const std::vector<std::string>&, Io& io) {
  auto client = ipc::Client::connect(g.endpoint, std::chrono::seconds(2));
  Json service;
  std::optional<ipc::msg::VersionReply> parsed;
  std::string service_error;
  if (client) {
    auto result = client->call("version", Json::object(), g.timeout);
    if (result) {
      if (auto typed = ipc::msg::VersionReply::from_json(*result)) {
        service = *result;
        parsed = std::move(typed).value();
      } else {
        service_error = typed.error().message;
      }
    } else {
      service_error = result.error().message;
    }
  } else {
    service_error = client.error().message;
  }
  if (g.json) {
    Json j{{"client_version", core::kVersion},
           {"platform", core::kPlatform},
           {"protocol", ipc::kProtocolVersion}};
    if (!service.is_null())
      j["service"] = service;
    else
      j["service_error"] = service_error;
    io.out << json_text(j) << "\n";
  } else {
    io.out << "hangar " << core::kVersion << " (" << core::kPlatform << ", protocol "
           << ipc::kProtocolVersion << ")\n";
    if (parsed) {
      io.out << "service " << parsed->service_version << " (" << parsed->platform << ", protocol "
             << parsed->protocol << ") at " << g.endpoint << "\n";
    } else {
      io.out << "service: not reachable (" << service_error << ")\n";
    }
  }
  return kOk;  // the client's own version is always known
}

int cmd_ping(const Globals& g, const std::vector<std::string>&, Io& io) {
  auto start = std::chrono::steady_clock::now();
  auto result = call(g, io, "ping");
  if (auto* code = std::get_if<int>(&result)) return *code;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
  if (g.json) {
    io.out << json_text(Json{{"ok", true}, {"endpoint", g.endpoint}, {"round_trip_us", micros}})
           << "\n";
  } else {
    io.out << "pong from " << g.endpoint << " in " << std::fixed << std::setprecision(1)
           << static_cast<double>(micros) / 1000.0 << " ms\n";
  }
  return kOk;
}

int cmd_status(const Globals& g, const std::vector<std::string>&, Io& io) {
  auto result = call_typed<ipc::msg::StatusReply>(g, io);
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& typed = std::get<Typed<ipc::msg::StatusReply>>(result);
  if (g.json) {
    io.out << json_text(typed.json) << "\n";
    return kOk;
  }
  const ipc::msg::StatusReply& s = typed.reply;
  // Built whole, then fitted: on a terminal every line wraps under its value; piped, lines stay
  // whole for grep.
  std::ostringstream out;
  out << "Hangar service " << s.service_version << " (" << s.platform << ") at " << g.endpoint
      << "\n";
  out << "  uptime        " << format_duration(s.uptime_seconds) << "\n";
  out << "  queue depth   " << s.queue_depth << " device(s) not yet registered\n";
  out << "  data dir      " << s.data_dir << "\n";
  const ipc::msg::Cloud& c = s.cloud;
  out << "  cloud         " << c.url.value_or("?") << ": "
      << (c.paused.value_or(false)  ? "uploads paused"
          : c.online.value_or(true) ? "online"
                                    : "offline (retrying)")
      << ", " << c.requests.value_or(0) << " request(s), " << c.throttled.value_or(0)
      << " throttled\n";
  if (c.mode) {
    out << "  credentials   "
        << (*c.mode == "tenant"
                ? "tenant " + c.tenant_id.value_or("?") + " (" + c.credentials.value_or("") + ")"
            : *c.mode == "simulated" ? std::string("the simulated cloud's test tenant")
                                     : c.credentials.value_or("not configured"))
        << "\n";
  }
  if (c.next_retry_at) {
    out << "  next retry    " << format_time(*c.next_retry_at);
    if (c.paused.value_or(false)) out << ", held while uploads are paused (hangar resume)";
    out << "\n";
  }
  for (const auto& form : c.needs_attention.value_or(std::vector<ipc::msg::RefusedForm>{})) {
    out << "  ATTENTION     the cloud keeps refusing " << form.request << " (" << form.purpose
        << "): HTTP " << form.http_status << " since " << format_time(form.since) << ", request id "
        << form.request_id << "; "
        << (form.fallback.empty() ? std::string("that work waits") : form.fallback) << "\n";
  }
  // A request a few seconds old is worth a line: a normal one is answered in milliseconds.
  if (c.waiting_since && c.waiting_ms.value_or(0) >= 2000) {
    out << "  waiting       " << c.waiting_on.value_or("a request") << ": sent "
        << format_time(*c.waiting_since) << ", no answer yet after " << *c.waiting_ms / 1000
        << " s";
    if (const auto more = c.requests_waiting.value_or(1); more > 1) {
      out << " (" << more << " requests waiting)";
    }
    out << "\n";
  }
  if (c.last_error) {
    // A resolved error is history, not the state of things: "none" first, then what it was.
    out << "  last error    ";
    if (c.last_error_resolved_at) {
      out << "none now: calls succeed again since " << format_time(*c.last_error_resolved_at)
          << "\n  before that   ";
    }
    if (c.last_error_at) out << format_time(*c.last_error_at) << ": ";
    // A Graph error quotes its whole answer (600 characters on one line): the start says what
    // happened; --json has it all.
    out << shorten(*c.last_error, kStatusErrorWidth);
    if (display_width(*c.last_error) > kStatusErrorWidth) {
      out << " (all of it: hangar --json status)";
    }
    out << "\n";
  }
  if (c.activity && c.activity->last) {
    const ipc::msg::ActivityPassSummary& a = *c.activity->last;
    out << "  activity      " << format_time(a.last_pass_at) << ": " << a.active << " active, "
        << a.inactive << " inactive; next " << format_time(c.activity->next_pass_at) << "\n";
    if (const auto untagged = a.untagged - a.untagged_added; untagged > 0) {
      out << "  untagged      " << untagged
          << " device(s) in the tenant without a group tag, not tracked (hangar sync "
             "lists them)\n";
    }
  }
  if (c.groups) {
    const ipc::msg::Groups& gr = *c.groups;
    out << "  groups        ";
    if (!gr.configured) {
      out << "no profile_groups configured: no group sweep\n";
    } else if (gr.last_sweep) {
      const ipc::msg::GroupSweepSummary& l = *gr.last_sweep;
      out << format_time(l.finished_at) << ": " << group_summary(l) << "; next "
          << format_time(gr.next_sweep_at.value_or(0)) << "\n";
      if (l.last_error) out << "  group error   " << *l.last_error << "\n";
    } else {
      out << (gr.running.value_or(false) ? "first sweep under way" : "no sweep yet") << "; next "
          << format_time(gr.next_sweep_at.value_or(0)) << "\n";
    }
  }
  if (!s.states.empty()) {
    out << "  devices by state:\n";
    for (const auto& [state, count] : s.states) {
      out << "    " << std::left << std::setw(22) << core::storage_key(state) << count << "\n";
    }
  }
  // Registration Pending for longer than usual (the seed: under 10 minutes), with the cause.
  if (s.long_pending > 0) {
    out << "  PENDING LONG  " << s.long_pending
        << " device(s) Registration Pending for longer than usual:\n";
    for (const auto& device : s.long_pending_devices) {
      out << "    " << device.serial << " since " << format_time(device.pending_since) << ": "
          << (device.cause.empty() ? std::string("cause not known yet") : device.cause) << "\n";
    }
    out << "    (`hangar list --state registration-pending` shows them all; a device pending "
           "past the limit becomes Registration failed)\n";
  }
  io.out << fit_to_terminal(out.str());
  return kOk;
}

int cmd_refresh(const Globals& g, const std::vector<std::string>& args, Io& io) {
  return activity_pass(g, args, io, "refresh");
}

int cmd_sync(const Globals& g, const std::vector<std::string>& args, Io& io) {
  return activity_pass(g, args, io, "sync");
}

int cmd_retry(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {}, {"--failed", "--force"});
  if (!parsed) return usage_error(io, "retry", parsed.error().message);
  Json request = Json::object();
  if (parsed->has("--failed") && parsed->positional.empty()) {
    request["failed"] = true;
  } else if (!parsed->has("--failed") && parsed->positional.size() == 1 &&
             !parsed->positional.front().empty()) {
    request["serial"] = parsed->positional.front();
  } else {
    return usage_error(io, "retry", "name one serial, or --failed for every failed device");
  }
  if (parsed->has("--force")) request["force"] = true;
  const std::string forced = parsed->has("--failed")
                                 ? std::string("hangar retry --failed --force")
                                 : "hangar retry " + parsed->positional.front() + " --force";
  return simple_write<ipc::msg::RetryReply>(
      g, io, request, [&forced](const ipc::msg::RetryReply& r) {
        std::string text = std::to_string(r.requeued) + " device(s) queued for registration again";
        // Permanent failures wait for the supplier: said, with how many and why.
        if (r.skipped > 0) {
          text += "\n" + std::to_string(r.skipped) +
                  " device(s) skipped: a retry cannot help until the supplier acts";
          for (const auto& reason :
               r.skipped_reasons.value_or(std::vector<ipc::msg::SkippedReason>{})) {
            text += "\n  " + std::to_string(reason.devices) + " " + reason.reason + ": " +
                    reason.advice;
          }
          text += "\n(" + forced + " retries them too)";
        }
        return text;
      });
}

int cmd_pause(const Globals& g, const std::vector<std::string>&, Io& io) {
  return simple_write(g, io, "pause", Json::object(), [](const Json&) {
    return std::string("uploads paused; devices stay queued (hangar resume to continue)");
  });
}

int cmd_resume(const Globals& g, const std::vector<std::string>&, Io& io) {
  return simple_write(g, io, "resume", Json::object(),
                      [](const Json&) { return std::string("uploads resumed"); });
}

// `hangar capture`: the capture itself lives in capture_cmd.cpp; queuing goes through `import`,
// so the service validates a captured device exactly like one from a file.
int cmd_capture(const Globals& g, const std::vector<std::string>& args, Io& io) {
  const auto queue = [&g](const core::DeviceRecord& device) -> core::Result<std::string> {
    auto client = connect(g);
    if (!client) return client.error();
    ipc::msg::ImportRequest request;
    request.devices.push_back(ipc::device_to_wire(device));
    auto reply = client->call("import", request.to_json(), g.timeout);
    if (!reply) return reply.error();
    auto parsed = ipc::msg::ImportReply::from_json(*reply);
    if (!parsed) return parsed.error();
    if (parsed->results.size() != 1) {
      return ipc::msg::malformed(
          ipc::msg::ImportReply::kWhat,
          "one device was sent, " + std::to_string(parsed->results.size()) + " results came back");
    }
    const ipc::msg::ImportResult& result = parsed->results.front();
    if (result.outcome == "accepted") return std::string("queued for registration");
    if (result.outcome == "already_queued") return std::string("already queued");
    return core::make_error("rejected", result.reason.value_or(result.outcome));
  };
  return run_capture(args, g.json, io.out, io.err, queue);
}

}  // namespace hangar::cli
