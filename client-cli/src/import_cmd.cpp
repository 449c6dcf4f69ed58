// hangar import: hash files validated here, then streamed to the service in batches (the typed
// `import` request and reply of ipc/messages/import.h), which validates every device again.
#include <future>
#include <thread>

#include "build_check.h"
#include "cli_common.h"
#include "hangar/core/principal_name.h"
#include "hangar/intake/csv_reader.h"
#include "hangar/ipc/device_wire.h"
#include "hangar/ipc/messages/import.h"
#include "intake_common.h"
#include "list_view.h"

namespace hangar::cli {

namespace {

struct ImportTotals {
  std::size_t sent = 0;
  std::size_t accepted = 0;
  std::size_t already_queued = 0;
  std::size_t duplicates = 0;  // the same device twice in one request (the service found it)
  std::size_t updated = 0;     // already queued, given another profile, group tag or user now
  // The same device, whose registration failed: not queued, nothing happens until `hangar retry`.
  std::size_t registration_failed = 0;
  std::size_t rejected = 0;  // by the service
  // Accepted devices that name a user: assigned at `hangar deliver`, once the licences are
  // checked, never at upload.
  std::size_t users_deferred = 0;
  Json problems = Json::array();
  Json updates = Json::array();   // what each update changed
  Json to_retry = Json::array();  // the registration_failed ones: location, serial, reason
};

// "A accepted, B already queued, U updated, ... C rejected": every device sent is in one of the
// counts, so they add up to the number sent (attack round 5, finding 02).
std::string progress_counts(const ImportTotals& totals) {
  std::string text = std::to_string(totals.accepted) + " accepted, " +
                     std::to_string(totals.already_queued) + " already queued, " +
                     std::to_string(totals.updated) + " updated, ";
  if (totals.duplicates > 0) text += std::to_string(totals.duplicates) + " duplicate, ";
  if (totals.registration_failed > 0) {
    text += std::to_string(totals.registration_failed) + " registration failed, ";
  }
  return text + std::to_string(totals.rejected) + " rejected";
}

// Redraws "importing: N sent ..." on a terminal; plain lines (one per batch) otherwise.
void show_progress(const ImportTotals& totals, Io& io, bool final_line) {
  if (io.err_is_terminal) {
    io.err << "\rimporting: " << totals.sent << " sent, " << progress_counts(totals)
           << (final_line ? "\n" : "") << std::flush;
  } else if (!final_line) {
    io.err << "sent " << totals.sent << " device(s): " << progress_counts(totals) << "\n";
  }
}

}  // namespace

int cmd_import(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {"--profile", "--group-tag", "--user", "--expect-build"},
                           {"--strict", "--allow-build-mismatch"}, ArgumentText::kFileNames);
  if (!parsed) return usage_error(io, "import", parsed.error().message);
  if (parsed->positional.empty()) return usage_error(io, "import", "name one or more CSV files");
  if (auto problem = shared_option_problem(*parsed)) return usage_error(io, "import", *problem);
  if (auto user = parsed->value("--user")) {
    // The rule `deliver` and the CSV's Assigned User column are checked by (core).
    if (auto problem = core::user_principal_name_problem(*user); !problem.empty()) {
      return usage_error(io, "import",
                         "--user takes the user's principal name, and \"" +
                             printable_argument(*user) + "\" " + problem + " (" +
                             std::string(core::user_principal_name_rule()) + ")");
    }
  }
  auto profile_text = parsed->value("--profile");
  if (!profile_text) {
    return usage_error(io, "import",
                       "--profile standard|sensitive-data|power-user is required (the seed's "
                       "device profile for these devices)");
  }
  auto profile = profile_argument(*profile_text);
  if (!profile) return usage_error(io, "import", profile.error().message);
  // Without --group-tag a row without one is sent without one: the service gives a new device the
  // default tag (Microsoft365Managed_Autopilot), and a device already queued keeps its own.
  const std::string group_tag = parsed->value("--group-tag").value_or("");
  const std::string user = parsed->value("--user").value_or("");
  const auto options = validation_options(*parsed);
  const bool allow_mismatch = parsed->has("--allow-build-mismatch");
  BuildMismatches refused_builds;  // devices on another OS build, not sent
  refused_builds.expected = options.expect_build;

  // Fail fast, before reading anything, when nobody listens.
  auto client = connect(g);
  if (!client) return report_error(client.error(), g, io);
  // A service that reads CBOR gets the hashes as bytes: no base64 and no JSON text to write on
  // this side or to parse on the other. An older service gets JSON with base64.
  auto hash_form = ipc::HashForm::kBase64;
  if (auto version = client->call("version", Json::object(), g.timeout);
      version && ipc::supports_cbor(*version)) {
    client->set_encoding(ipc::Encoding::kCbor);
    hash_form = ipc::HashForm::kBytes;
  }

