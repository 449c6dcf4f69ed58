// `hangar capture` (see capture_cmd.h): argument parsing, the CSV files, the report, the queue.
#include "capture_cmd.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>
#include <system_error>

#include "cli.h"
#include "cli_common.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/principal_name.h"
#include "hangar/intake/csv_reader.h"
#include "hangar/intake/portal_csv.h"
#include "suggest.h"

namespace hangar::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct CaptureArgs {
  std::optional<std::string> output_dir;
  std::optional<std::string> combined_file;
  std::string group_tag;
  std::string assigned_user;
  bool no_queue = false;
  bool help = false;
};

// Flags as `--flag VALUE` or `--flag=VALUE`; each at most once, no positional arguments.
core::Result<CaptureArgs> parse_capture_args(const std::vector<std::string>& args) {
  CaptureArgs parsed;
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> inline_value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    if (flag == "-h" || flag == "--help") {
      parsed.help = true;
      continue;
    }
    if (flag == "--no-queue") {
      if (inline_value) return core::make_error("usage", "--no-queue takes no value");
      parsed.no_queue = true;
      continue;
    }
    std::string* target = nullptr;
    std::optional<std::string>* optional_target = nullptr;
    if (flag == "--output") {
      optional_target = &parsed.output_dir;
    } else if (flag == "--combined") {
      optional_target = &parsed.combined_file;
    } else if (flag == "--group-tag") {
      target = &parsed.group_tag;
    } else if (flag == "--user") {
      target = &parsed.assigned_user;
    } else if (flag.starts_with("-")) {
      return core::make_error(
          "usage", "unknown option " + flag +
                       did_you_mean(flag, {"--output", "--combined", "--group-tag", "--user",
                                           "--no-queue", "--help"}));
    } else {
      return core::make_error("usage", "unexpected argument \"" + flag +
                                           "\" (capture reads this device; it takes no files)");
    }
    if (std::find(seen.begin(), seen.end(), flag) != seen.end()) {
      return core::make_error("usage", flag + " was given twice");
    }
    seen.push_back(flag);
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    if (value.empty()) return core::make_error("usage", flag + " needs a value");
    if (target != nullptr) {
      // Tag and user go into the CSV and the request as text; folder and file names may be in
      // any encoding (they are opened as they are).
      if (auto problem = not_utf8_problem("the value of " + flag, value)) {
        return core::make_error("usage", *problem);
      }
      // Blanks around a tag or a user are dropped, as the CSV reader drops them from its cells.
      if (flag == "--group-tag" || flag == "--user") value = std::string(core::trim_blanks(value));
      if (flag == "--group-tag") {
        if (auto problem = core::group_tag_problem(value); !problem.empty()) {
          return core::make_error("usage",
                                  "--group-tag \"" + printable_argument(value) + "\": " + problem);
        }
      }
      // The rule every path that takes a user applies (the CSV's column, import, deliver).
      if (flag == "--user") {
        if (auto problem = core::user_principal_name_problem(value); !problem.empty()) {
          return core::make_error("usage", "--user takes the user's principal name, and \"" +
                                               printable_argument(value) + "\" " + problem + " (" +
                                               std::string(core::user_principal_name_rule()) + ")");
        }
      }
      *target = value;
    }
    if (optional_target != nullptr) *optional_target = value;
  }
  return parsed;
}

// Paths with spaces ("E:\\Hash files\\x.csv") need quotes to be pasted back into a shell.
std::string shell_quoted(const std::string& path) {
  return path.find(' ') == std::string::npos ? path : "\"" + path + "\"";
}

bool is_unreachable(const core::Error& error) {
  return error.code == "unavailable" || error.code == "timeout";
}

std::string or_unknown(const std::string& value) { return value.empty() ? "(unknown)" : value; }

std::string display_path(const fs::path& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  return core::path_to_utf8(ec ? path : absolute.lexically_normal());
}

// Two spellings of one file (a relative and an absolute path) must be written once, not twice.
bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec1;
  std::error_code ec2;
  const fs::path ca = fs::weakly_canonical(fs::absolute(a), ec1);
  const fs::path cb = fs::weakly_canonical(fs::absolute(b), ec2);
  return !ec1 && !ec2 && ca == cb;
}

Json device_json(const core::CapturedDevice& device,
                 const core::Result<core::HardwareHashInfo>* hash_info, std::size_t hash_bytes) {
  Json j{{"serial_number", device.serial_number},
         {"manufacturer", device.manufacturer},
         {"model", device.model},
         {"windows_product_id", device.windows_product_id},
         {"has_hash", device.has_hash},
         {"notes", device.notes}};
  if (device.has_hash) {
    j["hardware_hash"] = device.hardware_hash_base64;
    j["hash_bytes"] = hash_bytes;
    if (hash_info != nullptr && hash_info->ok() && !(*hash_info)->os_build.empty()) {
      j["os_build"] = (*hash_info)->os_build;
    }
  }
  return j;
}

