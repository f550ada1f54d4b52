/* The service worker: shows the reminders the server pushes and opens their page when one is
   tapped. Served at /sw.js (reminders.views.service_worker) so that its scope is the whole
   site. It caches nothing, so the app always shows the live schedule.

   The push payload (reminders/channels/push.py, payload_for) is JSON: {title, body, url, tag}. */
'use strict';

// The unhashed copy that collectstatic keeps next to the hashed one.
var ICON = '/static/img/icon-192.png';
var FALLBACK_TITLE = 'B12 Clinic';

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

function readPayload(data) {
  if (!data) {
    return {};
  }
  try {
    return data.json();
  } catch (error) {
    return {body: data.text()};
  }
}

self.addEventListener('push', function (event) {
  var payload = readPayload(event.data);
  var options = {body: payload.body || '', icon: ICON, data: {url: payload.url || '/'}};
  if (payload.tag) {
    // The same reminder pushed twice replaces its notification instead of adding another.
    options.tag = payload.tag;
  }
  event.waitUntil(self.registration.showNotification(payload.title || FALLBACK_TITLE, options));
});

function safeUrl(raw) {
  try {
    var url = new URL(raw || '/', self.location.origin);
    if (url.protocol === 'https:' || url.protocol === 'http:') {
      return url.href;
    }
  } catch (error) {
    // Not a URL: open the app's home instead.
  }
  return new URL('/', self.location.origin).href;
}

async function openOrFocus(url) {
  var windows = await self.clients.matchAll({type: 'window', includeUncontrolled: true});
  for (var i = 0; i < windows.length; i += 1) {
    if (windows[i].url === url && 'focus' in windows[i]) {
      return windows[i].focus();
    }
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var data = event.notification.data || {};
  event.waitUntil(openOrFocus(safeUrl(data.url)));
});
