// hangar list, show, remove and export: reading and editing the service's device queue.
#include <algorithm>
#include <array>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "cli_common.h"
#include "hangar/core/clock.h"
#include "hangar/core/device.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/output_file.h"
#include "hangar/core/principal_name.h"
#include "hangar/intake/csv_reader.h"
#include "hangar/intake/portal_csv.h"
#include "hangar/ipc/messages/device.h"
#include "hangar/ipc/messages/queue.h"
#include "intake_common.h"
#include "list_view.h"

namespace hangar::cli {

namespace {

using ipc::msg::Device;

// Builds the `list` request from --state/--profile/--since; the caller adds paging.
core::Result<Json> list_request(const ParsedArgs& parsed) {
  Json request = Json::object();
  // Checked here: a name the service would refuse is a usage error (exit 2), not a failure.
  if (auto text = parsed.value("--state")) {
    auto state = state_argument(*text);
    if (!state) return state.error();
    request["state"] = std::string(core::storage_key(*state));
  }
  if (auto text = parsed.value("--profile")) {
    auto profile = profile_argument(*text);
    if (!profile) return profile.error();
    request["profile"] = std::string(core::cli_name(*profile));
  }
  if (auto since = parsed.value("--since")) {
    auto ms = parse_since(*since, core::SystemClock().now_ms());
    if (!ms) return ms.error();
    request["since_ms"] = *ms;
  }
  return request;
}

// Calls `list` page after page until `limit` rows (0: all) or the end, handing each row to `sink`
// as the service sent it (what --json prints) and as parsed (ipc::msg::ListReply). `total`, when
// given, receives how many devices match in all (the first page's count).
int for_each_device(const Globals& g, Io& io, Json request, std::int64_t limit,
                    const std::function<void(const Json&, const Device&)>& sink,
                    std::int64_t* total = nullptr) {
  auto client = connect(g);
  if (!client) return report_error(client.error(), g, io);
  std::int64_t seen = 0;
  for (;;) {
    if (limit > 0) request["limit"] = limit - seen;
    auto reply = client->call("list", request, g.timeout);
    if (!reply) return report_error(reply.error(), g, io);
    auto page = ipc::msg::ListReply::from_json(*reply);
    if (!page) return report_error(page.error(), g, io);
    if (total && page->total) *total = *page->total;
    const Json& rows = (*reply)["devices"];
    for (std::size_t i = 0; i < page->devices.size(); ++i) {
      sink(rows[i], page->devices[i]);
      ++seen;
    }
    if (!page->next_after_id || (limit > 0 && seen >= limit)) break;
    request["after_id"] = *page->next_after_id;
  }
  return kOk;
}

}  // namespace

int cmd_list(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed =
      parse_args(args, {"--state", "--profile", "--since", "--limit"}, {"--wide", "--handoff"});
  if (!parsed) return usage_error(io, "list", parsed.error().message);
  if (!parsed->positional.empty()) {
    return usage_error(io, "list", "unexpected argument \"" + parsed->positional.front() + "\"");
  }
  auto request = list_request(*parsed);
  if (!request) return usage_error(io, "list", request.error().message);
  std::int64_t limit = 0;
  if (auto text_limit = parsed->value("--limit")) {
    try {
      std::size_t used = 0;
      limit = std::stoll(*text_limit, &used);
      if (used != text_limit->size() || limit < 1) throw std::invalid_argument("range");
    } catch (const std::exception&) {
      return usage_error(io, "list",
                         "--limit takes a positive number, not \"" + *text_limit + "\"");
    }
  }
  // The table needs make and model, which a hash CSV (Get-WindowsAutoPilotInfo's) does not carry:
  // they are read from the hash itself, as `show` does. --json prints the rows as stored.
  if (!g.json) (*request)["with_hash"] = true;
  Json rows = Json::array();
  std::vector<ListRow> table;
  const bool handoff = parsed->has("--handoff");
  std::vector<std::vector<std::string>> handoff_rows;
  std::int64_t total = -1;
  const int code = for_each_device(
      g, io, *request, limit,
      [&](const Json& raw, const Device& row) {
        if (g.json) {
          rows.push_back(raw);
          return;
        }
        std::string manufacturer = row.manufacturer.value_or("");
        std::string model = row.model.value_or("");
        if ((manufacturer.empty() || model.empty()) && row.hash && !row.hash->empty()) {
          if (auto info = core::parse_hardware_hash_text(*row.hash)) {
            if (manufacturer.empty()) manufacturer = info->manufacturer;
            if (model.empty()) model = info->model;
          }
        }
        const std::string delivered_to = row.delivered_to.value_or("");
        if (handoff) {
          // The user it was delivered to, else the one the import named (not assigned yet).
          std::string user = delivered_to;
          if (user.empty() && !row.assigned_user.value_or("").empty()) {
            user = *row.assigned_user + " (not delivered)";
          }
          handoff_rows.push_back({row.serial, manufacturer, model, row.group_tag.value_or(""),
                                  row.profile, row.state_display, std::move(user),
                                  row.last_contacted_at
                                      ? format_time(*row.last_contacted_at).substr(0, 16)
                                      : std::string("never")});
          return;
        }
        // A long Registration Pending says so, with its cause where the failure would be.
        std::string state = row.state_display;
        std::string problem = row.failure_reason.value_or("");
        // Delivered: still Ready for user until its user enrolls it, so the user is shown.
        if (!delivered_to.empty()) state += " (" + delivered_to + ")";
        if (row.uploading_since) state += " (sending)";
        if (row.long_pending.value_or(false)) {
          state += " (long)";
          problem = "pending longer than usual: " + (row.pending_cause.value_or("").empty()
                                                         ? std::string("cause not known yet")
                                                         : *row.pending_cause);
        }
        table.push_back({row.serial, std::move(state), row.profile,
                         // The minute is enough in a table; `show` has the second.
                         format_time(row.state_changed_at).substr(0, 16), std::move(manufacturer),
                         std::move(model), std::move(problem)});
      },
      &total);
  if (code != kOk) return code;
  // An older service sends no total: what was read is all that is known.
  const std::size_t shown = g.json ? rows.size() : handoff ? handoff_rows.size() : table.size();
  if (total < static_cast<std::int64_t>(shown)) total = static_cast<std::int64_t>(shown);
  if (g.json) {
    io.out << json_text(Json{{"ok", true},
                             {"devices", std::move(rows)},
                             {"shown", shown},
                             {"total", total},
                             {"order", "queued"}})
           << "\n";
  } else if (handoff && !handoff_rows.empty()) {
    const std::string shared =
        print_handoff_table(handoff_rows, parsed->has("--wide"), output_columns(), io.out);
    io.out << list_count_line(shown, total)
           << (shared.empty() ? std::string() : "; every one: " + shared) << "\n";
  } else if (shown == 0) {
    io.out << (total > 0 ? "0 of " + with_thousands(total) + " device(s) shown\n"
                         : std::string("no devices match\n"));
  } else {
    const std::string shared =
        print_list_table(table, parsed->has("--wide"), output_columns(), io.out);
    io.out << list_count_line(shown, total) << (shared.empty() ? std::string() : ", " + shared)
           << "\n";
  }
  return kOk;
}

int cmd_deliver(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {"--user"});
  if (!parsed) return usage_error(io, "deliver", parsed.error().message);
  const auto user = parsed->value("--user");
  if (parsed->positional.size() != 1 || parsed->positional.front().empty() ||
      (user && user->empty())) {
    return usage_error(io, "deliver",
                       "name one serial number, and --user UPN unless the import named the user");
  }
  if (user) {
    // The rule import, capture and the CSV's Assigned User column follow: a usage error here too
    // (black-box round 7: deliver said it with exit 1).
    if (auto problem = core::user_principal_name_problem(*user); !problem.empty()) {
      return usage_error(io, "deliver",
                         "--user takes the user's principal name, and \"" +
                             printable_argument(*user) + "\" " + problem + " (" +
                             std::string(core::user_principal_name_rule()) + ")");
    }
  }
  Json request{{"serial", parsed->positional.front()}};
  if (user) request["user"] = *user;  // else the user the import named
  auto wait = operator_wait_ms(g);
  if (!wait) return usage_error(io, "deliver", wait.error().message);
  request["wait_ms"] = *wait;
  auto result = call_typed<ipc::msg::DeliverReply>(g, io, request);
  if (auto* code = std::get_if<int>(&result)) return *code;
  auto& typed = std::get<Typed<ipc::msg::DeliverReply>>(result);
  const ipc::msg::DeliverReply& device = typed.reply;
  // Delivered before: the service sent nothing (black-box rounds 10 and 11: a second run read as
  // a new assignment).
  const auto already = typed.json.find("already_delivered");
  const bool before = already != typed.json.end() && already->is_boolean() &&
                      already->get<bool>() && device.delivered_at;
  if (g.json) {
    Json out = std::move(typed.json);
    out.erase("hash");  // as show --json: the device, not its 4 KB hash
    out["ok"] = true;
    out["already_delivered"] = before;
    io.out << json_text(out) << "\n";
  } else if (before) {
    io.out << device.serial << " was already delivered to " << device.delivered_to.value_or("")
           << " on " << format_time(*device.delivered_at) << "; nothing was sent\n";
  } else {
    io.out << "delivered " << device.serial << " to " << device.delivered_to.value_or("")
           << " (assigned in Autopilot)\n";
  }
  return kOk;
}