  core::Validator validator(options);
  ImportTotals totals;
  Json batch = Json::array();
  std::size_t batch_bytes = 0;
  std::vector<std::size_t> sent_index;  // validator index of every record sent, for conflicts
  std::optional<core::Error> service_error;

  std::future<core::Result<Json>> in_flight;
  const auto collect = [&]() -> bool {
    if (!in_flight.valid()) return true;
    auto reply = in_flight.get();
    if (!reply) {
      service_error = in_user_terms(g, "import", reply.error());
      return false;
    }
    auto answer = ipc::msg::ImportReply::from_json(*reply);
    if (!answer) {
      service_error = answer.error();
      return false;
    }
    for (const auto& result : answer->results) {
      ++totals.sent;
      const std::string& outcome = result.outcome;
      if (outcome == "accepted") {
        ++totals.accepted;
        if (result.user_deferred) ++totals.users_deferred;
      } else if (outcome == "already_queued") {
        ++totals.already_queued;
      } else if (outcome == "duplicate") {
        ++totals.duplicates;
      } else if (outcome == "updated") {
        ++totals.updated;
        totals.updates.push_back({{"location", result.location},
                                  {"serial", result.serial},
                                  {"reason", result.reason.value_or(outcome)}});
      } else if (outcome == "registration_failed") {
        ++totals.registration_failed;
        totals.to_retry.push_back({{"location", result.location},
                                   {"serial", result.serial},
                                   {"reason", result.reason.value_or(outcome)}});
      } else {
        ++totals.rejected;
        totals.problems.push_back({{"location", result.location},
                                   {"serial", result.serial},
                                   {"reason", result.reason.value_or(outcome)}});
      }
    }
    if (!g.json) show_progress(totals, io, false);
    return true;
  };
  const auto flush = [&]() -> bool {
    if (!collect()) return false;
    if (batch.empty()) return true;
    ipc::msg::ImportRequest typed;
    typed.devices = std::move(batch);
    if (!options.expect_build.empty()) typed.expect_build = options.expect_build;
    if (options.strict_serials) typed.strict_serials = true;
    Json request = typed.to_json();
    batch = Json::array();
    batch_bytes = 0;
    in_flight = std::async(std::launch::async, [&client, &g, request = std::move(request)] {
      // A busy service (its request memory taken by other large requests) closed the connection:
      // come back on a new one a little later, a few times, before giving up.
      const ipc::Encoding encoding = client->encoding();
      for (int attempt = 0;; ++attempt) {
        auto reply = client->call("import", request, g.timeout);
        if (reply || reply.error().code != ipc::errc::kBusy || attempt == 4) return reply;
        std::this_thread::sleep_for(std::chrono::milliseconds(250) * (1 << attempt));
        auto again = connect(g);
        if (!again) return core::Result<Json>(std::move(again).error());
        client = std::move(again);
        client->set_encoding(encoding);
      }
    });
    return true;
  };

  std::size_t files_read = 0;
  std::size_t lines_skipped = 0;  // dropped by the reader with an error: in no other count
  for (const auto& path : to_paths(parsed->positional, "import", io.err)) {
    auto reader = core::CsvReader::open(path);
    if (!reader) {
      validator.add_diagnostic(
          core::open_failure(core::path_to_utf8(path), reader.error().message));
      continue;
    }
    ++files_read;
    while (auto record = reader->next()) {
      const std::size_t index = validator.add(*record);
      if (!validator.accepted(index)) continue;
      if (!allow_mismatch && is_build_mismatch(validator, index, options.expect_build)) {
        // Another image than the staging room's: not registered until someone looks.
        const std::string build(validator.os_build(index));
        refused_builds.add(build, validator.serial(index));
        totals.problems.push_back(
            {{"location", validator.location(index)},
             {"serial", std::string(validator.serial(index))},
             {"reason", "captured on OS build " + build + ", not the expected " +
                            options.expect_build +
                            ": not imported (check the image, or --allow-build-mismatch)"}});
        continue;
      }
      core::DeviceRecord& device = record->device;
      validator.apply_corrections(index, device);  // the hash's serial where Excel changed it
      device.profile = *profile;
      if (device.group_tag.empty()) device.group_tag = group_tag;
      if (device.assigned_user.empty()) device.assigned_user = user;
      Json wire = ipc::device_to_wire(device, hash_form);
      batch_bytes += ipc::json_size(wire);
      batch.push_back(std::move(wire));
      sent_index.push_back(index);
      if ((batch.size() >= ipc::kMaxImportBatch || batch_bytes >= ipc::kMaxImportBatchBytes) &&
          !flush()) {
        break;
      }
    }
    for (auto& d : reader->take_diagnostics()) validator.add_diagnostic(std::move(d));
    lines_skipped += static_cast<std::size_t>(reader->lines_skipped());
    if (service_error) break;
  }
  if (!service_error) flush();
  if (!service_error) collect();
  if (!g.json && io.err_is_terminal) show_progress(totals, io, true);
  validator.finish();