void print_device(std::ostream& out, const core::CapturedDevice& device,
                  const core::Result<core::HardwareHashInfo>* hash_info, std::size_t hash_bytes) {
  auto line = [&out](std::string_view label, const std::string& value) {
    out << "  " << std::left << std::setw(15) << label << value << "\n";
  };
  out << "Captured this device:\n";
  line("serial number", or_unknown(device.serial_number));
  line("manufacturer", or_unknown(device.manufacturer));
  line("model", or_unknown(device.model));
  if (!device.windows_product_id.empty()) line("product ID", device.windows_product_id);
  if (device.has_hash) {
    std::string text = std::to_string(hash_bytes) + " bytes";
    if (hash_info != nullptr && hash_info->ok() && !(*hash_info)->os_build.empty()) {
      text += ", Windows " + (*hash_info)->os_build;
    }
    line("hardware hash", text);
  } else {
    line("hardware hash", "none");
  }
  for (const auto& note : device.notes) out << "  note: " << note << "\n";
}

// The seed's warning, after every capture: the device must not start Windows setup before it is
// registered, or it has to be reset or reimaged.
constexpr std::string_view kPowerWarning =
    "IMPORTANT: shut this device down now (shutdown -s -t 0) and do not power it on again until "
    "its registration is complete (hangar list --state ready shows it): if it starts the setup "
    "experience first, you'll have to reset or reimage it.";

// Instead, when nothing was saved: no registration was started, so none will ever complete.
constexpr std::string_view kNothingSavedAdvice =
    "No registration was started for this device: fix the cause above and run `hangar capture` "
    "again. Until the device is registered, do not let it go through the setup experience: "
    "you'd have to reset or reimage it.";

// Collects the JSON report (or prints text as it goes) and produces the exit code.
class Report {
 public:
  Report(bool json, std::ostream& out, std::ostream& err) : json_(json), out_(out), err_(err) {}

  void device(const core::CapturedDevice& device) {
    std::size_t bytes = 0;
    std::optional<core::Result<core::HardwareHashInfo>> info;
    if (device.has_hash) {
      if (auto decoded = core::decode_base64_bytes(device.hardware_hash_base64)) {
        bytes = decoded->size();
        info.emplace(core::parse_hardware_hash(*decoded));
      }
    }
    const auto* info_ptr = info ? &*info : nullptr;
    if (json_) {
      json_report_["device"] = device_json(device, info_ptr, bytes);
    } else {
      print_device(out_, device, info_ptr, bytes);
    }
  }

  void saved(const core::AppendedRow& row) {
    if (json_) {
      json_report_["files"].push_back(
          Json{{"path", display_path(row.file)}, {"line", row.line}, {"created", row.created}});
    } else {
      out_ << "Saved to " << display_path(row.file) << " (line " << row.line
           << (row.created ? ", new file" : "") << ")\n";
    }
  }

  // `printed` false: the message goes out with the failure instead (text mode says it once).
  void queue(std::string_view status, const std::string& message, bool printed = true) {
    if (json_) {
      json_report_["queue"] = Json{{"status", status}, {"message", message}};
    } else if (printed) {
      out_ << message << "\n";
    }
  }

  int finish_ok() {
    close_with_warning(out_);
    if (json_) {
      json_report_["ok"] = true;
      out_ << json_report_.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    return kOk;
  }

  // Whether the device's row is on disk in at least one file (said at the end, either way).
  bool saved_any = false;

  int fail(const core::Error& error) {
    if (json_) {
      close_with_warning(out_);
      json_report_["ok"] = false;
      json_report_["error"] = Json{{"code", error.code}, {"message", error.message}};
      out_ << json_report_.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      err_ << "hangar capture: " << error.message << "\n";
      close_with_warning(err_);
    }
    return kFailed;
  }

 private:
  // The last words, success or not: whether anything was saved, then the seed's warning.
  void close_with_warning(std::ostream& text_out) {
    if (json_) {
      json_report_["saved"] = saved_any;
      json_report_["warning"] = std::string(saved_any ? kPowerWarning : kNothingSavedAdvice);
      return;
    }
    text_out << (saved_any ? "Saved: yes (the file(s) above).\n"
                           : "Saved: NOTHING was saved for this device.\n")
             << (saved_any ? kPowerWarning : kNothingSavedAdvice) << "\n";
  }

  bool json_;
  std::ostream& out_;
  std::ostream& err_;
  Json json_report_ = Json{{"files", Json::array()}};
};

core::DeviceRecord record_for(const core::CapturedDevice& device, const core::CaptureRow& row,
                              const core::AppendedRow& saved) {
  core::DeviceRecord record;
  record.serial_number = row.serial_number;
  record.windows_product_id = row.windows_product_id;
  record.manufacturer = device.manufacturer;
  record.model = device.model;
  record.group_tag = row.group_tag;
  record.assigned_user = row.assigned_user;
  if (auto decoded = core::decode_base64_lenient(row.hardware_hash)) {
    record.hardware_hash = std::move(decoded->bytes);
  }
  record.source_file = core::path_to_utf8(saved.file);
  record.source_line = saved.line;
  return record;
}

}  // namespace