int cmd_show(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {});
  if (!parsed) return usage_error(io, "show", parsed.error().message);
  if (parsed->positional.size() != 1 || parsed->positional.front().empty()) {
    return usage_error(io, "show", "name one serial number");
  }
  auto result =
      call_typed<ipc::msg::ShowReply>(g, io, Json{{"serial", parsed->positional.front()}});
  if (auto* code = std::get_if<int>(&result)) return *code;
  auto& typed = std::get<Typed<ipc::msg::ShowReply>>(result);
  if (g.json) {
    typed.json.erase("hash");
    io.out << json_text(typed.json) << "\n";
    return kOk;
  }
  const ipc::msg::ShowReply& reply = typed.reply;
  // Written whole, then fitted to the terminal: a long value carries on under its own column.
  std::ostringstream out;
  const Device& device = reply.device;
  auto line = [&](const char* label, const std::string& value) {
    if (!value.empty()) out << "  " << std::left << std::setw(16) << label << value << "\n";
  };
  const auto text = [](const std::optional<std::string>& value) { return value.value_or(""); };
  out << "Device " << device.serial << "\n";
  line("state", device.state_display);
  // "Queued" alone while remove refuses it as being uploaded read as a contradiction (round 8).
  if (device.uploading_since) {
    // Its answer may have been lost as well as awaited (black-box round 13: "awaited" 20 s after
    // the connection dropped): said as remove says it.
    line("uploading", "sent at " + format_time(*device.uploading_since) +
                          "; its answer is awaited, or was lost and the registration pass "
                          "looks the device up before sending it again (remove waits for it)");
  }
  if (device.long_pending.value_or(false)) {
    line("pending long",
         "since " + format_time(device.state_changed_at) + " (usually under 10 minutes): " +
             (text(device.pending_cause).empty() ? std::string("cause not known yet")
                                                 : *device.pending_cause));
  }
  line("profile", device.profile.empty() && device.partner_registered
                      ? std::string("none (registered by a partner; nobody chose one)")
                      : device.profile);
  line("manufacturer", text(device.manufacturer));
  line("model", text(device.model));
  line("product id", text(device.product_id));
  line("group tag", text(device.group_tag));
  line("assigned user", text(device.assigned_user));
  std::string source = text(device.source_file);
  if (!source.empty() && device.source_line) source += ":" + std::to_string(*device.source_line);
  line("from", source);
  line("queued at", format_time(device.created_at));
  line("attempts", std::to_string(device.attempts));
  line("failure", text(device.failure_reason));
  line("what to do", text(device.advice));
  line("last error", text(device.last_error));
  line("request id", text(device.request_id));
  line("cloud id", text(device.cloud_device_id));
  line("enrollment", text(device.enrollment_state));
  line("Entra device", text(device.azure_ad_device_id));
  if (device.last_sync_at) line("last sync", format_time(*device.last_sync_at));
  if (device.delivered_at) {
    line("delivered", text(device.delivered_to) + " at " + format_time(*device.delivered_at));
  }
  if (reply.hash_summary) {
    const ipc::msg::HashSummary& h = *reply.hash_summary;
    out << "  hardware hash   " << h.bytes << " bytes";
    if (h.error) {
      out << ", not valid: " << *h.error << "\n";
    } else {
      out << ", OS build " << text(h.os_build) << ", serial " << text(h.serial) << ", "
          << text(h.manufacturer) << " " << text(h.model) << ", checksum " << text(h.checksum)
          << "\n";
    }
  } else if (device.partner_registered) {
    out << "  hardware hash   none (registered by a partner: Hangar never had its hash)\n";
  } else {
    out << "  hardware hash   none (registered by manufacturer, model and serial)\n";
  }
  out << "  history:\n";
  for (const auto& change : reply.history) {
    out << "    " << format_time(change.at) << "  " << change.to_display;
    if (!text(change.reason).empty()) out << " (" << *change.reason << ")";
    out << "\n";
  }
  // What the profile-group sweep undid: manual membership changes (the seed's behaviour).
  if (!reply.group_corrections.empty()) {
    out << "  group corrections:\n";
    for (const auto& correction : reply.group_corrections) {
      const bool added = correction.action == "added";
      out << "    " << format_time(correction.at) << "  ";
      if (correction.action == "skipped") {
        // A removal the sweep held back so the device is never in no profile group.
        out << "not removed from " << correction.group_id << " (" << correction.profile
            << "'s group: another profile): " << text(correction.reason) << "\n";
        continue;
      }
      out << (added ? "added to " : "removed from ") << correction.group_id << " ("
          << correction.profile
          << (added ? "'s group: the device's profile)" : "'s group: another profile)") << "\n";
    }
  }
  io.out << fit_to_terminal(out.str());
  return kOk;
}

