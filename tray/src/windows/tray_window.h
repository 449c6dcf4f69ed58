// The Windows tray: a hidden window owning the notification-area icon (Shell_NotifyIconW), its
// balloons and its menu. The monitor thread calls show_health/notify; they post to the window's
// thread, which alone touches the icon.
#pragma once

#include <windows.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
  // Waits for a menu command still talking to the service: call it before the monitor goes.
  void finish_commands() {
    if (worker_.joinable()) worker_.join();
  }

  void show_health(Health health, const std::string& tooltip) override;
  void notify(const Notification& notification) override;

 private:
  static LRESULT CALLBACK window_proc(HWND hwnd, UINT message, WPARAM wparam, LPARAM lparam);
  LRESULT handle(UINT message, WPARAM wparam, LPARAM lparam);
  bool add_icon();
  // Adds the icon if it is not there (yet, or any more); false while the shell refuses.
  bool ensure_icon();
  void apply_health();
  void show_balloons();
  void show_menu();
  void on_command(UINT id);
  void open_status();
  void toggle_pause();
  void open_log_folder();
  void message_box(const std::string& text, UINT flags) const;
  // A menu command talks to the service on a worker thread, so a hung service cannot freeze the
  // icon; what it returns (text and MessageBox flags; nothing for silent success) is shown on the
  // window's thread. One at a time: a click while one runs is ignored.
  using Outcome = std::optional<std::pair<std::string, UINT>>;
  void in_background(std::function<Outcome()> task);

  HWND hwnd_ = nullptr;  // set while the window is created, before the monitor thread starts
  bool destroyed_ = false;
  bool icon_added_ = false;
  UINT taskbar_created_ = 0;
  HICON icon_ = nullptr;
  Monitor* monitor_ = nullptr;
  Health health_ = Health::kOffline;
  std::string tooltip_ = "Hangar: connecting";

  std::mutex mutex_;  // what the monitor thread hands over
  std::optional<std::pair<Health, std::string>> pending_health_;
  std::deque<Notification> pending_notifications_;

  std::atomic<bool> busy_{false};
  std::jthread worker_;  // declared last: joined first, while the rest is still alive
};

}  // namespace hangar::tray
