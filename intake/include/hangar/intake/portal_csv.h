// Writes device records in the Intune portal's exact upload format, split into files of at most N
// rows.
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/intake/diagnostic.h"

namespace hangar::core {

// The only header the portal accepts.
inline constexpr std::string_view kPortalHeader =
    "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User";
// The portal's per-file row limit.
inline constexpr std::size_t kPortalMaxRows = 500;

// Why `value` cannot go into one of the portal's cells (quote-less, ASCII): a comma, a double
// quote, a control character or a non-ASCII character, named with its position; empty if it can.
std::string portal_cell_problem(std::string_view value);

// Why `tag` cannot be a device's group tag (empty, only spaces, a space at its start or end, unfit
// for the portal's cell, longer than the cloud takes), or an empty string. The one check behind
// merge, import and capture's --group-tag (after trim_blanks), the service's import and the
// config's tag_profiles keys, so a tag queued or mapped is a tag that can be exported and uploaded.
std::string group_tag_problem(std::string_view tag);

// Why each record cannot be written: a field with a non-ASCII character (the portal takes ANSI only
// and would mangle it), a comma, quote or line break (the format has no quoting), or no hash.
// Empty when every record fits.
std::vector<Diagnostic> check_portal_records(std::span<const DeviceRecord> records);

// Writes header + rows with CRLF endings to `out`. Fails (code "portal_csv.unfit") without writing
// anything when check_portal_records finds a problem; the message lists the first few.
Status write_portal_csv(std::span<const DeviceRecord> records, std::ostream& out);

// Writes `output` (max_rows_per_file == 0) or, split, "<stem>-001<ext>", "<stem>-002<ext>", ...
// beside it, each with at most max_rows_per_file rows. Returns the files written. Each file is
// an OutputFile (output_file.h): written under a fresh temporary name and renamed, so a failure
// never leaves a half-written upload and a link planted under any of the names is never followed.
Result<std::vector<std::filesystem::path>> write_portal_csv_files(
    std::span<const DeviceRecord> records, const std::filesystem::path& output,
    std::size_t max_rows_per_file = 0);

// The numbered name for part `part` (1-based): "merged.csv" -> "merged-001.csv", "merged" ->
// "merged-001.csv".
std::filesystem::path portal_part_path(const std::filesystem::path& output, std::size_t part);
// The parts' extension: the output's, or ".csv" when it has none.
std::filesystem::path portal_part_extension(const std::filesystem::path& output);

}  // namespace hangar::core
