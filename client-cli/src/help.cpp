// Per-command help texts and examples (see help.h). Options of validate, merge and import live
// next to their command table entry (their `details`); the others are here.
#include "help.h"

#include <array>
#include <sstream>

#include "capture_cmd.h"
#include "config_cmds.h"
#include "hangar/core/text_wrap.h"

namespace hangar::cli {

namespace {

struct HelpText {
  std::string_view name;
  std::string_view options;  // used when the command table has no details
  std::string_view examples;
};

constexpr std::array<HelpText, 20> kHelp{{
    {"version",
     "Prints the client's version and platform and, when the service answers, its version.\n"
     "Exit code 0 even when the service is not reachable (it says so).\n",
     "  hangar version\n"
     "  hangar --json version\n"},
    {"ping", "Sends one request and prints the round trip.\n",
     "  hangar ping\n"
     "  hangar --endpoint /run/hangar/hangar.sock ping\n"},
    {"status",
     "The service's version, uptime, queue depth, cloud state (online, paused, the last error\n"
     "with when it happened, and when calls succeeded again), activity and group passes, and\n"
     "how many devices are in each state; devices Registration Pending for longer than usual\n"
     "(PENDING LONG) with the cause of each.\n",
     "  hangar status\n"
     "  hangar --json status\n"},
    {"validate", "",
     "  hangar validate hashes.csv\n"
     "  hangar validate usb/*.csv --expect-build 22631\n"
     "  hangar validate hashes.csv --expect-build 22631 --allow-build-mismatch\n"
     "  hangar --json validate hashes.csv\n"},
    {"merge", "",
     "  hangar merge usb/*.csv -o upload.csv   # upload-001.csv, upload-002.csv, ...\n"
     "  hangar merge a.csv b.csv -o upload.csv --no-split\n"
     "  hangar merge usb/*.csv -o upload.csv --group-tag Sales --expect-build 22631\n"},
    {"import", "",
     "  hangar import hashes.csv --profile standard\n"
     "  hangar import usb/*.csv --profile power-user --group-tag Engineering\n"
     "  hangar import hashes.csv --profile standard --expect-build 22631\n"},
    {"list",
     "  --state S      only devices in state S: queued, registration-pending (pending),\n"
     "                 registration-failed (failed), ready-for-user (ready), active, inactive,\n"
     "                 in any case and spelling (\"Ready for user\", READY_FOR_USER, "
     "ReadyForUser)\n"
     "  --profile P    only devices with profile P (standard, sensitive-data, power-user)\n"
     "  --since T      only devices whose state changed since T: a date (2026-11-25), a UTC\n"
     "                 date and time (2026-11-25T10:00) or an age (30m, 12h, 7d)\n"
     "  --limit N      at most N devices (the count line still says how many matched)\n"
     "  --wide         every value in full, however wide the table gets\n"
     "  --handoff      the hand-off list: serial, manufacturer, model, group tag, profile,\n"
     "                 state, user (delivered to, or named at import) and last contacted\n\n"
     "Devices come in the order they were queued (oldest first), the same order every time,\n"
     "page after page. The table fits the terminal (80 columns when the output is not one):\n"
     "longer values end with an ellipsis (use --wide, show or --json for them). The last line\n"
     "says how many devices matched: \"50 of 1,519 device(s)\". --json gives the rows as stored\n"
     "with \"total\" (how many matched) and \"shown\".\n",
     "  hangar list\n"
     "  hangar list --state ready --limit 50\n"
     "  hangar list --state \"Registration failed\" --since 2d --wide\n"
     "  hangar --json list --profile power-user\n"
     "  hangar list --handoff --state ready\n"},
    {"show", "Prints everything known about one device: record, hash summary, history.\n",
     "  hangar show 5CG1234XYZ\n"
     "  hangar --json show 5CG1234XYZ\n"},
    {"deliver",
     "  --user UPN     the licensed user who gets the device; without it, the user the import\n"
     "                 named (import --user, the CSV's Assigned User column)\n\n"
     "The user's licences are checked first (required_licenses, by skuPartNumber such as\n"
     "SPE_E5 or by SKU id); a missing one is named. Import never assigns a user: deliver does.\n"
     "If the assignment's answer is lost (the connection dropped), deliver says so and records\n"
     "it; run it again: it reads the device in Autopilot and completes if the user is there.\n"
     "A delivered device is not reassigned (the Intune admin center does that); delivering to\n"
     "the user Autopilot lists for it now records that user and sends nothing.\n"
     "Inside a throttle window it waits while --timeout allows, else says when to try again.\n",
     "  hangar deliver 5CG1234XYZ --user anna@contoso.com\n"
     "  hangar deliver 5CG1234XYZ\n"},
    {"remove",
     "  --force        remove it even while Registration Pending: its import record is read\n"
     "                 and deleted in the cloud first; if the import finished (the device is\n"
     "                 registered in Autopilot), it is kept and `hangar deregister SERIAL` is\n"
     "                 the way out (a device pending too long fails by itself after\n"
     "                 pending_limit_hours, 24 by default)\n\n"
     "Without --force, refused while the device is Registration Pending. Refused, --force or\n"
     "not, while its upload is in flight (seconds; longer while the cloud cannot be reached).\n"
     "A removed serial is remembered: partner sync does not add it back (importing it again\n"
     "does; for a device the tenant still lists, a row with serial, manufacturer and model\n"
     "and no hash is enough). Its history stays: `watch` shows the removal, and `show SERIAL`\n"
     "says when it left and who removed it. A device registered in Windows Autopilot stays\n"
     "registered in the tenant: `hangar deregister SERIAL` deletes that registration.\n",
     "  hangar remove 5CG1234XYZ\n"
     "  hangar remove 5CG1234XYZ --force\n"},
    {"deregister",
     "  --yes          do not ask (for scripts; needed when standard input is not a terminal)\n"
     "  --force        delete it even when it is not Hangar's: not in the queue, and tagged\n"
     "                 for another team (a tag neither the default nor in tag_profiles) or\n"
     "                 not tagged at all; without it such a device is left alone\n\n"
     "Deletes the device's Windows Autopilot registration in the tenant (found by serial), takes\n"
     "it out of the queue and remembers the serial, so partner sync does not add it back.\n"
     "Importing the serial again registers it anew. Without --yes it looks the device up\n"
     "first (a refusal comes before any question), then asks, naming the Autopilot id it\n"
     "would delete; answering no changes nothing and exits 0. If the deletion's answer is lost, it "
     "says so and records it; run it again: a device the tenant\n"
     "no longer lists is taken out of the queue (\"already deleted in Windows Autopilot\").\n"
     "A device in the queue that was never registered (queued, or its registration failed)\n"
     "is taken out too: there is nothing to delete in the tenant.\n",
     "  hangar deregister 5CG1234XYZ\n"
     "  hangar deregister 5CG1234XYZ --yes\n"},
    {"export",
     "  --format F     csv (the portal's upload format, split at 500 rows a file) or json\n"
     "                 (every field and state); with --json, json is the default\n"
     "  -o, --output FILE\n"
     "                 write to FILE (csv: FILE-001.csv, ... above 500 rows); without it\n"
     "                 the export goes to standard output\n"
     "  --state S, --profile P, --since T   only those devices, as for `list`\n\n"
     "csv: Assigned User is the user a device was delivered to (`hangar deliver`, after the\n"
     "licence check), empty for devices not delivered: a user named at import is not checked\n"
     "yet, so it is not handed to the portal (json has both: assigned_user, delivered_to).\n"
     "With --json, a file export prints a JSON summary (files, device count, devices left\n"
     "out); --json with csv needs -o, since the CSV itself would be standard output.\n",
     "  hangar export --format csv -o upload.csv\n"
     "  hangar export --format json -o queue.json --state failed\n"
     "  hangar --json export --format csv -o upload.csv\n"
     "  hangar --json export > queue.json\n"},
    {"retry",
     "  SERIAL         queue that failed device again; a permanent failure is not queued\n"
     "                 (exit 1, saying why; with --force it is)\n"
     "  --failed       queue every failed device again, except permanent failures (Device not\n"
     "                 found, Device claimed by another organization: the supplier must act\n"
     "                 first); it says how many it skipped and why\n"
     "  --force        the permanent failures too\n",
     "  hangar retry 5CG1234XYZ\n"
     "  hangar retry 5CG1234XYZ --force\n"
     "  hangar retry --failed\n"
     "  hangar retry --failed --force\n"},
    {"pause",
     "Devices stay queued, and uploads stay paused across a restart of the service (a\n"
     "reboot, an upgrade) until `hangar resume`. Only new uploads wait: devices already sent\n"
     "are still followed to Ready for user, and refresh, sync, deliver and deregister work.\n",
     "  hangar pause\n"},
    {"resume", "Continues uploads paused with `hangar pause`.\n", "  hangar resume\n"},
    {"refresh",
     "  --no-wait      ask for the pass and return at once\n\n"
     "Waits (up to --timeout) for the pass to finish and reports it.\n",
     "  hangar refresh\n"
     "  hangar --timeout 120 refresh\n"},
    {"sync",
     "  --no-wait      ask for the passes and return at once\n\n"
     "Waits (up to --timeout) for the passes to finish and reports them. Partner-registered\n"
     "devices get the profile their group tag maps to (tag_profiles in hangar.json), else\n"
     "none. Tenant devices without any group tag that Hangar does not know are counted and\n"
     "the first 20 named; they are tracked only with \"track_untagged\": true in hangar.json.\n",
     "  hangar sync\n"
     "  hangar sync --no-wait\n"},
    {"watch",
     "  --state S        only changes into state S (`removed`: devices taken out of the\n"
     "                   queue)\n"
     "  --since T        also replay the changes made since T (a date, a UTC date and time or an\n"
     "                   age, as for `list`), then go on live\n"
     "  --from-seq N     resume after change #N (each change is numbered; 0: the whole history)\n"
     "  --count N        stop after N changes (a gap's missed changes count too)\n"
     "  -v, --verbose    in a terminal, one line per device even in a burst\n"
     "  --heartbeat-ms MS  ask for a heartbeat every MS ms (100-60000; default 10000)\n"
     "  --no-reconnect   exit when the service goes away instead of reconnecting\n\n"
     "A replay reads the durable history as far as it goes, whatever its length. A device\n"
     "taken out of the queue (remove, deregister) is a change too: \"-> removed from the\n"
     "queue\", with who did it (another --state leaves it out). In a terminal, a burst (many\n"
     "changes at once, a bulk import or registration) is one line a state: \"312 devices\n"
     "Ready for user\"; -v or a pipe gives one line per change. Ctrl-C stops.\n",
     "  hangar watch\n"
     "  hangar watch --state ready-for-user\n"
     "  hangar watch --from-seq 0 --count 20\n"
     "  hangar watch --since 1h -v\n"
     "  hangar --json watch --from-seq 1200\n"},
    {"capture", "",
     "  hangar capture --combined E:\\hashes.csv\n"
     "  hangar capture --output C:\\hashes --group-tag Sales --no-queue\n"},
    {"config", "",
     "  hangar config show\n"
     "  hangar config set-credentials --tenant GUID --client-id GUID\n"
     "  printf %s \"$SECRET\" |\n"
     "    hangar config set-credentials --tenant GUID --client-id GUID --secret-stdin\n"
     "  hangar config clear-credentials --yes\n"},
}};

const HelpText* find(std::string_view name) {
  for (const auto& h : kHelp) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

}  // namespace

std::string_view command_examples(std::string_view name) {
  const HelpText* h = find(name);
  return h ? h->examples : std::string_view();
}

namespace {

// Which service command each CLI command sends (several for sync and config; none for validate
// and merge, which work offline).
constexpr std::array<std::pair<std::string_view, std::string_view>, 21> kSends{{
    {"version", "version"},
    {"ping", "ping"},
    {"status", "status"},
    {"import", "import"},
    {"list", "list"},
    {"show", "show"},
    {"deliver", "deliver"},
    {"remove", "remove"},
    {"deregister", "deregister"},
    {"export", "list"},
    {"retry", "retry"},
    {"pause", "pause"},
    {"resume", "resume"},
    {"refresh", "refresh"},
    {"sync", "refresh"},
    {"sync", "sweep-groups"},
    {"watch", "subscribe"},
    {"capture", "import"},
    {"config", "config"},
    {"config", "set-credentials"},
    {"config", "clear-credentials"},
}};

// "service command: status (read: anyone who may connect)": from the service's command table.
void print_service_commands(std::string_view name, std::ostream& out) {
  std::string line;
  for (const auto& [command, sends] : kSends) {
    if (command != name) continue;
    const ipc::CommandInfo* info = ipc::find_command(sends);
    if (!info) continue;
    line += (line.empty() ? "" : ", ") + std::string(info->name) + " (" +
            std::string(ipc::permission_name(info->permission)) + ")";
  }
  if (line.empty()) return;
  out << "\nasks the service: " << line
      << "\n  (read: anyone who may connect; write: administrators, the service's account and the "
         "operators group; admin: the same without the operators group)\n";
}

}  // namespace

namespace {

void write_command_help(const Command& command, std::ostream& out) {
  const HelpText* h = find(command.name);
  // capture and config keep their own usage text (capture's is also its usage error's).
  if (command.name == "capture" || command.name == "config") {
    out << (command.name == "capture" ? capture_usage() : config_usage());
    if (h && !h->examples.empty()) out << "\nexamples:\n" << h->examples;
    print_service_commands(command.name, out);
    out << "\nglobal options: --json (JSON output), --endpoint ENDPOINT, --timeout SECONDS\n"
           "exit codes: 0 ok, 1 failed, 2 usage error, 3 service unreachable\n";
    return;
  }
  out << "usage: hangar [--json] " << command.name;
  if (!command.synopsis.empty()) out << " " << command.synopsis;
  out << "\n\n" << command.summary << ".\n\n";
  if (!command.details.empty()) {
    out << command.details;
  } else if (h && !h->options.empty()) {
    out << h->options;
  }
  if (h && !h->examples.empty()) out << "\nexamples:\n" << h->examples;
  print_service_commands(command.name, out);
  out << "\nglobal options: --json (JSON output), --endpoint ENDPOINT, --timeout SECONDS\n"
         "exit codes: 0 ok, 1 failed, 2 usage error, 3 service unreachable\n";
}

}  // namespace

void print_command_help(const Command& command, std::ostream& out) {
  // Written whole, then fitted to 80 columns (a synopsis or an option's line may be longer).
  std::ostringstream text;
  write_command_help(command, text);
  out << core::wrap_lines(text.str());
}

std::vector<const ipc::CommandInfo*> service_commands_of(std::string_view name) {
  std::vector<const ipc::CommandInfo*> found;
  for (const auto& [command, sends] : kSends) {
    if (command == name) found.push_back(ipc::find_command(sends));
  }
  return found;
}

}  // namespace hangar::cli
