// Progressive enhancement only: every page works without this file. On the catalog, it says how many
// numbers are selected next to "Buy selected". On a processing order, it asks the order's status every few
// seconds and reloads the page once something changes (the state, or its payment page being ready);
// without it, the page refreshes itself. It also
// disables a payment form's button once pressed (the server finds the first order anyway), asks before a
// release, and prints invoices.
'use strict';

const POLL_MS = 2500;
const POLL_FOR_MS = 15 * 60 * 1000;

document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('[data-select-form]')) {
    const count = form.querySelector('[data-selected-count]');
    if (!count) continue;
    const update = () => {
      const n = form.querySelectorAll('input[name="did"]:checked').length;
      count.textContent = n === 0 ? '' : n === 1 ? '1 number selected' : `${n} numbers selected`;
    };
    form.addEventListener('change', update);
    update();
  }

  for (const box of document.querySelectorAll('[data-order-status][data-poll]')) {
    for (const hint of box.querySelectorAll('.no-js-only')) hint.hidden = true;
    const shown = {
      state: box.getAttribute('data-state'),
      payReady: box.getAttribute('data-pay-ready') === 'true',
    };
    pollOrder(box.getAttribute('data-order-status'), shown, Date.now());
  }

  for (const form of document.querySelectorAll('form[data-submit-once]')) {
    form.addEventListener('submit', () => {
      // After this event, so the pressed button's value is still sent.
      setTimeout(() => {
        for (const button of form.querySelectorAll('button[type="submit"]')) button.disabled = true;
      }, 0);
    });
  }

  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  }

  for (const button of document.querySelectorAll('[data-print]')) {
    button.addEventListener('click', () => window.print());
  }
});

function pollOrder(url, shown, started) {
  if (!url || Date.now() - started > POLL_FOR_MS) return;
  setTimeout(async () => {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (response.ok) {
        const status = await response.json();
        if (status.state !== shown.state || status.final || status.payReady !== shown.payReady) {
          window.location.reload();
          return;
        }
      }
    } catch {
      // A network blip: look again at the next tick.
    }
    pollOrder(url, shown, started);
  }, POLL_MS);
}
