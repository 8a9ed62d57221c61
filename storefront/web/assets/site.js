// Progressive enhancement only: every page works without this file. On the catalog, it says how many
// numbers are selected next to "Buy selected".
'use strict';

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
});
