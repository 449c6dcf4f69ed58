// hangar validate and merge: reading hash files offline and writing the portal's format (import,
// which streams validated devices to the service, is in import_cmd.cpp), and what the three share
// (intake_common.h).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <map>
#include <sstream>
#include <thread>

#include "build_check.h"
#include "cli_common.h"
#include "hangar/intake/csv_reader.h"
#include "hangar/intake/portal_csv.h"
#include "hangar/intake/validation.h"
#include "intake_common.h"

namespace hangar::cli {

std::vector<std::filesystem::path> to_paths(const std::vector<std::string>& names,
                                            std::string_view command, std::ostream& notes) {
  std::vector<std::filesystem::path> paths;
  for (const auto& name : names) {
    std::filesystem::path path(std::u8string(name.begin(), name.end()));
    // One file named twice (a glob and its name, a.csv and ./a.csv) is read once: read twice,
    // every row was a "duplicate" of itself (black-box round 9).
    const auto earlier = std::find_if(paths.begin(), paths.end(), [&](const auto& seen) {
      std::error_code ec;
      return seen == path || (std::filesystem::equivalent(seen, path, ec) && !ec);
    });
    if (earlier != paths.end()) {
      notes << "hangar " << command << ": " << name << " is " << core::path_to_utf8(*earlier)
            << ", given already: read once\n";
      continue;
    }
    paths.push_back(std::move(path));
  }
  return paths;
}

Json diagnostic_json(const core::Diagnostic& d) {
  Json json{
      {"file", d.file}, {"severity", core::severity_name(d.severity)}, {"message", d.message}};
  if (d.line > 0) json["line"] = d.line;
  if (!d.field.empty()) json["field"] = d.field;
  return json;
}

core::ValidationOptions validation_options(const ParsedArgs& parsed) {
  core::ValidationOptions options;
  options.expect_build = parsed.value("--expect-build").value_or("");
  options.strict_serials = parsed.has("--strict");
  return options;
}

// The options validate, merge and import share, checked before any file is read: a usage
// message, or nothing.
std::optional<std::string> shared_option_problem(const ParsedArgs& parsed) {
  if (auto build = parsed.value("--expect-build")) {
    if (auto problem = expect_build_problem(*build)) return problem;
  } else if (parsed.has("--allow-build-mismatch")) {
    return std::string("--allow-build-mismatch goes with --expect-build BUILD");
  }
  if (auto tag = parsed.value("--group-tag")) {
    if (auto problem = core::group_tag_problem(*tag); !problem.empty()) {
      return "--group-tag \"" + printable_argument(*tag) + "\": " + problem;
    }
  }
  return std::nullopt;
}

// Every error is printed: each is a row to fix. Warnings (a duplicate copy dropped, a serial
// taken from the hash) can run to one a row when a file is merged with itself: the first ones
// show what they are, and the rest are counted (black-box round 7: 1,100 lines of warnings).
constexpr std::size_t kWarningsShown = 20;

void print_diagnostics(const std::vector<core::Diagnostic>& diagnostics, std::ostream& out) {
  std::size_t warnings = 0;
  for (const auto& d : diagnostics) {
    if (d.severity == core::Severity::kWarning && ++warnings > kWarningsShown) continue;
    out << d.to_string() << "\n";
  }
  if (warnings > kWarningsShown) {
    out << "... and " << warnings - kWarningsShown
        << " more warning(s) not shown (--json lists every one)\n";
  }
}

namespace {

Json summary_json(const core::ValidationSummary& s) {
  return Json{{"records", s.records}, {"valid", s.valid},   {"duplicates", s.duplicates},
              {"invalid", s.invalid}, {"errors", s.errors}, {"warnings", s.warnings}};
}

// "Check the image": how many devices carry each OS build, so a stray image stands out.
std::map<std::string, std::size_t> builds_of(const core::Validator& validator) {
  std::map<std::string, std::size_t, std::less<>> builds;
  for (std::size_t i = 0; i < validator.size(); ++i) {
    if (validator.verdict(i) != core::Verdict::kValid || !validator.has_hash(i)) continue;
    const std::string_view build = validator.os_build(i);
    const std::string_view name = build.empty() ? std::string_view("(none in hash)") : build;
    if (auto it = builds.find(name); it != builds.end()) {
      ++it->second;
    } else {
      builds.emplace(std::string(name), 1);
    }
  }
  return {builds.begin(), builds.end()};
}

void print_summary(const core::ValidationSummary& s, const core::ValidatedFiles& read,
                   std::ostream& out) {
  out << s.records << " device row(s) in " << read.files_read << " file(s)";
  // A file refused as a whole is no file read, but it was given: said, or "0 file(s)" would seem
  // to have missed it (black-box round 8).
  if (read.files_not_read > 0) {
    out << " (" << read.files_not_read << " more not read: see the errors)";
  }
  // A dropped line is no record: counted apart, or the rows would seem fewer than the devices.
  if (read.lines_skipped > 0) {
    out << " and " << read.lines_skipped << " line(s) skipped (see the errors)";
  }
  out << ": " << s.valid << " valid, " << s.duplicates << " duplicate(s), " << s.invalid
      << " invalid; " << s.errors << " error(s), " << s.warnings << " warning(s)\n";
}

void print_builds(const std::map<std::string, std::size_t>& builds, std::ostream& out) {
  if (builds.empty()) return;
  out << "OS builds in the hashes (check the image):";
  for (const auto& [build, count] : builds) out << "  " << build << " x" << count;
  out << "\n";
}

// The files of merge's output set for OUT that exist now: OUT itself and its numbered parts
// (OUT-001.csv, OUT-0042.csv: the stem, a dash, three or more digits, the extension).
std::vector<std::filesystem::path> output_set_files(const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  std::vector<fs::path> found;
  const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const fs::path::string_type prefix = out.stem().native() + fs::path("-").native();
  const fs::path::string_type extension = core::portal_part_extension(out).native();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path::string_type name = it->path().filename().native();
    bool member = name == out.filename().native();
    if (!member && name.size() >= prefix.size() + 3 + extension.size() &&
        name.compare(0, prefix.size(), prefix) == 0 &&
        name.compare(name.size() - extension.size(), extension.size(), extension) == 0) {
      const auto digits =
          name.substr(prefix.size(), name.size() - prefix.size() - extension.size());
      member =
          std::all_of(digits.begin(), digits.end(), [](auto c) { return c >= '0' && c <= '9'; });
    }
    std::error_code type_ec;
    if (member && it->is_regular_file(type_ec))
      found.push_back(out.parent_path() / it->path().filename());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// True when `path` starts with the portal's header: a file merge or export wrote.
bool is_portal_upload_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string first(core::kPortalHeader.size(), '\0');
  in.read(first.data(), static_cast<std::streamsize>(first.size()));
  return in && first == core::kPortalHeader;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

bool failed(const core::ValidationSummary& s) { return s.invalid > 0 || s.errors > 0; }

// `value` as Json::dump(2) writes it, for a value nested `depth` spaces deep in a larger document
// (the dump's own line breaks are the only raw ones: strings carry theirs escaped).
void write_indented(const Json& value, std::size_t depth, std::ostream& out) {
  const std::string text = json_text(value);
  const std::string indent(depth, ' ');
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.write(text.data() + start, static_cast<std::streamsize>(nl + 1 - start));
    out << indent;
    start = nl + 1;
  }
  out.write(text.data() + start, static_cast<std::streamsize>(text.size() - start));
}

// An array, one element at a time, as a member of the top-level object of a Json::dump(2).
template <typename Element>
void write_array(std::size_t count, const Element& element, std::ostream& out) {
  if (count == 0) {
    out << "[]";
    return;
  }
  out << "[\n";
  for (std::size_t i = 0; i < count; ++i) {
    out << "    ";
    write_indented(element(i), 4, out);
    out << (i + 1 < count ? ",\n" : "\n");
  }
  out << "  ]";
}

}  // namespace

int cmd_validate(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed = parse_args(args, {"--expect-build"}, {"--strict", "--allow-build-mismatch"},
                           ArgumentText::kFileNames);
  if (!parsed) return usage_error(io, "validate", parsed.error().message);
  if (parsed->positional.empty()) return usage_error(io, "validate", "name one or more CSV files");
  if (auto problem = shared_option_problem(*parsed)) return usage_error(io, "validate", *problem);
  const auto files = to_paths(parsed->positional, "validate", io.err);
  auto validated = core::validate_files(files, validation_options(*parsed), {}, false);
  const auto& validator = validated.validator;
  const auto summary = validator.summary();
  const auto builds = builds_of(validator);
  const bool allow_mismatch = parsed->has("--allow-build-mismatch");
  const auto mismatches = build_mismatches(validator, parsed->value("--expect-build").value_or(""));
  const bool ok = !failed(summary) && (mismatches.empty() || allow_mismatch);
  if (g.json) {
    // A record per row (a million rows make a million): written one at a time, never held as one
    // document. The text is what Json::dump(2) of the whole would be, keys in its (sorted) order.
    io.out << "{\n  \"build_mismatches\": ";
    write_indented(build_mismatches_json(mismatches, allow_mismatch), 2, io.out);
    io.out << ",\n  \"files\": " << validated.files_read
           << ",\n  \"files_not_read\": " << validated.files_not_read
           << ",\n  \"lines_skipped\": " << validated.lines_skipped
           << ",\n  \"ok\": " << (ok ? "true" : "false") << ",\n  \"os_builds\": ";
    write_indented(Json(builds), 2, io.out);
    io.out << ",\n  \"problems\": ";
    write_array(
        validator.diagnostics().size(),
        [&](std::size_t i) { return diagnostic_json(validator.diagnostics()[i]); }, io.out);
    io.out << ",\n  \"records\": ";
    write_array(
        validator.size(),
        [&](std::size_t i) {
          const core::RecordResult r = validator.result(i);
          Json record{{"serial", r.serial_number},
                      {"location", r.location},
                      {"verdict", core::verdict_name(r.verdict)}};
          if (r.serial_replaced) record["serial_in_file"] = validator.serial_in_file(i);
          if (!r.reason.empty()) record["reason"] = r.reason;
          if (r.failure) record["failure"] = std::string(core::message(*r.failure));
          if (!r.os_build.empty()) record["os_build"] = r.os_build;
          return record;
        },
        io.out);
    io.out << ",\n  \"summary\": ";
    write_indented(summary_json(summary), 2, io.out);
    io.out << "\n}\n";
  } else {
    print_diagnostics(validator.diagnostics(), io.out);
    print_builds(builds, io.out);
    print_build_mismatches(mismatches,
                           allow_mismatch
                               ? "allowed (--allow-build-mismatch): they count as valid"
                               : "validate fails (exit 1) unless --allow-build-mismatch; import "
                                 "refuses these devices and merge leaves them out",
                           io.out);
    print_summary(summary, validated, io.out);
  }
  return ok ? kOk : kFailed;
}

int cmd_merge(const Globals& g, const std::vector<std::string>& args, Io& io) {
  auto parsed =
      parse_args(args, {"-o", "--output", "--split", "--expect-build", "--group-tag"},
                 {"--strict", "--no-split", "--allow-build-mismatch"}, ArgumentText::kFileNames);
  if (!parsed) return usage_error(io, "merge", parsed.error().message);
  if (parsed->positional.empty()) return usage_error(io, "merge", "name one or more CSV files");
  if (auto problem = shared_option_problem(*parsed)) return usage_error(io, "merge", *problem);
  if (parsed->value("-o") && parsed->value("--output")) {
    return usage_error(io, "merge", "-o and --output are the same option: give it once");
  }
  auto output = parsed->value("-o");
  if (!output) output = parsed->value("--output");
  if (!output || output->empty()) return usage_error(io, "merge", "-o OUT names the merged file");
  // The portal takes 500 rows a file: split there unless told otherwise.
  std::size_t split = core::kPortalMaxRows;
  if (parsed->has("--no-split") && parsed->value("--split")) {
    return usage_error(io, "merge", "--split N and --no-split exclude each other");
  }
  if (parsed->has("--no-split")) split = 0;
  if (auto text = parsed->value("--split")) {
    try {
      std::size_t used = 0;
      const long long n = std::stoll(*text, &used);
      if (used != text->size() || n < 1) throw std::invalid_argument("range");
      split = static_cast<std::size_t>(n);
    } catch (const std::exception&) {
      return usage_error(io, "merge",
                         "--split takes a positive number of rows, not \"" + *text + "\"");
    }
    if (split > core::kPortalMaxRows) {
      io.err << "hangar merge: warning: the portal takes at most " << core::kPortalMaxRows
             << " rows per file\n";
    }
  }
  const auto files = to_paths(parsed->positional, "merge", io.err);
  const std::filesystem::path out_path(std::u8string(output->begin(), output->end()));
  // -o names the file to write: a folder (".", "out/") is a mistake said before any work.
  if (std::error_code ec; std::filesystem::is_directory(out_path, ec)) {
    return usage_error(io, "merge",
                       "-o " + core::path_to_utf8(out_path) +
                           " is a folder; name the file to write (say " +
                           core::path_to_utf8(out_path / "upload.csv") + ")");
  }
  // OUT and OUT-NNN.csv are the merge's to write and to replace: never one of its inputs.
  for (const auto& existing : output_set_files(out_path)) {
    for (const auto& input : files) {
      if (!same_file(existing, input)) continue;
      return usage_error(
          io, "merge",
          "the input " + core::path_to_utf8(input) + " is " +
              (existing == out_path ? std::string("the output itself")
                                    : "a part of the output " + core::path_to_utf8(out_path)) +
              ", which this merge writes or replaces; give -o another name (say " +
              core::path_to_utf8(out_path.parent_path() / out_path.stem()) + "-new" +
              core::path_to_utf8(out_path.extension()) + ")");
    }
  }
  auto validated = core::validate_files(files, validation_options(*parsed), {}, true);
  auto& validator = validated.validator;

  // Rows the portal's format cannot carry (no hash, a comma, non-ASCII) are left out and named.
  const std::string group_tag = parsed->value("--group-tag").value_or("");
  if (!group_tag.empty()) {
    for (auto& record : validated.accepted) {
      if (record.group_tag.empty()) record.group_tag = group_tag;
    }
  }
  auto unfit = core::check_portal_records(validated.accepted);
  const bool allow_mismatch = parsed->has("--allow-build-mismatch");
  const auto mismatches = build_mismatches(validator, parsed->value("--expect-build").value_or(""));
  std::set<std::string> wrong_build;  // locations of the devices on another build, left out
  if (!allow_mismatch) {
    for (std::size_t i = 0; i < validator.size(); ++i) {
      if (is_build_mismatch(validator, i, mismatches.expected)) {
        wrong_build.insert(validator.location(i));
      }
    }
  }
  std::vector<core::DeviceRecord> rows;
  rows.reserve(validated.accepted.size());
  std::size_t unfit_rows = 0;
  std::size_t wrong_build_rows = 0;
  {
    std::set<std::string> unfit_locations;
    for (const auto& d : unfit) {
      unfit_locations.insert(d.file + ":" + std::to_string(d.line));
      validator.add_diagnostic(d);
    }
    for (auto& record : validated.accepted) {
      const std::string location = record.source_file + ":" + std::to_string(record.source_line);
      if (unfit_locations.count(location)) {
        ++unfit_rows;
      } else if (wrong_build.count(record.location())) {
        ++wrong_build_rows;
      } else {
        rows.push_back(std::move(record));
      }
    }
  }
  // By default the parts are numbered only when there is more than one: OUT itself for up to
  // 500 rows, OUT-001.csv, OUT-002.csv, ... beyond. --split N always numbers them.
  if (!parsed->value("--split") && rows.size() <= split) split = 0;
  // Nothing to write never replaces an earlier upload file with a header alone.
  auto written = rows.empty()
                     ? core::Result<std::vector<std::filesystem::path>>(core::make_error(
                           "merge.nothing_to_write",
                           "no device to write: " + core::path_to_utf8(out_path) +
                               " was not written (an earlier file of that name is left as it "
                               "was)"))
                     : core::write_portal_csv_files(rows, out_path, split);
  // The parts of an earlier merge to the same OUT that this one did not write would be uploaded
  // with it ("upload-*.csv"): they are removed, and named. A file of that name that is not an
  // upload file (no portal header) is someone else's: left alone, and named too.
  OutputSetTidy tidied;
  if (written) tidied = tidy_output_set(out_path, *written);
  const auto& removed_stale = tidied.removed;
  const auto& kept_other = tidied.kept_other;
  const auto summary = validator.summary();
  const std::size_t left_out = summary.records - summary.duplicates - rows.size();
  // Every row read is one of these, so the counts add up to what was read.
  const Json counts{{"read", summary.records},          {"written", rows.size()},
                    {"duplicates", summary.duplicates}, {"invalid", summary.invalid},
                    {"unfit_for_portal", unfit_rows},   {"other_os_build", wrong_build_rows}};
  if (g.json) {
    Json problems = Json::array();
    for (const auto& d : validator.diagnostics()) problems.push_back(diagnostic_json(d));
    Json files_json = Json::array();
    if (written) {
      for (const auto& p : *written) files_json.push_back(core::path_to_utf8(p));
    }
    Json reply{{"ok", written.ok() && left_out == 0 && summary.errors == 0},
               {"rows_written", written ? rows.size() : 0},
               {"left_out", left_out},
               {"files", std::move(files_json)},
               {"removed_earlier_parts", removed_stale},
               {"kept_other_files", kept_other},
               {"counts", counts},
               {"os_builds", Json(builds_of(validator))},
               {"build_mismatches", build_mismatches_json(mismatches, allow_mismatch)},
               {"summary", summary_json(summary)},
               {"problems", std::move(problems)}};
    if (!written)
      reply["error"] = {{"code", written.error().code}, {"message", written.error().message}};
    io.out << json_text(reply) << "\n";
  } else {
    print_diagnostics(validator.diagnostics(), io.out);
    print_builds(builds_of(validator), io.out);
    print_build_mismatches(mismatches,
                           allow_mismatch ? "written all the same (--allow-build-mismatch)"
                                          : "left out of the merge (--allow-build-mismatch to "
                                            "keep them)",
                           io.out);
    print_summary(summary, validated, io.out);
    // Said "to write" when the write failed: the file named below was not (fully) written.
    io.out << summary.records << " row(s) read = " << rows.size()
           << (written ? " written + " : " to write + ") << summary.duplicates << " duplicate(s) + "
           << summary.invalid << " invalid + " << unfit_rows << " unfit for the portal's format + "
           << wrong_build_rows << " on another OS build\n";
    if (written) {
      io.out << "wrote " << rows.size() << " device(s) to " << written->size() << " file(s)"
             << (written->size() > 1 ? " of at most " + std::to_string(split) + " rows" : "")
             << ":";
      for (const auto& p : *written) io.out << " " << core::path_to_utf8(p);
      io.out << "\n";
      print_output_set_tidy(tidied, "merge", io.out, io.err);
      if (left_out > 0) {
        io.out << left_out << " row(s) left out because of the problems above\n";
      }
    } else {
      io.err << "hangar merge: " << written.error().message << "\n";
    }
  }
  if (!written) return kFailed;
  return (left_out > 0 || summary.errors > 0) ? kFailed : kOk;
}

OutputSetTidy tidy_output_set(const std::filesystem::path& out,
                              const std::vector<std::filesystem::path>& written) {
  // The parts of an earlier merge or export to the same OUT that this one did not write would be
  // uploaded with it ("upload-*.csv"): they are removed, and named. A file of that name that is
  // not an upload file (no portal header) is someone else's: left alone, and named too.
  OutputSetTidy tidied;
  for (const auto& existing : output_set_files(out)) {
    if (std::any_of(written.begin(), written.end(),
                    [&](const auto& w) { return same_file(w, existing); })) {
      continue;
    }
    std::error_code ec;
    if (is_portal_upload_file(existing) && std::filesystem::remove(existing, ec) && !ec) {
      tidied.removed.push_back(core::path_to_utf8(existing));
    } else {
      tidied.kept_other.push_back(core::path_to_utf8(existing));
    }
  }
  return tidied;
}

void print_output_set_tidy(const OutputSetTidy& tidied, std::string_view command, std::ostream& out,
                           std::ostream& err) {
  if (!tidied.removed.empty()) {
    out << "removed " << tidied.removed.size() << " file(s) an earlier merge or export to the same "
        << "name wrote and this " << command
        << " did not, so that every file of this upload is today's:";
    for (const auto& p : tidied.removed) out << " " << p;
    out << "\n";
  }
  if (!tidied.kept_other.empty()) {
    err << "hangar " << command
        << ": warning: left in place, not being upload files (no portal header), though named "
           "like this "
        << command << "'s parts: keep them out of the upload:";
    for (const auto& p : tidied.kept_other) err << " " << p;
    err << "\n";
  }
}

}  // namespace hangar::cli