std::string capture_usage() {
  return "usage: hangar capture [--output DIR] [--combined FILE] [--group-tag TAG] [--user UPN] "
         "[--no-queue]\n\n"
         "Reads this device's hardware hash, serial number, manufacturer and model (run it as\n"
         "administrator on the device, e.g. during Windows setup with Shift+F10), saves them as a\n"
         "Get-WindowsAutoPilotInfo CSV row and queues the device with the Hangar service.\n\n"
         "  --output DIR      write DIR/<serial>.csv (default: the current directory)\n"
         "  --combined FILE   append to FILE, one file for many devices (e.g. on a USB stick);\n"
         "                    with --output as well, both files are written\n"
         "  --group-tag TAG   add a Group Tag column with TAG\n"
         "  --user UPN        add an Assigned User column with UPN\n"
         "  --no-queue        only write the CSV; register it later with `hangar import`\n\n"
         "A serial already in the target file is refused. When the service cannot be reached,\n"
         "the CSV is kept for `hangar import` and the command still succeeds.\n";
}

int run_capture(const std::vector<std::string>& args, bool json, std::ostream& out,
                std::ostream& err, const CaptureQueueFn& queue) {
  return run_capture(args, json, out, err, queue, [] { return core::capture_local_device(); });
}

int run_capture(const std::vector<std::string>& args, bool json, std::ostream& out,
                std::ostream& err, const CaptureQueueFn& queue, const CaptureDeviceFn& capture) {
  auto parsed = parse_capture_args(args);
  if (!parsed) {
    // One line, as every other usage error: the whole help would bury it.
    err << "hangar capture: " << parsed.error().message
        << "\nrun `hangar capture --help` for its options\n";
    return kUsage;
  }
  if (parsed->help) {
    out << capture_usage();
    return kOk;
  }
  Report report(json, out, err);

  auto device = capture();
  if (!device) return report.fail(device.error());
  report.device(*device);
  if (!device->has_hash) {
    return report.fail(core::make_error(
        "capture.no_hash",
        "no hardware hash could be read, so nothing was saved or queued (a row without a hash "
        "cannot be registered); the notes say why"));
  }

  // Where the row goes: the combined file, the per-device file, or both.
  std::vector<fs::path> targets;
  if (parsed->combined_file)
    targets.emplace_back(
        std::u8string(parsed->combined_file->begin(), parsed->combined_file->end()));
  if (parsed->output_dir || !parsed->combined_file) {
    const std::string dir = parsed->output_dir.value_or(".");
    const fs::path folder(std::u8string(dir.begin(), dir.end()));
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) {
      return report.fail(core::make_error(
          std::string(core::kCaptureWriteFailedCode),
          "cannot create the folder " + display_path(folder) + ": " + ec.message()));
    }
    const fs::path file = folder / core::capture_file_name(device->serial_number);
    if (targets.empty() || !same_file(targets.front(), file)) targets.push_back(file);
  }

  const core::CaptureRow row = core::capture_row(*device, parsed->group_tag, parsed->assigned_user);
  // Check every target before writing any, so a refusal never leaves the files disagreeing.
  for (const auto& target : targets) {
    if (auto st = core::check_capture_append(target, row); !st) return report.fail(st.error());
  }
  std::vector<core::AppendedRow> saved;
  for (const auto& target : targets) {
    auto appended = core::append_capture_row(target, row);
    if (!appended) {
      core::Error error = std::move(appended).error();
      if (!saved.empty()) {
        error.message += " (the row was saved in " + display_path(saved.front().file) + ")";
      }
      return report.fail(error);
    }
    report.saved(*appended);
    report.saved_any = true;
    saved.push_back(std::move(appended).value());
  }

  const std::string saved_in = display_path(saved.front().file);
  const std::string import_command = "`hangar import " + shell_quoted(saved_in) + "`";
  if (parsed->no_queue || !queue) {
    report.queue("skipped", "Not queued (--no-queue): register it with " + import_command);
    return report.finish_ok();
  }
  auto queued = queue(record_for(*device, row, saved.front()));
  if (queued) {
    report.queue("queued", "Queued for registration: " + *queued);
    return report.finish_ok();
  }
  if (is_unreachable(queued.error())) {
    report.queue("saved_for_import", "The Hangar service could not be reached (" +
                                         queued.error().message + "). The device is saved in " +
                                         saved_in + ": import it later with " + import_command);
    return report.finish_ok();
  }
  core::Error error = queued.error();
  error.message = "the service did not queue the device: " + error.message + ". It is saved in " +
                  saved_in + ": fix the cause, then run " + import_command;
  report.queue("failed", error.message, false);
  return report.fail(error);
}

}  // namespace hangar::cli
