// The memory the service lets requests take while they are received and decoded, shared by every
// connection: a frame's buffer and the document it decodes to are charged as they grow, so many
// clients sending large or dense frames at once are refused (busy) instead of exhausting memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>

namespace hangar::ipc {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t capacity) : capacity_(capacity) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Takes `bytes` if that many are left; never blocks.
  bool try_acquire(std::size_t bytes);
  void release(std::size_t bytes);
  std::size_t in_use() const { return in_use_.load(); }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  std::atomic<std::size_t> in_use_{0};
};

// One request's share of a MemoryBudget. Its first `free_bytes` are its own, so a small request
// (a ping, a status) never depends on the budget; beyond that every byte comes from the budget
// and goes back when the lease is reset or destroyed. A default lease has no budget: it covers
// anything (clients, tests).
class BudgetLease {
 public:
  BudgetLease() = default;
  BudgetLease(MemoryBudget* budget, std::size_t free_bytes) : budget_(budget), free_(free_bytes) {}
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
  // "decoding"): names the shared limit and what this request holds of it.
  std::string refusal(std::string_view doing) const;

 private:
  MemoryBudget* budget_ = nullptr;
  std::size_t free_ = 0;
  std::size_t taken_ = 0;    // from the budget
  std::size_t covered_ = 0;  // in all
};

}  // namespace hangar::ipc
