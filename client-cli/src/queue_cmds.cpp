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
#include "hangar/intake/csv_reader.h"
#include "hangar/intake/portal_csv.h"
#include "list_view.h"

namespace hangar::cli {

namespace {

std::string text(const Json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Builds the `list` request from --state/--profile/--since; the caller adds paging.
core::Result<Json> list_request(const ParsedArgs& parsed) {
  Json request = Json::object();
  // Checked here: a name the service would refuse is a usage error (exit 2), not a failure.
  if (auto text = parsed.value("--state")) {
    auto state = core::parse_device_state(*text);
    if (!state) {
      return core::make_error(
          "usage", "unknown state \"" + *text + "\"; use " + core::accepted_state_names());
    }
    request["state"] = std::string(core::storage_key(*state));
  }
  if (auto text = parsed.value("--profile")) {
    auto profile = core::parse_profile(*text);
    if (!profile) {
      return core::make_error(
          "usage", "unknown profile \"" + *text + "\"; use standard, sensitive-data or power-user");
    }
    request["profile"] = std::string(core::cli_name(*profile));
  }
  if (auto since = parsed.value("--since")) {
    auto ms = parse_since(*since, core::SystemClock().now_ms());
    if (!ms) return ms.error();
    request["since_ms"] = *ms;
  }
  return request;
}

// Calls `list` page after page until `limit` rows (0: all) or the end, handing each row to `sink`.
// `total`, when given, receives how many devices match in all (the first page's count).
int for_each_device(const Globals& g, Io& io, Json request, std::int64_t limit,
                    const std::function<void(const Json&)>& sink, std::int64_t* total = nullptr) {
  auto client = connect(g);
  if (!client) return report_error(client.error(), g, io);
  std::int64_t seen = 0;
  for (;;) {
    if (limit > 0) request["limit"] = limit - seen;
    auto reply = client->call("list", request, g.timeout);
    if (!reply) return report_error(reply.error(), g, io);
    if (total && reply->contains("total")) *total = (*reply)["total"].get<std::int64_t>();
    for (const auto& row : (*reply)["devices"]) {
      sink(row);
      ++seen;
    }
    if (!reply->contains("next_after_id") || (limit > 0 && seen >= limit)) break;
    request["after_id"] = (*reply)["next_after_id"];
  }
  return kOk;
}

// The hand-off list: what the portal's Autopilot devices page shows, one device a line. Columns
// are sized to their content; unless `wide`, the widest give way (down to 8 columns, the serial
// never) until a line fits `columns`.
void print_handoff_table(const std::vector<std::vector<std::string>>& rows, bool wide,
                         std::size_t columns, std::ostream& out) {
  const std::vector<std::string> header{"SERIAL",  "MANUFACTURER", "MODEL", "GROUP TAG",
                                        "PROFILE", "STATE",        "USER",  "LAST CONTACTED"};
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = display_width(header[c]);
    for (const auto& row : rows) width[c] = std::max(width[c], display_width(row[c]));
  }
  const auto total = [&] {
    std::size_t sum = 2 * (width.size() - 1);
    for (std::size_t w : width) sum += w;
    return sum;
  };
  while (!wide && total() > columns) {
    std::size_t widest = 1;
    for (std::size_t c = 1; c < width.size(); ++c) {
      if (width[c] > width[widest]) widest = c;
    }
    if (width[widest] <= 8) break;
    --width[widest];
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) text += "  ";
      const std::string cell = wide ? cells[c] : shorten(cells[c], width[c]);
      text += cell;
      if (c + 1 < cells.size())
        text.append(width[c] - std::min(width[c], display_width(cell)), ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
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
      [&](const Json& row) {
        if (g.json) {
          rows.push_back(row);
          return;
        }
        std::string manufacturer = text(row, "manufacturer");
        std::string model = text(row, "model");
        if ((manufacturer.empty() || model.empty()) && !text(row, "hash").empty()) {
          if (auto info = core::parse_hardware_hash_text(text(row, "hash"))) {
            if (manufacturer.empty()) manufacturer = info->manufacturer;
            if (model.empty()) model = info->model;
          }
        }
        if (handoff) {
          // The user it was delivered to, else the one the import named (not assigned yet).
          std::string user = text(row, "delivered_to");
          if (user.empty() && !text(row, "assigned_user").empty()) {
            user = text(row, "assigned_user") + " (not delivered)";
          }
          handoff_rows.push_back(
              {text(row, "serial"), manufacturer, model, text(row, "group_tag"),
               text(row, "profile"), text(row, "state_display"), std::move(user),
               row.contains("last_contacted_at")
                   ? format_time(row["last_contacted_at"].get<std::int64_t>()).substr(0, 16)
                   : std::string("never")});
          return;
        }
        // A long Registration Pending says so, with its cause where the failure would be.
        const bool long_pending = row.value("long_pending", false);
        std::string state = text(row, "state_display");
        std::string problem = text(row, "failure_reason");
        // Delivered: still Ready for user until its user enrolls it, so the user is shown.
        if (!text(row, "delivered_to").empty()) state += " (" + text(row, "delivered_to") + ")";
        if (long_pending) {
          state += " (long)";
          problem = "pending longer than usual: " + (text(row, "pending_cause").empty()
                                                         ? std::string("cause not known yet")
                                                         : text(row, "pending_cause"));
        }
        table.push_back({text(row, "serial"), std::move(state), text(row, "profile"),
                         // The minute is enough in a table; `show` has the second.
                         format_time(row.value("state_changed_at", std::int64_t{0})).substr(0, 16),
                         std::move(manufacturer), std::move(model), std::move(problem)});
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
    print_handoff_table(handoff_rows, parsed->has("--wide"), output_columns(), io.out);
    io.out << list_count_line(shown, total) << "\n";
  } else if (shown == 0) {
    io.out << (total > 0 ? "0 of " + with_thousands(total) + " device(s) shown\n"
                         : std::string("no devices match\n"));
  } else {
    const bool state_left_out =
        print_list_table(table, parsed->has("--wide"), output_columns(), io.out);
    io.out << list_count_line(shown, total)
           << (state_left_out ? ", all " + table.front()[1] : std::string()) << "\n";
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
  Json request{{"serial", parsed->positional.front()}};
  if (user) request["user"] = *user;  // else the user the import named
  request["wait_ms"] = operator_wait_ms(g);
  return simple_write(g, io, "deliver", request, [](const Json& device) {
    return "delivered " + text(device, "serial") + " to " + text(device, "delivered_to") +
           " (assigned in Autopilot)";
  });
}

int cmd_show(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {});
  if (!parsed) return usage_error(io, "show", parsed.error().message);
  if (parsed->positional.size() != 1 || parsed->positional.front().empty()) {
    return usage_error(io, "show", "name one serial number");
  }
  auto result = call(g, io, "show", Json{{"serial", parsed->positional.front()}});
  if (auto* code = std::get_if<int>(&result)) return *code;
  Json device = std::get<Json>(std::move(result));
  if (g.json) {
    device.erase("hash");
    io.out << json_text(device) << "\n";
    return kOk;
  }
  auto line = [&](const char* label, const std::string& value) {
    if (!value.empty()) io.out << "  " << std::left << std::setw(16) << label << value << "\n";
  };
  io.out << "Device " << text(device, "serial") << "\n";
  line("state", text(device, "state_display"));
  if (device.value("long_pending", false)) {
    line("pending long",
         "since " + format_time(device.value("state_changed_at", std::int64_t{0})) +
             " (usually under 10 minutes): " +
             (text(device, "pending_cause").empty() ? std::string("cause not known yet")
                                                    : text(device, "pending_cause")));
  }
  line("profile", text(device, "profile").empty() && device.value("partner_registered", false)
                      ? std::string("none (registered by a partner; nobody chose one)")
                      : text(device, "profile"));
  line("manufacturer", text(device, "manufacturer"));
  line("model", text(device, "model"));
  line("product id", text(device, "product_id"));
  line("group tag", text(device, "group_tag"));
  line("assigned user", text(device, "assigned_user"));
  std::string source = text(device, "source_file");
  if (!source.empty() && device.contains("source_line"))
    source += ":" + text(device, "source_line");
  line("from", source);
  line("queued at", format_time(device.value("created_at", std::int64_t{0})));
  line("attempts", text(device, "attempts"));
  line("failure", text(device, "failure_reason"));
  line("what to do", text(device, "advice"));
  line("last error", text(device, "last_error"));
  line("request id", text(device, "request_id"));
  line("cloud id", text(device, "cloud_device_id"));
  line("enrollment", text(device, "enrollment_state"));
  line("Entra device", text(device, "azure_ad_device_id"));
  if (device.contains("last_sync_at")) {
    line("last sync", format_time(device["last_sync_at"].get<std::int64_t>()));
  }
  if (device.contains("delivered_at")) {
    line("delivered", text(device, "delivered_to") + " at " +
                          format_time(device["delivered_at"].get<std::int64_t>()));
  }
  if (device.contains("hash_summary")) {
    const Json& h = device["hash_summary"];
    io.out << "  hardware hash   " << h.value("bytes", 0) << " bytes";
    if (h.contains("error")) {
      io.out << ", not valid: " << text(h, "error") << "\n";
    } else {
      io.out << ", OS build " << text(h, "os_build") << ", serial " << text(h, "serial") << ", "
             << text(h, "manufacturer") << " " << text(h, "model") << ", checksum "
             << text(h, "checksum") << "\n";
    }
  } else if (device.value("partner_registered", false)) {
    io.out << "  hardware hash   none (registered by a partner: Hangar never had its hash)\n";
  } else {
    io.out << "  hardware hash   none (registered by manufacturer, model and serial)\n";
  }
  io.out << "  history:\n";
  for (const auto& change : device["history"]) {
    io.out << "    " << format_time(change.value("at", std::int64_t{0})) << "  "
           << text(change, "to_display");
    if (!text(change, "reason").empty()) io.out << " (" << text(change, "reason") << ")";
    io.out << "\n";
  }
  // What the profile-group sweep undid: manual membership changes (the seed's behaviour).
  if (device.contains("group_corrections") && !device["group_corrections"].empty()) {
    io.out << "  group corrections:\n";
    for (const auto& correction : device["group_corrections"]) {
      const std::string action = text(correction, "action");
      const bool added = action == "added";
      io.out << "    " << format_time(correction.value("at", std::int64_t{0})) << "  ";
      if (action == "skipped") {
        // A removal the sweep held back so the device is never in no profile group.
        io.out << "not removed from " << text(correction, "group_id") << " ("
               << text(correction, "profile")
               << "'s group: another profile): " << text(correction, "reason") << "\n";
        continue;
      }
      io.out << (added ? "added to " : "removed from ") << text(correction, "group_id") << " ("
             << text(correction, "profile")
             << (added ? "'s group: the device's profile)" : "'s group: another profile)") << "\n";
    }
  }
  return kOk;
}

int cmd_remove(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {}, {"--force"});
  if (!parsed) return usage_error(io, "remove", parsed.error().message);
  if (parsed->positional.size() != 1 || parsed->positional.front().empty()) {
    return usage_error(io, "remove", "name one serial number");
  }
  Json request{{"serial", parsed->positional.front()}};
  if (parsed->has("--force")) request["force"] = true;
  request["wait_ms"] = operator_wait_ms(g);
  auto result = call(g, io, "remove", request);
  if (auto* code = std::get_if<int>(&result)) return *code;
  const Json& reply = std::get<Json>(result);
  if (g.json) {
    Json out{{"ok", true}, {"removed", reply["removed"]}, {"state", reply.value("state", "")}};
    if (reply.contains("import_record_deleted")) {
      out["import_record_deleted"] = reply["import_record_deleted"];
    }
    io.out << json_text(out) << "\n";
  } else {
    io.out << "removed " << text(reply, "removed") << " from the queue\n";
    if (reply.contains("import_record_deleted")) {
      io.out << "its import record in the cloud (" << text(reply, "import_record_deleted")
             << ") is deleted, and the tenant does not list it: it is not registered\n";
    }
    // The tenant keeps its registration: say so, and how to delete that too.
    if (reply.value("registered_in_autopilot", false)) {
      io.out << text(reply, "removed")
             << " is still registered in Windows Autopilot (the tenant keeps it; partner sync "
                "will not add it back here); to delete that registration too: hangar "
                "deregister "
             << text(reply, "removed") << "\n";
    }
  }
  return kOk;
}

int cmd_deregister(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {}, {"--yes"});
  if (!parsed) return usage_error(io, "deregister", parsed.error().message);
  if (parsed->positional.size() != 1 || parsed->positional.front().empty()) {
    return usage_error(io, "deregister", "name one serial number");
  }
  const std::string& serial = parsed->positional.front();
  if (!parsed->has("--yes")) {
    if (!io.in || !io.in_is_terminal) {
      return usage_error(io, "deregister",
                         "pass --yes to confirm (standard input is not a terminal)");
    }
    if (!confirm("Delete the Windows Autopilot registration of " + serial +
                     " in the tenant? The device will not get its profile at setup until it is "
                     "registered again.",
                 io)) {
      io.err << "nothing deleted\n";
      return kFailed;
    }
  }
  return simple_write(
      g, io, "deregister", Json{{"serial", serial}, {"wait_ms", operator_wait_ms(g)}},
      [](const Json& reply) {
        if (reply.value("already_deleted", false)) {
          return text(reply, "deregistered") +
                 " was already deleted in Windows Autopilot; it is out of the queue and partner "
                 "sync will not add it back";
        }
        return "deleted the Windows Autopilot registration of " + text(reply, "deregistered") +
               " (" + text(reply, "autopilot_id") +
               "); it is out of the queue and partner sync will not add it back";
      });
}

int cmd_export(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {"--format", "-o", "--output", "--state", "--profile", "--since"});
  if (!parsed) return usage_error(io, "export", parsed.error().message);
  // --json asks for JSON: the export itself, or (written to a file) a summary of it.
  const std::string format = parsed->value("--format").value_or(g.json ? "json" : "");
  if (format != "csv" && format != "json") {
    return usage_error(io, "export",
                       "--format csv|json is required (csv: the portal's upload "
                       "format; json: every field and state)");
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
  const auto summary = [&](std::size_t devices, std::size_t left_out, const Json& files) {
    io.out << json_text(Json{{"ok", left_out_unfit.empty()},
                             {"format", format},
                             {"devices", devices},
                             {"left_out_without_hash", left_out},
                             {"left_out_unfit", left_out_unfit},
                             {"files", files}})
           << "\n";
  };

  std::vector<core::DeviceRecord> records;  // csv
  Json rows = Json::array();                // json
  std::size_t hashless = 0;
  const int code = for_each_device(g, io, *request, 0, [&](const Json& row) {
    if (format == "json") {
      rows.push_back(row);
      return;
    }
    core::DeviceRecord record;
    record.serial_number = text(row, "serial");
    record.windows_product_id = text(row, "product_id");
    record.group_tag = text(row, "group_tag");
    // Only `deliver` assigns a user, after the licence check: the user an import named is
    // unchecked, so the portal gets the delivered user or none.
    record.assigned_user = text(row, "delivered_to");
    if (auto bytes = core::decode_base64_bytes(text(row, "hash"))) record.hardware_hash = *bytes;
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
  auto written = core::write_portal_csv_files(
      records, std::filesystem::path(std::u8string(output->begin(), output->end())),
      records.size() > core::kPortalMaxRows ? core::kPortalMaxRows : 0);
  if (!written) return report_error(written.error(), g, io);
  if (g.json) {
    Json files = Json::array();
    for (const auto& p : *written) files.push_back(core::path_to_utf8(p));
    summary(records.size(), hashless, files);
    return done;
  }
  io.err << "exported " << records.size() << " device(s) to " << written->size() << " file(s)"
         << (written->size() > 1 ? " of at most 500 rows (the portal's limit)" : "") << "\n";
  return done;
}

}  // namespace hangar::cli