int cmd_remove(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {}, {"--force"});
  if (!parsed) return usage_error(io, "remove", parsed.error().message);
  if (parsed->positional.size() != 1 || parsed->positional.front().empty()) {
    return usage_error(io, "remove", "name one serial number");
  }
  Json request{{"serial", parsed->positional.front()}};
  if (parsed->has("--force")) {
    // Only a forced removal may wait for the cloud (a pending device's import is asked about).
    auto wait = operator_wait_ms(g);
    if (!wait) return usage_error(io, "remove --force", wait.error().message);
    request["force"] = true;
    request["wait_ms"] = *wait;
  }
  auto result = call_typed<ipc::msg::RemoveReply>(g, io, request);
  if (auto* code = std::get_if<int>(&result)) return *code;
  const ipc::msg::RemoveReply& reply = std::get<Typed<ipc::msg::RemoveReply>>(result).reply;
  if (g.json) {
    Json out{{"ok", true}, {"removed", reply.removed}, {"state", core::storage_key(reply.state)}};
    if (reply.import_record_deleted) out["import_record_deleted"] = *reply.import_record_deleted;
    io.out << json_text(out) << "\n";
  } else {
    io.out << "removed " << reply.removed << " from the queue\n";
    if (reply.import_record_deleted) {
      io.out << "its import record in the cloud (" << *reply.import_record_deleted
             << ") is deleted, and the tenant does not list it: it is not registered\n";
    }
    // The tenant keeps its registration: say so, and how to delete that too.
    if (reply.registered_in_autopilot) {
      io.out << reply.removed
             << " is still registered in Windows Autopilot (the tenant keeps it; partner sync "
                "will not add it back here); to delete that registration too: hangar "
                "deregister "
             << reply.removed
             << "; to track it again: import it again (serial, manufacturer and model are "
                "enough, no hash: the tenant lists it)\n";
    }
  }
  return kOk;
}

