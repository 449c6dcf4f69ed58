// The store's one statement runner (query.h).
#include "hangar/store/query.h"

namespace hangar::store {

core::Status run_statement(Database& database, std::string_view sql, const Binder& bind,
                           const std::function<bool(const Statement&)>& on_row) {
  auto statement = database.prepare(sql);
  if (!statement) return std::move(statement).error();
  if (bind) {
    if (auto status = bind(*statement); !status) return status;
  }
  // No reader: a statement that must return no rows (run() says so when it does).
  if (!on_row) return statement->run();
  for (;;) {
    auto row = statement->step();
    if (!row) return std::move(row).error();
    if (!*row || !on_row(*statement)) return {};
  }
}

}  // namespace hangar::store
