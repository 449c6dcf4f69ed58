// The Windows tray: a hidden window owning the notification-area icon (Shell_NotifyIconW), its
// balloons and its menu. The monitor thread calls show_health/notify; they post to the window's
// thread, which alone touches the icon.
#pragma once

#include <windows.h>

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "../app/monitor.h"

namespace hangar::tray {

class TrayWindow final : public TrayView {
 public:
  TrayWindow() = default;
  ~TrayWindow() override;
  TrayWindow(const TrayWindow&) = delete;
  TrayWindow& operator=(const TrayWindow&) = delete;

  // Creates the hidden window and adds the icon (offline until the monitor says otherwise).
  core::Status create(HINSTANCE instance);
  // The menu's commands go through the monitor; set before the message loop runs.
  void attach(Monitor& monitor) { monitor_ = &monitor; }

  void show_health(Health health, const std::string& tooltip) override;
  void notify(const Notification& notification) override;

 private:
  static LRESULT CALLBACK window_proc(HWND hwnd, UINT message, WPARAM wparam, LPARAM lparam);
  LRESULT handle(UINT message, WPARAM wparam, LPARAM lparam);
  bool add_icon();
  void apply_health();
  void show_balloons();
  void show_menu();
  void on_command(UINT id);
  void open_status();
  void toggle_pause();
  void open_log_folder();
  void message_box(const std::string& text, UINT flags) const;

  HWND hwnd_ = nullptr;  // set while the window is created, before the monitor thread starts
  bool destroyed_ = false;
  UINT taskbar_created_ = 0;
  HICON icon_ = nullptr;
  Monitor* monitor_ = nullptr;
  Health health_ = Health::kOffline;
  std::string tooltip_ = "Hangar: connecting";

  std::mutex mutex_;  // what the monitor thread hands over
  std::optional<std::pair<Health, std::string>> pending_health_;
  std::deque<Notification> pending_notifications_;
};

}  // namespace hangar::tray