int cmd_deregister(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {}, {"--yes", "--force"});
  if (!parsed) return usage_error(io, "deregister", parsed.error().message);
  if (parsed->positional.size() != 1 || parsed->positional.front().empty()) {
    return usage_error(io, "deregister", "name one serial number");
  }
  const std::string& serial = parsed->positional.front();
  auto wait = operator_wait_ms(g);
  if (!wait) return usage_error(io, "deregister", wait.error().message);
  Json request{{"serial", serial}, {"wait_ms", *wait}};
  if (parsed->has("--force")) request["force"] = true;
  if (!parsed->has("--yes")) {
    if (!io.in || !io.in_is_terminal) {
      return usage_error(io, "deregister",
                         "pass --yes to confirm (standard input is not a terminal)");
    }
    // The service looks the device up first, so a refusal (another team's device, nothing in the
    // tenant, an import still followed) comes before the question, and the question names what
    // would be deleted (black-box round 9).
    Json check = request;
    check["check"] = true;
    auto looked_up = call_typed<ipc::msg::DeregisterReply>(g, io, check);
    if (auto* code = std::get_if<int>(&looked_up)) return *code;
    const ipc::msg::DeregisterReply& found =
        std::get<Typed<ipc::msg::DeregisterReply>>(looked_up).reply;
    std::string question;
    if (found.never_registered.value_or(false) || found.already_deleted.value_or(false)) {
      question = serial +
                 " is not registered in Windows Autopilot (the tenant does not list it): "
                 "take it out of the queue, for good (partner sync will not add it back)?";
    } else {
      question = "Delete the Windows Autopilot registration of " + serial + " (" +
                 found.autopilot_id +
                 ") in the tenant? The device will not get its profile at setup until it is "
                 "registered again.";
    }
    if (!confirm(question, io)) {
      // The admin's own choice, not a failure: nothing changed, exit 0 (as `rm -i` answered no).
      io.err << "nothing deleted (answered no)\n";
      return kOk;
    }
  }
  return simple_write<ipc::msg::DeregisterReply>(
      g, io, request, [](const ipc::msg::DeregisterReply& reply) {
        if (reply.never_registered.value_or(false)) {
          return reply.deregistered +
                 " was never registered in Windows Autopilot (the tenant does not list it): "
                 "nothing to delete there; it is out of the queue and partner sync will not add "
                 "it back";
        }
        if (reply.already_deleted.value_or(false)) {
          return reply.deregistered +
                 " was already deleted in Windows Autopilot; it is out of the queue and partner "
                 "sync will not add it back";
        }
        return "deleted the Windows Autopilot registration of " + reply.deregistered + " (" +
               reply.autopilot_id +
               "); it is out of the queue and partner sync will not add it back";
      });
}

