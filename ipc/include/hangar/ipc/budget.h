// The memory the service lets requests take while they are received, decoded and answered, shared
// by every connection: a frame's buffer, the document it decodes to and the reply waiting to be
// read are charged as they grow, so many clients sending large or dense frames (or not reading
// large replies) at once are refused (busy) instead of exhausting memory. Like the connections,
// the budget keeps a share for administrators, so no other user can starve them (black-box round
// 13: an operator's stalled frames refused root's import; unread `list` replies took hangard to
// 400 MB).
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

namespace hangar::ipc {

class MemoryBudget {
 public:
  // `reserved`: bytes only privileged holders may take.
  explicit MemoryBudget(std::size_t capacity, std::size_t reserved = 0)
      : capacity_(capacity), reserved_(std::min(reserved, capacity)) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Which limit refused a charge.
  enum class Limit { kNone, kShared, kOthers };
  // Takes `bytes` if that many are left for a holder that is (or is not) privileged: root,
  // SYSTEM, Administrators or the service's account; never blocks. Returns the limit that
  // refused it, kNone when taken.
  Limit try_acquire(std::size_t bytes, bool privileged = true);
  void release(std::size_t bytes, bool privileged = true);
  std::size_t in_use() const;
  std::size_t capacity() const { return capacity_; }
  std::size_t reserved() const { return reserved_; }

 private:
  const std::size_t capacity_;
  const std::size_t reserved_;
  mutable std::mutex mutex_;
  std::size_t in_use_ = 0;         // under mutex_
  std::size_t others_in_use_ = 0;  // under mutex_: by unprivileged holders
};

// One request's share of a MemoryBudget. Its first `free_bytes` are its own, so a small request
// (a ping, a status) never depends on the budget; beyond that every byte comes from the budget
// and goes back when the lease is reset or destroyed. A default lease has no budget: it covers
// anything (clients, tests).
class BudgetLease {
 public:
  BudgetLease() = default;
  BudgetLease(MemoryBudget* budget, std::size_t free_bytes, bool privileged = true)
      : budget_(budget), free_(free_bytes), privileged_(privileged) {}
  ~BudgetLease() { reset(); }
  BudgetLease(const BudgetLease&) = delete;
  BudgetLease& operator=(const BudgetLease&) = delete;

  // Makes sure `total` bytes are covered; false when the budget cannot give what is missing (the
  // lease keeps what it had).
  bool cover(std::size_t total);
  // Gives everything back; the lease can be used again for the next request.
  void reset();
  // The most this lease covered since the last reset: tells a large request from a small one.
  std::size_t covered() const { return covered_; }
  // The `busy` message for a request this lease could not cover while `doing` ("receiving",
  // "decoding", "its reply waited to be read"): names the limit met and what to do.
  std::string refusal(std::string_view doing) const;

 private:
  MemoryBudget* budget_ = nullptr;
  std::size_t free_ = 0;
  bool privileged_ = true;
  std::size_t taken_ = 0;    // from the budget
  std::size_t covered_ = 0;  // in all
  MemoryBudget::Limit refused_by_ = MemoryBudget::Limit::kNone;
};

}  // namespace hangar::ipc
