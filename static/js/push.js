/* Browser notifications on the reminder settings page: subscribe this device to web push and
   tell the server, or unsubscribe it. No inline scripts (CSP): the server key, the URLs and the
   translated messages come from the page (data- attributes and a JSON data block). */
(function () {
  'use strict';

  var section = document.querySelector('[data-push]');
  if (!section) {
    return;
  }
  var text = JSON.parse(document.getElementById('push-messages').textContent);
  var stateText = section.querySelector('[data-push-state]');
  var errorBox = section.querySelector('[data-push-error]');
  var onButton = section.querySelector('[data-push-subscribe]');
  var offButton = section.querySelector('[data-push-unsubscribe]');
  var csrfInput = section.querySelector('input[name="csrfmiddlewaretoken"]');

  function supported() {
    // iPhones expose PushManager only inside the app added to the Home Screen.
    return window.isSecureContext && 'serviceWorker' in navigator &&
      'PushManager' in window && 'Notification' in window;
  }

  function showError(message) {
    errorBox.textContent = message || '';
    errorBox.hidden = !message;
  }

  function showButtons(on) {
    onButton.hidden = on === null || on;
    offButton.hidden = on === null || !on;
  }

  function knownEndpoints() {
    return Array.prototype.map.call(
      document.querySelectorAll('[data-push-endpoint]'),
      function (row) { return row.getAttribute('data-push-endpoint'); }
    );
  }

  function markThisDevice(endpoint) {
    document.querySelectorAll('[data-push-endpoint]').forEach(function (row) {
      var badge = row.querySelector('[data-this-device]');
      if (badge) {
        badge.hidden = row.getAttribute('data-push-endpoint') !== endpoint;
      }
    });
  }

  async function currentSubscription() {
    var registration = await navigator.serviceWorker.getRegistration('/');
    return registration ? registration.pushManager.getSubscription() : null;
  }

  async function refresh() {
    if (!supported()) {
      stateText.textContent = text.unsupported;
      showButtons(null);
      return;
    }
    var subscription = null;
    try {
      subscription = await currentSubscription();
    } catch (error) {
      subscription = null;
    }
    var on = Boolean(subscription) && knownEndpoints().indexOf(subscription.endpoint) !== -1;
    markThisDevice(on ? subscription.endpoint : null);
    stateText.textContent = on ? text.on : text.off;
    showButtons(on);
    if (!on && Notification.permission === 'denied') {
      showError(text.denied);
    }
  }

  function keyBytes(base64url) {
    var base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }

  async function post(url, body) {
    var response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrfInput.value},
      body: JSON.stringify(body)
    });
    if (response.redirected) {
      // The session ended (30 minutes idle): the request landed on the sign-in page.
      var signedOut = new Error(text.failed);
      signedOut.signedOut = true;
      throw signedOut;
    }
    var data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (!response.ok) {
      var failure = new Error(data.error || text.failed);
      failure.fromServer = Boolean(data.error);
      failure.status = response.status;
      throw failure;
    }
    return data;
  }

  function errorText(error) {
    if (error && error.fromServer) {
      return error.message;
    }
    if (error && error.name === 'NotAllowedError') {
      return text.denied;
    }
    if (error && error.name === 'NotSupportedError') {
      return text.unsupported;
    }
    return text.failed;
  }

  function showSavedSettings() {
    // The server's message and the new channel appear on a fresh load of the settings page.
    var settingsUrl = section.getAttribute('data-settings-url');
    if (window.location.pathname === settingsUrl) {
      window.location.reload();
    } else {
      window.location.assign(settingsUrl);
    }
  }

  async function subscribeWith(registration) {
    var options = {
      userVisibleOnly: true,
      applicationServerKey: keyBytes(section.getAttribute('data-vapid-public-key'))
    };
    try {
      return await registration.pushManager.subscribe(options);
    } catch (error) {
      if (error.name !== 'InvalidStateError') {
        throw error;
      }
      // Subscribed earlier with another server key: drop that subscription and start again.
      var old = await registration.pushManager.getSubscription();
      if (old) {
        await old.unsubscribe();
      }
      return registration.pushManager.subscribe(options);
    }
  }

  async function subscribe() {
    showError('');
    if (!supported()) {
      showError(text.unsupported);
      return;
    }
    onButton.disabled = true;
    stateText.textContent = text.starting;
    try {
      var permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        showError(permission === 'denied' ? text.denied : text.dismissed);
        await refresh();
        return;
      }
      await navigator.serviceWorker.register(section.getAttribute('data-service-worker-url'), {scope: '/'});
      var registration = await navigator.serviceWorker.ready;
      var subscription = await subscribeWith(registration);
      await post(section.getAttribute('data-subscribe-url'), subscription.toJSON());
      showSavedSettings();
    } catch (error) {
      if (error.signedOut) {
        showSavedSettings();
        return;
      }
      showError(errorText(error));
      await refresh();
    } finally {
      onButton.disabled = false;
    }
  }

  async function unsubscribe() {
    showError('');
    offButton.disabled = true;
    stateText.textContent = text.stopping;
    try {
      var subscription = await currentSubscription();
      if (subscription) {
        try {
          await post(section.getAttribute('data-unsubscribe-url'), {endpoint: subscription.endpoint});
        } catch (error) {
          if (error.status !== 404) {
            throw error;
          }
        }
        await subscription.unsubscribe();
      }
      showSavedSettings();
    } catch (error) {
      if (error.signedOut) {
        showSavedSettings();
        return;
      }
      showError(errorText(error));
      await refresh();
    } finally {
      offButton.disabled = false;
    }
  }

  onButton.addEventListener('click', subscribe);
  offButton.addEventListener('click', unsubscribe);
  refresh();
}());
