// The shared request memory budget (see budget.h).
#include "hangar/ipc/budget.h"

namespace hangar::ipc {

MemoryBudget::Limit MemoryBudget::try_acquire(std::size_t bytes, bool privileged) {
  std::lock_guard lock(mutex_);
  if (bytes > capacity_ || in_use_ > capacity_ - bytes) return Limit::kShared;
  if (privileged) {
    in_use_ += bytes;
    return Limit::kNone;
  }
  const std::size_t others = capacity_ - reserved_;
  if (bytes > others || others_in_use_ > others - bytes) return Limit::kOthers;
  others_in_use_ += bytes;
  in_use_ += bytes;
  return Limit::kNone;
}

void MemoryBudget::release(std::size_t bytes, bool privileged) {
  std::lock_guard lock(mutex_);
  in_use_ -= std::min(bytes, in_use_);
  if (privileged) return;
  others_in_use_ -= std::min(bytes, others_in_use_);
}

std::size_t MemoryBudget::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

bool BudgetLease::cover(std::size_t total) {
  if (total <= covered_) return true;
  if (budget_ != nullptr && total > free_) {
    const std::size_t charged = total - free_;
    if (charged > taken_) {
      refused_by_ = budget_->try_acquire(charged - taken_, privileged_);
      if (refused_by_ != MemoryBudget::Limit::kNone) return false;
      taken_ = charged;
    }
  }
  covered_ = total;
  return true;
}

void BudgetLease::reset() {
  if (budget_ != nullptr && taken_ > 0) budget_->release(taken_, privileged_);
  taken_ = 0;
  covered_ = 0;
}

namespace {

std::string mib(std::size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

std::string BudgetLease::refusal(std::string_view doing) const {
  const std::size_t capacity = budget_ != nullptr ? budget_->capacity() : 0;
  const std::string refused = "this one was refused while " + std::string(doing);
  switch (refused_by_) {
    case MemoryBudget::Limit::kOthers:
      return "the service's memory for the requests of users other than administrators (" +
             mib(capacity - budget_->reserved()) + " of " + mib(capacity) +
             ", request_memory_mib; the rest is kept for administrators) is taken by other large "
             "requests; " +
             refused + "; try again shortly";
    case MemoryBudget::Limit::kShared:
    case MemoryBudget::Limit::kNone:
      break;
  }
  return "the service's memory for requests in progress (" + mib(capacity) +
         " in all, request_memory_mib) is taken by other large requests; " + refused +
         "; try again shortly";
}

}  // namespace hangar::ipc
