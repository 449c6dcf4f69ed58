// Desktop notifications through libnotify (the freedesktop.org notification service over D-Bus).
#pragma once

#include "../app/monitor.h"

namespace hangar::tray {

class NotifyView final : public TrayView {
 public:
  NotifyView() = default;
  ~NotifyView() override;
  NotifyView(const NotifyView&) = delete;
  NotifyView& operator=(const NotifyView&) = delete;

  core::Status init();
  // No icon on Linux (desktops have no common tray): the monitor logs health changes.
  void show_health(Health health, const std::string& tooltip) override;
  void notify(const Notification& notification) override;

 private:
  bool initialized_ = false;
};

}  // namespace hangar::tray
