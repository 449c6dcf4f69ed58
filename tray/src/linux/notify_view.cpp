// libnotify notifications (see notify_view.h).
#include "notify_view.h"

#include <libnotify/notify.h>
#include <spdlog/spdlog.h>

namespace hangar::tray {

NotifyView::~NotifyView() {
  if (initialized_) notify_uninit();
}

core::Status NotifyView::init() {
  if (!notify_init("hangar-tray")) {
    return core::make_error("notify", "libnotify could not start (is there a D-Bus session?)");
  }
  initialized_ = true;
  return {};
}

void NotifyView::show_health(Health, const std::string&) {}

void NotifyView::notify(const Notification& notification) {
  const bool failed = notification.kind == NotificationKind::kFailed;
  // Notification servers read a little markup in the body (<b>, <a href>): a serial or reason
  // from the cloud is text, so its markup characters are escaped.
  gchar* body = g_markup_escape_text(notification.text.c_str(), -1);
  NotifyNotification* n = notify_notification_new(notification.title.c_str(), body,
                                                  failed ? "dialog-error" : "dialog-information");
  g_free(body);
  notify_notification_set_urgency(n, failed ? NOTIFY_URGENCY_CRITICAL : NOTIFY_URGENCY_NORMAL);
  GError* error = nullptr;
  if (!notify_notification_show(n, &error)) {
    // No notification service on this desktop: the log still says what happened.
    spdlog::warn("desktop notification not shown: {}", error ? error->message : "unknown error");
    if (error) g_error_free(error);
  }
  g_object_unref(G_OBJECT(n));
}

}  // namespace hangar::tray
