// Stable error codes produced by hangar::store; they cross the IPC boundary, so never rename them.
#pragma once

namespace hangar::store {

// The file cannot be opened or created (permissions, a directory in the way, not a Hangar file).
inline constexpr char kErrOpenFailed[] = "store_open_failed";
// The file is damaged or is not a SQLite database at all.
inline constexpr char kErrCorrupt[] = "store_corrupt";
// Another connection held the write lock for longer than the busy timeout; retrying may work.
inline constexpr char kErrBusy[] = "store_busy";
// A row broke a schema rule (CHECK, NOT NULL, foreign key).
inline constexpr char kErrConstraint[] = "store_constraint";
// The disk failed, is full or is read-only.
inline constexpr char kErrIo[] = "store_io";
// The file was written by a newer Hangar whose schema this build does not know.
inline constexpr char kErrSchemaTooNew[] = "store_schema_too_new";
// A forward migration failed; the file stays at the previous version.
inline constexpr char kErrMigrationFailed[] = "store_migration_failed";
// Anything else SQLite reports: a bug in Hangar rather than a problem with the file.
inline constexpr char kErrInternal[] = "store_internal";
// The requested row does not exist.
inline constexpr char kErrNotFound[] = "not_found";
// The row already exists (for example a serial that is already queued).
inline constexpr char kErrConflict[] = "conflict";
// The caller passed a value the store cannot accept (an unknown state, an empty serial).
inline constexpr char kErrInvalidArgument[] = "invalid_argument";

}  // namespace hangar::store
