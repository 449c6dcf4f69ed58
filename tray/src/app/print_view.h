// --dry-run: what the tray would show, one line each on standard output (tests read it).
#pragma once

#include <cstdio>
#include <mutex>

#include "monitor.h"

namespace hangar::tray {

class PrintView final : public TrayView {
 public:
  explicit PrintView(std::FILE* out = stdout) : out_(out) {}
  void show_health(Health health, const std::string& tooltip) override;
  void notify(const Notification& notification) override;

 private:
  std::mutex mutex_;
  std::FILE* out_;
};

}  // namespace hangar::tray
