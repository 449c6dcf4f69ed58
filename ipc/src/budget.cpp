// The shared request memory budget (see budget.h).
#include "hangar/ipc/budget.h"

namespace hangar::ipc {

bool MemoryBudget::try_acquire(std::size_t bytes) {
  std::size_t used = in_use_.load();
  do {
    if (bytes > capacity_ || used > capacity_ - bytes) return false;
  } while (!in_use_.compare_exchange_weak(used, used + bytes));
  return true;
}

void MemoryBudget::release(std::size_t bytes) { in_use_.fetch_sub(bytes); }

bool BudgetLease::cover(std::size_t total) {
  if (total <= covered_) return true;
  if (budget_ != nullptr && total > free_) {
    const std::size_t charged = total - free_;
    if (charged > taken_) {
      if (!budget_->try_acquire(charged - taken_)) return false;
      taken_ = charged;
    }
  }
  covered_ = total;
  return true;
}

void BudgetLease::reset() {
  if (budget_ != nullptr && taken_ > 0) budget_->release(taken_);
  taken_ = 0;
  covered_ = 0;
}

}  // namespace hangar::ipc

namespace hangar::ipc {

std::string BudgetLease::refusal(std::string_view doing) const {
  const std::size_t capacity = budget_ != nullptr ? budget_->capacity() : 0;
  return "the service's memory for requests in progress (" +
         std::to_string(capacity / (1024 * 1024)) +
         " MiB in all, request_memory_mib) is taken by other large requests; this one was "
         "refused while " +
         std::string(doing) + "; try again shortly";
}

}  // namespace hangar::ipc
