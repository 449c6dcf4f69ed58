// The versioned schema: an ordered list of forward migrations, tracked in PRAGMA user_version.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "hangar/core/result.h"
#include "hangar/store/sqlite.h"

namespace hangar::store {

// Written to PRAGMA application_id by migration 1 ("HANG"), so Hangar refuses to adopt a SQLite
// file that belongs to another program.
inline constexpr std::int32_t kApplicationId = 0x48414E47;

// Migration N takes the schema from version N-1 to N. Versions start at 1 and have no gaps; a
// change to the schema is always a new migration appended to the list, never an edit of an old one.
struct Migration {
  std::int64_t version;
  std::string_view description;
  std::string_view sql;
};

std::span<const Migration> migrations();

// The version a fresh database reaches: the last migration's.
std::int64_t latest_schema_version();

// PRAGMA user_version of the open database (0 for a new file).
core::Result<std::int64_t> read_schema_version(Database& database);

// store_schema_too_new, naming both versions, when the file is newer than this build.
core::Status check_schema_known(Database& database);

// Applies migrations until the database is at `target_version` (never downgrades). Each migration
// runs in its own BEGIN IMMEDIATE transaction and bumps user_version in that same transaction, so
// a crash leaves the file at the previous version. Fails with store_schema_too_new when the file
// is newer than this build. Store::open calls it with the latest version; tests call it with lower
// ones to build databases as older releases left them.
core::Status migrate_to(Database& database, std::int64_t target_version);

}  // namespace hangar::store