  // A conflict found later in the input also fails the earlier row, which may already be queued.
  std::vector<std::string> notes;
  for (std::size_t index : sent_index) {
    if (!validator.accepted(index)) {
      const core::RecordResult r = validator.result(index);
      notes.push_back(r.location + ": " + r.serial_number +
                      " was queued before a conflicting row later in the input was found (" +
                      r.reason + "); check it with `hangar show " + r.serial_number + "`");
    }
  }
  const auto summary = validator.summary();
  const std::size_t local_rejected = summary.invalid + refused_builds.total;
  const bool ok =
      !service_error && local_rejected == 0 && totals.rejected == 0 && summary.errors == 0;
  if (g.json) {
    Json problems = Json::array();
    for (const auto& d : validator.diagnostics()) problems.push_back(diagnostic_json(d));
    Json reply{{"ok", ok},
               {"files", files_read},
               {"lines_skipped", lines_skipped},
               {"accepted", totals.accepted},
               // As the text says it: a duplicate row is counted once, as a duplicate (attack
               // round 5, finding 11).
               {"already_queued", totals.already_queued},
               {"duplicates_in_input", totals.duplicates + summary.duplicates},
               {"updated", totals.updated},
               {"updates", totals.updates},
               {"registration_failed", totals.registration_failed},
               {"to_retry", totals.to_retry},
               {"rejected", local_rejected + totals.rejected},
               {"problems", std::move(problems)},
               {"service_problems", totals.problems},
               {"build_mismatches", build_mismatches_json(refused_builds, allow_mismatch)},
               {"users_deferred", totals.users_deferred},
               {"notes", notes}};
    if (service_error) {
      reply["error"] = {{"code", service_error->code}, {"message", service_error->message}};
    }
    io.out << json_text(reply) << "\n";
  } else {
    std::vector<core::Diagnostic> shown;
    for (const auto& d : validator.diagnostics()) {
      // A device on another build gets its error line below ("not imported"): the validator's
      // warning about the same device would be a second line each (1,000 for 500 laptops).
      if (!allow_mismatch && d.severity == core::Severity::kWarning &&
          d.message.starts_with("captured on OS build ")) {
        continue;
      }
      shown.push_back(d);
    }
    print_diagnostics(shown, io.out);
    for (const auto& p : totals.problems) {
      io.out << p.value("location", "") << ": error: " << p.value("serial", "") << ": "
             << p.value("reason", "") << "\n";
    }
    for (const auto& u : totals.updates) {
      io.out << u.value("location", "") << ": updated: " << u.value("reason", "") << "\n";
    }
    for (const auto& r : totals.to_retry) {
      io.out << r.value("location", "") << ": " << r.value("reason", "") << "\n";
    }
    for (const auto& note : notes) io.out << note << "\n";
    print_build_mismatches(refused_builds, "these devices were not imported", io.out);
    // Cut short by the service (stopped, gone): the counts are of what it answered so far, said
    // so on the line itself, not a final-looking "imported" followed by the stop.
    io.out << (service_error ? "stopped part-way through " : "imported ") << files_read
           << " file(s): " << totals.accepted << " accepted, " << totals.already_queued
           << " already queued, "
           << (totals.duplicates + summary.duplicates > 0
                   ? std::to_string(totals.duplicates + summary.duplicates) +
                         " duplicate row(s) in the input (each device queued once), "
                   : std::string())
           << (totals.updated > 0 ? std::to_string(totals.updated) +
                                        " already queued and updated (another profile, group "
                                        "tag or user: see above), "
                                  : std::string())
           << (totals.registration_failed > 0
                   ? std::to_string(totals.registration_failed) +
                         " registration failed (not queued again: run `hangar retry`, see above), "
                   : std::string())
           << local_rejected + totals.rejected << " rejected"
           << (lines_skipped > 0
                   ? ", " + std::to_string(lines_skipped) + " line(s) skipped (see the errors)"
                   : std::string())
           << "\n";
    if (totals.users_deferred > 0) {
      io.out << fit_to_terminal(std::to_string(totals.users_deferred) +
                                " device(s) name a user: the user is assigned when you run "
                                "`hangar deliver SERIAL`, after their licences are checked, not "
                                "at registration")
             << "\n";
    }
    if (service_error) {
      io.err << "hangar import: stopped: " << service_error->message << "\n";
      if (totals.accepted > 0) {
        io.err << "hangar import: the " << totals.accepted
               << " device(s) accepted so far stay queued; run the same import again to "
                  "continue\n";
      } else {
        io.err << "hangar import: no device was queued; run the same import again\n";
      }
    }
  }
  if (service_error) {
    const bool unreachable = service_error->code == ipc::errc::kUnavailable ||
                             service_error->code == ipc::errc::kTimeout;
    return unreachable ? kUnreachable : kFailed;
  }
  return ok ? kOk : kFailed;
}

}  // namespace hangar::cli