int cmd_export(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {"--format", "-o", "--output", "--state", "--profile", "--since"});
  if (!parsed) return usage_error(io, "export", parsed.error().message);
  // --json asks for JSON: the export itself, or (written to a file) a summary of it.
  const std::string format = parsed->value("--format").value_or(g.json ? "json" : "");
  if (format != "csv" && format != "json") {
    const std::string what =
        format.empty() ? std::string("--format csv|json is required")
                       : "--format \"" + printable_argument(format) + "\" is not one of csv|json";
    return usage_error(io, "export",
                       what + " (csv: the portal's upload format; json: every field and state)");
  }
  auto request = list_request(*parsed);
  if (!request) return usage_error(io, "export", request.error().message);
  (*request)["with_hash"] = true;
  auto output = parsed->value("-o");
  if (!output) output = parsed->value("--output");
  if (g.json && format == "csv" && !output) {
    return usage_error(io, "export",
                       "--json with --format csv needs -o FILE (the CSV would be standard output)");
  }
  Json left_out_unfit = Json::array();
  const auto summary = [&](std::size_t devices, std::size_t left_out, const Json& files,
                           const OutputSetTidy& tidied = {}) {
    io.out << json_text(Json{{"ok", left_out_unfit.empty()},
                             {"format", format},
                             {"devices", devices},
                             {"left_out_without_hash", left_out},
                             {"left_out_unfit", left_out_unfit},
                             {"files", files},
                             {"removed_earlier_parts", tidied.removed},
                             {"kept_other_files", tidied.kept_other}})
           << "\n";
  };

  std::vector<core::DeviceRecord> records;  // csv
  Json rows = Json::array();                // json
  std::size_t hashless = 0;
  const int code = for_each_device(g, io, *request, 0, [&](const Json& raw, const Device& row) {
    if (format == "json") {
      rows.push_back(raw);
      return;
    }
    core::DeviceRecord record;
    record.serial_number = row.serial;
    record.windows_product_id = row.product_id.value_or("");
    record.group_tag = row.group_tag.value_or("");
    // Only `deliver` assigns a user, after the licence check: the user an import named is
    // unchecked, so the portal gets the delivered user or none.
    record.assigned_user = row.delivered_to.value_or("");
    if (auto bytes = core::decode_base64_bytes(row.hash.value_or(""))) {
      record.hardware_hash = *bytes;
    }
    if (record.hardware_hash.empty()) {
      ++hashless;  // the portal's format needs a hash: partner devices cannot go in it
      return;
    }
    records.push_back(std::move(record));
  });
  if (code != kOk) return code;

  if (format == "json") {
    const std::string body = json_text(rows) + "\n";
    if (!output) {
      io.out << body;
      return kOk;
    }
    if (auto written = core::write_output_file(
            std::filesystem::path(std::u8string(output->begin(), output->end())), body);
        !written) {
      return report_error(written.error(), g, io);
    }
    if (g.json) {
      summary(rows.size(), 0, Json::array({*output}));
    } else {
      io.err << "exported " << rows.size() << " device(s) to " << *output << "\n";
    }
    return kOk;
  }
  if (hashless > 0 && !g.json) {
    io.err << "hangar export: " << hashless
           << " device(s) without a hardware hash left out (the portal's CSV needs one)\n";
  }
  // A device whose fields the portal's CSV cannot carry (queued by an older version) is left out
  // and named; the others are exported all the same: one device never blocks the whole queue.
  Json unfit = Json::array();
  std::erase_if(records, [&](const core::DeviceRecord& record) {
    const auto problems = core::check_portal_records(std::span(&record, 1));
    for (const auto& problem : problems) {
      // "record 1 (serial 'X'): contains a comma" -> "X: Group Tag contains a comma"
      const auto colon = problem.message.find("): ");
      const std::string why =
          colon == std::string::npos ? problem.message : problem.message.substr(colon + 3);
      const std::string line = record.serial_number + ": " + problem.field + ": " + why;
      if (!g.json) io.err << "hangar export: left out " << line << "\n";
      unfit.push_back(line);
    }
    return !problems.empty();
  });
  if (!unfit.empty() && !g.json) {
    io.err << "hangar export: the portal's CSV cannot carry the fields above, so those devices "
              "are not in the export (exit 1); the others are\n";
  }
  left_out_unfit = unfit;
  const int done = unfit.empty() ? kOk : kFailed;
  if (!output) {
    auto status = core::write_portal_csv(records, io.out);
    if (!status) {
      io.err << "hangar export: " << status.error().message << "\n";
      return kFailed;
    }
    return done;
  }
  // No device to write never replaces yesterday's good upload file with a header alone, as with
  // merge (black-box round 9: `--state failed` matching none did).
  if (records.empty()) {
    return report_error(core::make_error("export.nothing_to_write",
                                         "no device to export: " + *output +
                                             " was not written (an earlier file of that name is "
                                             "left as it was)"),
                        g, io);
  }
  const std::filesystem::path out_path(std::u8string(output->begin(), output->end()));
  auto written = core::write_portal_csv_files(
      records, out_path, records.size() > core::kPortalMaxRows ? core::kPortalMaxRows : 0);
  if (!written) return report_error(written.error(), g, io);
  // Yesterday's upload-003.csv beside today's two parts would go up with them (black-box round 8):
  // the output set is tidied as merge's is.
  const OutputSetTidy tidied = tidy_output_set(out_path, *written);
  if (g.json) {
    Json files = Json::array();
    for (const auto& p : *written) files.push_back(core::path_to_utf8(p));
    summary(records.size(), hashless, files, tidied);
    return done;
  }
  // The files named, as merge names them: the admin uploads exactly these.
  io.err << "exported " << records.size() << " device(s) to " << written->size() << " file(s)"
         << (written->size() > 1 ? " of at most 500 rows (the portal's limit)" : "") << ":";
  for (const auto& p : *written) io.err << " " << core::path_to_utf8(p);
  io.err << "\n";
  print_output_set_tidy(tidied, "export", io.err, io.err);
  return done;
}

}  // namespace hangar::cli
