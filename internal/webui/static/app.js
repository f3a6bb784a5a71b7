// dataexport web UI. Every action is a call to the management API: the
// routes of /api/ (see /api/openapi.json), which the UI reaches under
// /api/ui/api/ with its sign-in instead of a function key. The page keeps
// no state of its own beyond what it shows, and no rule the API does not
// have. Plain script, no framework, no file from anywhere but this server.
'use strict';
(function () {
  const API = '/api/ui/api/';
  const main = document.getElementById('main');
  const banner = document.getElementById('banner');
  const live = document.getElementById('live');
  const who = document.getElementById('who');

  // ---- DOM helpers ----

  // h builds an element: h('a', {href: '#/', class: 'x', onclick: fn}, 'text', child...)
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, children);
    return el;
  }
  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') el.textContent = v;
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) if (c) el.append(c);
    return el;
  }
  function announce(msg) { live.textContent = ''; setTimeout(() => { live.textContent = msg; }, 50); }

  // ---- Formatting ----

  const nf = new Intl.NumberFormat('en-US');
  const fmtNum = (n) => (n === undefined || n === null ? '—' : nf.format(n));
  function fmtDuration(sec) {
    if (sec === undefined || sec === null) return '—';
    if (sec < 1) return Math.round(sec * 1000) + ' ms';
    if (sec < 60) return (Math.round(sec * 10) / 10) + ' s';
    const m = Math.floor(sec / 60);
    if (m < 60) return m + ' min ' + Math.round(sec % 60) + ' s';
    const hrs = Math.floor(m / 60);
    return hrs + ' h ' + (m % 60) + ' min';
  }
  // Axis labels have about five characters of room.
  const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  function fmtAxisDuration(sec) {
    if (sec < 1) return Math.round(sec * 1000) + ' ms';
    if (sec < 100) return Math.round(sec) + ' s';
    if (sec < 6000) return Math.round(sec / 60) + ' min';
    return Math.round(sec / 3600) + ' h';
  }
  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  function fmtClock(d) { return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }); }
  function ago(iso) {
    if (!iso) return 'never';
    const sec = (Date.now() - new Date(iso).getTime()) / 1000;
    if (sec < 5) return 'just now';
    return fmtDuration(Math.max(sec, 0)).replace(/ \d+ s$/, '') + ' ago';
  }
  const destLabel = { sqlserver: 'SQL Server / Azure SQL', postgres: 'PostgreSQL', sqlite: 'SQLite' };

  // ---- The API ----

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
      this.status = status;
      this.problem = problem || {};
    }
    get fields() { return this.problem.errors || []; }
  }

  // api calls the management API and returns {data, etag}; an error answer
  // (problem+json) throws an ApiError.
  async function api(method, path, opts) {
    opts = opts || {};
    const headers = { 'Accept': 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
    let body;
    if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.body); }
    if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
    let url = API + path;
    if (opts.query) url += '?' + new URLSearchParams(opts.query).toString();
    let res;
    try {
      res = await fetch(url, { method, headers, body, credentials: 'same-origin', redirect: 'manual', cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, { title: 'The server cannot be reached', detail: String(e.message || e) + ' (' + method + ' ' + url + ')' });
    }
    if (res.type === 'opaqueredirect' || res.status === 401) {
      let p = {};
      try { p = await res.json(); } catch (e) { /* a redirect has no body */ }
      throw new ApiError(401, { title: 'Your sign-in has ended', detail: p.detail || 'Sign in again to go on.', signIn: true });
    }
    const ct = res.headers.get('Content-Type') || '';
    let data = null;
    if (ct.includes('json')) { try { data = await res.json(); } catch (e) { data = null; } }
    if (!res.ok) throw new ApiError(res.status, data || { title: res.status + ' ' + res.statusText });
    return { data, etag: res.headers.get('ETag'), status: res.status };
  }

  // ---- Banner: the API's errors, in full ----

  function clearBanner() { banner.hidden = true; banner.replaceChildren(); banner.className = 'banner'; }
  function showError(err, what) {
    banner.className = 'banner';
    const p = err instanceof ApiError ? err.problem : { title: String(err) };
    const parts = [
      h('button', { class: 'close', type: 'button', onclick: clearBanner, 'aria-label': 'Dismiss this message' }, 'Dismiss'),
      h('h2', {}, what || 'The request failed'),
      h('p', {}, h('strong', {}, p.title || 'Error'), err.status ? ' (HTTP ' + err.status + ')' : ''),
    ];
    if (p.detail) parts.push(h('p', { class: 'detail' }, p.detail));
    if (p.errors && p.errors.length) {
      parts.push(h('ul', { class: 'field-errors' }, p.errors.map((f) => h('li', {}, h('code', {}, f.pointer || '(document)'), ': ', f.detail))));
    }
    if (p.signIn) parts.push(h('p', {}, h('a', { href: signInURL() }, 'Sign in again')));
    banner.replaceChildren(...parts);
    banner.hidden = false;
  }
  function showNotice(msg, kind) {
    banner.className = 'banner ' + (kind || 'ok');
    banner.replaceChildren(h('button', { class: 'close', type: 'button', onclick: clearBanner, 'aria-label': 'Dismiss this message' }, 'Dismiss'), h('p', {}, msg));
    banner.hidden = false;
  }
  let me = null;
  function signInURL() {
    const back = location.pathname + location.hash;
    return ((me && me.signInUrl) || '/.auth/login') + '?post_login_redirect_uri=' + encodeURIComponent(back);
  }

  // ---- Routing and polling ----

  let timers = [];
  let generation = 0;
  function every(ms, fn) {
    const gen = generation;
    let t;
    const tick = async () => {
      if (gen !== generation) return;
      if (!document.hidden) { try { await fn(); } catch (e) { /* shown by fn */ } }
      if (gen === generation) { t = setTimeout(tick, ms); timers.push(t); }
    };
    t = setTimeout(tick, ms);
    timers.push(t);
  }
  function leave() { generation++; timers.forEach(clearTimeout); timers = []; }
  function page(title) {
    leave();
    document.title = title + ' · Data Export';
    main.replaceChildren();
    return generation;
  }
  function focusHeading() {
    const h1 = main.querySelector('h1');
    if (h1) { h1.tabIndex = -1; h1.focus(); }
  }

  async function route() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    try {
      if (parts[0] === '' || parts[0] === 'profiles' && parts.length === 1) await listPage();
      else if (parts[0] === 'new') await wizardPage();
      else if (parts[0] === 'profiles' && parts[2] === 'manage-entities') await manageEntitiesPage(parts[1]);
      else if (parts[0] === 'profiles' && parts[2] === 'manage-relationships') await manageRelationshipsPage(parts[1]);
      else if (parts[0] === 'profiles') await profilePage(parts[1], parts[2] || 'overview');
      else { page('Not found'); main.append(h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the export profiles'))); }
    } catch (e) {
      showError(e, 'This page cannot be shown');
    }
  }
  // go moves to another page, with a notice to show there.
  let pendingNotice = null;
  function go(hash, notice) {
    pendingNotice = notice || null;
    if (location.hash === hash) { clearBanner(); if (pendingNotice) showNotice(pendingNotice); pendingNotice = null; route(); } else location.hash = hash;
  }
  window.addEventListener('hashchange', () => {
    clearBanner();
    if (pendingNotice) { showNotice(pendingNotice); pendingNotice = null; }
    route();
  });

  async function loadMe() {
    try {
      me = (await api('GET', 'me')).data;
      who.replaceChildren('Signed in as ', h('strong', {}, me.name || me.id), h('a', { href: me.signOutUrl }, 'Sign out'));
    } catch (e) {
      showError(e, 'Who you are signed in as cannot be read');
    }
  }

  // catalog is the org's tables and N:N relationships (GET /api/source/entities), read once.
  let catalogPromise = null;
  function catalog() {
    if (!catalogPromise) catalogPromise = api('GET', 'source/entities').then((r) => r.data).catch((e) => { catalogPromise = null; throw e; });
    return catalogPromise;
  }

  // ---- Profile list ----

  async function listPage() {
    const gen = page('Export Profiles');
    const tbody = h('tbody');
    const table = h('table', { class: 'responsive', id: 'profiles-table' },
      h('caption', { class: 'visually-hidden' }, 'Export profiles, with their state and synchronization'),
      h('thead', {}, h('tr', {}, ['Name', 'State', 'Destination', 'Entities', 'Failed Notifications', 'Lag', 'Initial sync'].map((t, i) => h('th', { scope: 'col', class: i === 4 || i === 5 ? 'num' : '' }, t)))),
      tbody);
    const empty = h('p', { class: 'empty', hidden: true }, 'No export profiles yet. Create one with New.');
    main.append(
      h('h1', {}, 'Export Profiles'),
      h('div', { class: 'toolbar' },
        h('a', { class: 'button primary', href: '#/new' }, 'New'),
        h('button', { type: 'button', onclick: () => refresh(true) }, 'Refresh'),
        h('span', { class: 'spacer' }),
        h('span', { class: 'muted small', id: 'updated' })),
      h('div', { class: 'table-wrap' }, table), empty);
    focusHeading();

    async function refresh(loud) {
      let list;
      try {
        list = (await api('GET', 'profiles')).data.profiles;
      } catch (e) { showError(e, 'The export profiles cannot be listed'); return; }
      const statuses = await Promise.all(list.map((p) => api('GET', 'profiles/' + encodeURIComponent(p.name) + '/status').then((r) => r.data, (e) => e)));
      if (gen !== generation) return;
      tbody.replaceChildren(...list.map((p, i) => {
        const st = statuses[i];
        const ok = !(st instanceof Error);
        const failed = ok ? st.failedNotifications : null;
        return h('tr', { 'data-profile': p.name },
          h('td', { 'data-label': 'Name' }, h('a', { href: '#/profiles/' + encodeURIComponent(p.name) }, p.name)),
          h('td', { 'data-label': 'State' }, h('span', { class: 'badge ' + ((ok && st.state) || p.state) }, (ok && st.state) || p.state)),
          h('td', { 'data-label': 'Destination' }, destLabel[p.profile.destination.type] || p.profile.destination.type),
          h('td', { 'data-label': 'Entities' }, h('span', { title: p.profile.entities.join(', ') }, p.profile.entities.length + ': ' + shortList(p.profile.entities))),
          h('td', { 'data-label': 'Failed Notifications', class: 'num' }, failed === null ? '—' : h('span', { class: failed > 0 ? 'failed-count' : '' }, fmtNum(failed))),
          h('td', { 'data-label': 'Lag', class: 'num' }, ok ? fmtDuration(st.maxLagSeconds) : '—'),
          h('td', { 'data-label': 'Initial sync' }, ok ? (st.initialSyncComplete ? 'Complete' : (st.state === 'Inactive' ? 'Paused' : 'In progress')) : h('span', { class: 'lasterror' }, 'status unavailable: ' + st.message)));
      }));
      empty.hidden = list.length > 0;
      table.hidden = list.length === 0;
      document.getElementById('updated').textContent = 'Updated ' + new Date().toLocaleTimeString('en-GB');
      if (loud) announce(list.length + ' export profiles');
    }
    await refresh(false);
    every(5000, () => refresh(false));
  }
  function shortList(xs) { return xs.length <= 4 ? xs.join(', ') : xs.slice(0, 4).join(', ') + ', …'; }

  // ---- Profile documents ----

  // fieldIds maps the API's JSON pointers to the form's controls.
  const fieldIds = {
    '/name': 'f-name', '/destination/keyVaultSecretUrl': 'f-kv', '/destination/connection': 'f-conn', '/schema': 'f-schema',
    '/prefix': 'f-prefix', '/retryCount': 'f-retrycount', '/retryIntervalSeconds': 'f-retryinterval', '/writeDeleteLog': 'f-deletelog',
    '/destination/type': 'f-type', '/destination': 'f-type',
  };

  function numberOrText(v) {
    if (v === '' || v === undefined || v === null) return undefined;
    return /^-?\d+$/.test(String(v).trim()) ? Number(v) : v; // not a number: the API names the field
  }

  // validate asks the API to check a document; it returns the field errors
  // (none: valid). Errors other than field errors throw.
  async function validate(doc) {
    try {
      await api('POST', 'profiles/validate', { body: doc });
      return [];
    } catch (e) {
      if (e instanceof ApiError && (e.status === 400 || e.status === 422) && e.fields.length) return e.fields;
      throw e;
    }
  }

  function fieldError(id) { return document.getElementById(id + '-error'); }
  function setFieldErrors(errors, pointers) {
    for (const [ptr, id] of Object.entries(fieldIds)) {
      if (pointers && !pointers.includes(ptr)) continue;
      const el = document.getElementById(id);
      const out = fieldError(id);
      if (!el || !out) continue;
      const mine = errors.filter((e) => e.pointer === ptr);
      if (mine.length) {
        el.setAttribute('aria-invalid', 'true');
        out.textContent = mine.map((e) => e.detail).join('; ');
        out.hidden = false;
      } else if (!(ptr === '/destination' && document.getElementById(id).getAttribute('aria-invalid') === 'true' && errors.some((e) => e.pointer === '/destination/type'))) {
        el.removeAttribute('aria-invalid');
        out.textContent = '';
        out.hidden = true;
      }
    }
  }

  function field(id, label, control, hint) {
    const hintId = hint ? id + '-hint' : null;
    control.id = id;
    const described = [hintId, id + '-error'].filter(Boolean).join(' ');
    control.setAttribute('aria-describedby', described);
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      control,
      hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
      h('p', { class: 'error-text', id: id + '-error', hidden: true }));
  }

  // ---- New Profile wizard ----

  const STEPS = ['Properties', 'Select Entities', 'Select Relationships', 'Summary'];
  const PROPERTY_POINTERS = ['/name', '/destination/keyVaultSecretUrl', '/destination/connection', '/schema', '/prefix', '/retryCount', '/retryIntervalSeconds', '/writeDeleteLog', '/destination/type', '/destination'];

  async function wizardPage() {
    page('New Export Profile');
    const w = {
      step: 0,
      props: { name: '', kv: '', conn: '', schema: '', prefix: '', retryCount: '12', retryInterval: '5', deleteLog: false, type: 'sqlserver' },
      entities: new Set(), relationships: new Set(), touched: new Set(),
    };
    const stepList = h('ol', { class: 'steps', 'aria-label': 'Steps' }, STEPS.map((t) => h('li', {}, t)));
    const body = h('div', { id: 'wizard-step' });
    main.append(h('h1', {}, 'New Export Profile'), stepList, body);

    const doc = () => wizardDoc(w);
    async function show(step) {
      w.step = step;
      [...stepList.children].forEach((li, i) => {
        li.classList.toggle('done', i < step);
        if (i === step) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
      });
      body.replaceChildren();
      if (step === 0) propertiesStep();
      else if (step === 1) await entitiesStep();
      else if (step === 2) await relationshipsStep();
      else summaryStep();
      const h2 = body.querySelector('h2');
      if (h2) { h2.tabIndex = -1; h2.focus(); }
    }

    function propertiesStep() {
      const p = w.props;
      const bind = (el, key, prop) => {
        el.value = p[key];
        el.addEventListener('input', () => { p[key] = el[prop || 'value']; });
        el.addEventListener('change', () => { w.touched.add(key); inline(); });
        return el;
      };
      const deleteLog = h('input', { type: 'checkbox', id: 'f-deletelog', checked: p.deleteLog, 'aria-describedby': 'f-deletelog-hint f-deletelog-error' });
      deleteLog.addEventListener('change', () => { p.deleteLog = deleteLog.checked; });
      const type = h('select', {}, Object.entries(destLabel).map(([v, t]) => h('option', { value: v }, t)));
      const form = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); next(); } },
        h('h2', {}, 'Properties'),
        h('div', { class: 'two-col' },
          h('div', {},
            field('f-name', 'Name (required)', bind(h('input', { type: 'text', autocomplete: 'off', required: true }), 'name'), 'Unique; letters, digits, - and _.'),
            field('f-type', 'Destination type', bind(type, 'type')),
            field('f-kv', 'Key Vault secret URL (required)', bind(h('input', { type: 'url', autocomplete: 'off', placeholder: 'https://<vault>.vault.azure.net/secrets/<name>' }), 'kv'),
              'The Key Vault secret holding the destination\'s connection string; case-sensitive.'),
            h('details', { open: p.conn !== '' },
              h('summary', {}, 'Local development only: a connection string instead'),
              field('f-conn', 'Connection string', bind(h('input', { type: 'password', autocomplete: 'off' }), 'conn'),
                'Accepted only when the server runs with LOCAL_DEVELOPMENT=true; it is stored with the profile and never shown again.'))),
          h('div', {},
            field('f-schema', 'Schema', bind(h('input', { type: 'text', autocomplete: 'off' }), 'schema'), 'Optional; letters and digits. Default: dbo (SQL Server), public (PostgreSQL).'),
            field('f-prefix', 'Prefix', bind(h('input', { type: 'text', autocomplete: 'off' }), 'prefix'), 'Optional; letters and digits, fewer than 15, put before each table name.'),
            field('f-retrycount', 'Retry count', bind(h('input', { type: 'number', min: 0, max: 20, inputmode: 'numeric' }), 'retryCount'), '0 to 20; default 12.'),
            field('f-retryinterval', 'Retry interval (seconds)', bind(h('input', { type: 'number', min: 0, max: 3600, inputmode: 'numeric' }), 'retryInterval'), '0 to 3600; default 5.'),
            h('div', { class: 'field' },
              h('div', { class: 'checkbox' }, deleteLog, h('label', { for: 'f-deletelog' }, 'Write Delete Log')),
              h('p', { class: 'hint', id: 'f-deletelog-hint' }, 'Also record each deleted record in the DeleteLog table.'),
              h('p', { class: 'error-text', id: 'f-deletelog-error', hidden: true })))),
        h('div', { class: 'wizard-actions' },
          h('a', { class: 'button', href: '#/' }, 'Cancel'),
          h('button', { type: 'submit', class: 'primary' }, 'Next')));
      body.append(form);
      let pending = null;
      async function inline() {
        clearTimeout(pending);
        pending = setTimeout(async () => {
          try {
            const errs = await validate(doc());
            const shown = PROPERTY_POINTERS.filter((ptr) => w.touched.has(pointerKey(ptr)));
            setFieldErrors(errs, shown);
          } catch (e) { showError(e, 'The profile cannot be checked'); }
        }, 150);
      }
      async function next() {
        clearTimeout(pending);
        let errs;
        try { errs = await validate(doc()); } catch (e) { showError(e, 'The profile cannot be checked'); return; }
        const mine = errs.filter((e) => PROPERTY_POINTERS.includes(e.pointer));
        Object.keys(w.props).forEach((k) => w.touched.add(k));
        setFieldErrors(errs, PROPERTY_POINTERS);
        if (mine.length) {
          announce(mine.length + (mine.length === 1 ? ' field needs' : ' fields need') + ' attention');
          const first = document.getElementById(fieldIds[mine[0].pointer]);
          if (first) first.focus();
          return;
        }
        clearBanner();
        show(1);
      }
    }

    async function entitiesStep() {
      body.append(h('h2', {}, 'Select Entities'), h('p', { class: 'loading' }, 'Reading the org\'s tables…'));
      let cat;
      try { cat = await catalog(); } catch (e) { showError(e, 'The org\'s tables cannot be read'); body.append(backButton(0)); return; }
      body.querySelector('.loading').remove();
      const picker = entityPicker(cat, w.entities);
      const err = h('p', { class: 'error-text', id: 'entities-error', hidden: true });
      body.append(picker.el, err, h('div', { class: 'wizard-actions' },
        backButton(0),
        h('button', {
          type: 'button', class: 'primary', onclick: async () => {
            if (w.entities.size === 0) { err.textContent = 'Select at least one entity.'; err.hidden = false; picker.search.focus(); return; }
            let errs;
            try { errs = await validate(doc()); } catch (e) { showError(e, 'The entities cannot be checked'); return; }
            const bad = errs.filter((e) => /^\/entities\//.test(e.pointer));
            if (bad.length) {
              const d = doc();
              err.textContent = bad.map((e) => (d.entities[Number(e.pointer.split('/')[2])] || e.pointer) + ': ' + e.detail).join('; ');
              err.hidden = false;
              return;
            }
            clearBanner();
            show(2);
          },
        }, 'Next')));
    }

    async function relationshipsStep() {
      const cat = await catalog();
      body.append(h('h2', {}, 'Select Relationships'));
      const picker = relationshipPicker(cat, w.entities, w.relationships);
      body.append(picker, h('div', { class: 'wizard-actions' }, backButton(1), h('button', { type: 'button', class: 'primary', onclick: () => show(3) }, 'Next')));
    }

    function summaryStep() {
      const d = doc();
      const p = w.props;
      body.append(h('h2', {}, 'Summary'),
        h('div', { class: 'panel' }, h('dl', { class: 'props', id: 'summary' },
          dt('Name', d.name),
          dt('Destination type', destLabel[d.destination.type] || d.destination.type),
          dt('Key Vault secret URL', d.destination.keyVaultSecretUrl || (p.conn ? 'none: a connection string (local development)' : '—')),
          dt('Schema', d.schema || 'default'),
          dt('Prefix', d.prefix || 'none'),
          dt('Retry count', d.retryCount === undefined ? '12 (default)' : d.retryCount),
          dt('Retry interval', (d.retryIntervalSeconds === undefined ? 5 : d.retryIntervalSeconds) + ' s'),
          dt('Write Delete Log', d.writeDeleteLog ? 'Yes' : 'No'),
          dt('Entities', [...w.entities].sort().join(', ')),
          dt('Relationships', [...w.relationships].sort().join(', ') || 'none'))),
        h('p', {}, 'Create saves the profile Inactive; Create and Activate starts the initial sync at once.'),
        h('div', { class: 'wizard-actions' },
          backButton(2),
          h('button', { type: 'button', onclick: () => create(false) }, 'Create'),
          h('button', { type: 'button', class: 'primary', onclick: () => create(true) }, 'Create and Activate')));
    }

    async function create(activate) {
      const d = doc();
      [...body.querySelectorAll('button')].forEach((b) => { b.disabled = true; });
      try {
        await api('POST', 'profiles', { body: d, query: activate ? { activate: 'true' } : undefined });
        go('#/profiles/' + encodeURIComponent(d.name) + '/entities', 'Export profile ' + d.name + ' created' + (activate ? ' and activated: the initial sync has started.' : ' (Inactive). Activate it to start the initial sync.'));
      } catch (e) {
        showError(e, 'The export profile was not created');
        [...body.querySelectorAll('button')].forEach((b) => { b.disabled = false; });
      }
    }

    function backButton(step) { return h('button', { type: 'button', onclick: () => show(step) }, 'Back'); }
    focusHeading();
    await show(0);
  }

  function pointerKey(ptr) {
    return { '/name': 'name', '/destination/keyVaultSecretUrl': 'kv', '/destination/connection': 'conn', '/schema': 'schema', '/prefix': 'prefix', '/retryCount': 'retryCount', '/retryIntervalSeconds': 'retryInterval', '/writeDeleteLog': 'deleteLog', '/destination/type': 'type', '/destination': 'type' }[ptr];
  }

  // wizardDoc is the profile document the wizard has gathered: the entities
  // chosen and the intersect entity of each relationship chosen.
  function wizardDoc(w) {
    const p = w.props;
    const d = { name: p.name.trim(), entities: [...w.entities].sort(), destination: { type: p.type } };
    if (p.kv.trim()) d.destination.keyVaultSecretUrl = p.kv.trim();
    if (p.conn.trim()) d.destination.connection = p.conn.trim();
    if (p.schema.trim()) d.schema = p.schema.trim();
    if (p.prefix.trim()) d.prefix = p.prefix.trim();
    if (p.deleteLog) d.writeDeleteLog = true;
    const rc = numberOrText(p.retryCount), ri = numberOrText(p.retryInterval);
    if (rc !== undefined) d.retryCount = rc;
    if (ri !== undefined) d.retryIntervalSeconds = ri;
    for (const r of w.relationships) if (!d.entities.includes(r)) d.entities.push(r);
    return d;
  }

  function dt(k, v) { return [h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '—' : String(v))]; }

  // entityPicker lists the org's tables to choose from: only those with
  // change tracking can be chosen; each other says why (the API's reason).
  function entityPicker(cat, selected) {
    const ents = cat.entities.filter((e) => !e.isIntersect).sort((a, b) => (a.displayName || a.logicalName).localeCompare(b.displayName || b.logicalName));
    const ap = cat.entities.find((e) => e.logicalName === 'activitypointer');
    const count = h('p', { class: 'muted', id: 'selected-count', 'aria-live': 'polite' });
    const updateCount = () => { count.textContent = selected.size + ' selected'; };
    const search = h('input', { type: 'search', id: 'entity-search', autocomplete: 'off', placeholder: 'Name or logical name' });
    const items = ents.map((e) => {
      const id = 'ent-' + e.logicalName;
      const cb = h('input', { type: 'checkbox', id, value: e.logicalName, checked: selected.has(e.logicalName), disabled: !e.eligible, 'aria-describedby': e.eligible ? null : id + '-why' });
      cb.addEventListener('change', () => { if (cb.checked) selected.add(e.logicalName); else selected.delete(e.logicalName); updateCount(); });
      return h('li', { class: e.eligible ? '' : 'disabled', 'data-search': (e.displayName + ' ' + e.logicalName).toLowerCase() },
        h('div', { class: 'checkbox' }, cb, h('label', { for: id }, e.displayName || e.logicalName, ' ', h('span', { class: 'logical' }, '(' + e.logicalName + ')'))),
        e.eligible ? null : h('span', { class: 'reason', id: id + '-why' }, e.reason || 'cannot be exported'));
    });
    search.addEventListener('input', () => {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      for (const li of items) { const m = !q || li.dataset.search.includes(q); li.hidden = !m; if (m) shown++; }
      announce(shown + ' entities shown');
    });
    updateCount();
    const el = h('div', {},
      h('p', {}, 'Only entities with change tracking enabled can be exported. To add another, turn on Track changes in its table\'s properties in Dataverse.'),
      ap ? h('p', { class: 'notice', id: 'activity-notice' }, h('strong', {}, 'Activity (activitypointer): '), ap.reason || 'cannot be exported; select the specific activity entities instead, such as phonecall, appointment, email and task.') : null,
      h('div', { class: 'field' }, h('label', { for: 'entity-search' }, 'Search entities'), search),
      count,
      h('fieldset', {}, h('legend', {}, 'Entities of the org'), h('ul', { class: 'pick-list', id: 'entity-list' }, items)));
    return { el, search };
  }

  // relationshipPicker lists the N:N relationships among the chosen
  // entities; each is replicated through its intersect entity.
  function relationshipPicker(cat, entities, selected) {
    const byName = Object.fromEntries(cat.entities.map((e) => [e.logicalName, e]));
    const rels = cat.relationships.filter((r) => entities.has(r.entity1) && entities.has(r.entity2));
    for (const r of [...selected]) if (!rels.some((x) => x.intersectEntity === r)) selected.delete(r);
    if (!rels.length) return h('p', { class: 'empty', id: 'no-relationships' }, 'No many-to-many relationships join the selected entities.');
    return h('fieldset', {}, h('legend', {}, 'Many-to-many relationships among the selected entities'),
      h('ul', { class: 'pick-list', id: 'relationship-list' }, rels.map((r) => {
        const ie = byName[r.intersectEntity] || {};
        const ok = ie.eligible !== false;
        const id = 'rel-' + r.schemaName;
        const cb = h('input', { type: 'checkbox', id, value: r.intersectEntity, checked: selected.has(r.intersectEntity), disabled: !ok, 'aria-describedby': id + '-what' });
        cb.addEventListener('change', () => { if (cb.checked) selected.add(r.intersectEntity); else selected.delete(r.intersectEntity); });
        return h('li', { class: ok ? '' : 'disabled' },
          h('div', { class: 'checkbox' }, cb, h('label', { for: id }, r.schemaName)),
          h('span', { class: 'reason', id: id + '-what' }, r.entity1 + ' ↔ ' + r.entity2 + ', replicated as the table ' + r.intersectEntity + (ok ? '' : ': ' + (ie.reason || 'cannot be exported'))));
      })));
  }

  // ---- Profile page ----

  const TABS = [['overview', 'Properties & Overview'], ['entities', 'Entities'], ['relationships', 'Relationships']];

  async function profilePage(name, tab) {
    const gen = page(name);
    const path = 'profiles/' + encodeURIComponent(name);
    const st = { view: null, etag: null, status: null, metrics: null, hours: 1, tab: TABS.some((t) => t[0] === tab) ? tab : 'overview' };
    let got;
    try {
      [got, st.status] = await Promise.all([api('GET', path), api('GET', path + '/status').then((r) => r.data)]);
    } catch (e) {
      main.append(h('h1', {}, name), h('p', {}, h('a', { href: '#/' }, 'Back to the export profiles')));
      showError(e, 'Export profile ' + name + ' cannot be read');
      return;
    }
    st.view = got.data; st.etag = got.etag;
    if (gen !== generation) return;

    const badge = h('span', { class: 'badge', id: 'state' });
    const activateBtn = h('button', { type: 'button', class: 'primary', id: 'activate', onclick: () => setState('activate') }, 'Activate');
    const deactivateBtn = h('button', { type: 'button', id: 'deactivate', onclick: () => setState('deactivate') }, 'Deactivate');
    const testBtn = h('button', { type: 'button', id: 'test', onclick: runTest }, 'Test');
    const resyncBtn = h('button', { type: 'button', id: 'resync-failures', onclick: resyncFailures }, 'Resync failed records');
    const updated = h('span', { class: 'muted small', id: 'updated' });
    main.append(
      h('p', { class: 'small' }, h('a', { href: '#/' }, '← Export Profiles')),
      h('div', { class: 'title-row' }, h('h1', {}, name), badge),
      h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Actions' },
        h('a', { class: 'button', href: '#/' + path + '/manage-entities' }, 'Manage Entities'),
        h('a', { class: 'button', href: '#/' + path + '/manage-relationships' }, 'Manage Relationships'),
        activateBtn, deactivateBtn, testBtn, resyncBtn,
        h('button', { type: 'button', id: 'failed-records', onclick: failedRecords }, 'Failed records'),
        h('button', { type: 'button', id: 'reconcile', onclick: reconcile }, 'Reconcile'),
        h('button', { type: 'button', id: 'refresh', onclick: () => refresh(true) }, 'Refresh'),
        h('button', { type: 'button', class: 'danger', id: 'delete', onclick: confirmDelete }, 'Delete'),
        h('span', { class: 'spacer' }), updated));

    const tablist = h('div', { role: 'tablist', 'aria-label': 'Profile' });
    const panels = {};
    for (const [id, label] of TABS) {
      const t = h('button', { type: 'button', role: 'tab', id: 'tab-' + id, 'aria-controls': 'panel-' + id, onclick: () => select(id, true) }, label);
      t.addEventListener('keydown', (e) => {
        const i = TABS.findIndex((x) => x[0] === id);
        let j = null;
        if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
        else if (e.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
        else if (e.key === 'Home') j = 0;
        else if (e.key === 'End') j = TABS.length - 1;
        if (j !== null) { e.preventDefault(); select(TABS[j][0], true); document.getElementById('tab-' + TABS[j][0]).focus(); }
      });
      tablist.append(t);
      panels[id] = h('section', { role: 'tabpanel', id: 'panel-' + id, 'aria-labelledby': 'tab-' + id, tabindex: 0 });
    }
    main.append(tablist, ...Object.values(panels));
    function select(id, push) {
      st.tab = id;
      for (const [t] of TABS) {
        const b = document.getElementById('tab-' + t);
        b.setAttribute('aria-selected', String(t === id));
        b.tabIndex = t === id ? 0 : -1;
        panels[t].hidden = t !== id;
      }
      if (push) history.replaceState(null, '', '#/' + path + (id === 'overview' ? '' : '/' + id));
    }
    select(st.tab, false);

    // Overview
    const cards = h('div', { class: 'summary-cards' });
    const props = h('dl', { class: 'props', id: 'properties' });
    const testOut = h('div', { id: 'test-result' });
    panels.overview.append(h('h2', {}, 'Overview'), cards, h('h2', {}, 'Properties'), h('div', { class: 'panel' }, props), testOut);
    // Entities
    const entBody = h('tbody');
    const hoursSel = h('select', { id: 'hours' }, [1, 6, 24, 48].map((n) => h('option', { value: n, selected: n === st.hours }, 'Last ' + n + (n === 1 ? ' hour' : ' hours'))));
    hoursSel.addEventListener('change', () => { st.hours = Number(hoursSel.value); loadMetrics(); });
    const charts = h('div', { class: 'charts', id: 'charts' });
    panels.entities.append(
      h('h2', {}, 'Entities'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'responsive', id: 'entities-table' },
        h('caption', { class: 'visually-hidden' }, 'Synchronization of each entity'),
        h('thead', {}, h('tr', {}, ['Entity', 'Phase', 'Initial sync', 'Succeeded', 'Failed', 'Deleted', 'Last sync', 'Lag'].map((t, i) => h('th', { scope: 'col', class: i >= 3 && i <= 5 || i === 7 ? 'num' : '' }, t)))),
        entBody)),
      h('h2', {}, 'Activity'),
      h('div', { class: 'field' }, h('label', { for: 'hours' }, 'Time window'), hoursSel),
      charts);
    // Relationships
    const relOut = h('div', { id: 'relationships' });
    panels.relationships.append(h('h2', {}, 'Relationships'), relOut);

    function render() {
      const v = st.view, status = st.status, p = v.profile;
      const state = (status && status.state) || v.state;
      badge.textContent = state;
      badge.className = 'badge ' + state;
      activateBtn.hidden = state === 'Active';
      deactivateBtn.hidden = state !== 'Active';
      cards.replaceChildren(
        card('State', state, 'card-state'),
        card('Failed Notifications', fmtNum(status.failedNotifications), 'card-failed', status.failedNotifications > 0),
        card('Entities', p.entities.length, 'card-entities'),
        card('Lag', fmtDuration(status.maxLagSeconds), 'card-lag'),
        card('Initial sync', status.initialSyncComplete ? 'Complete' : 'In progress', 'card-initial'));
      props.replaceChildren();
      append(props, [
        dt('Name', v.name),
        dt('State', state),
        dt('Destination type', destLabel[p.destination.type] || p.destination.type),
        dt('Key Vault secret URL', v.usesKeyVault ? p.destination.keyVaultSecretUrl : 'none: the connection string is stored in the profile (local development)'),
        dt('Schema', p.schema || 'default'),
        dt('Prefix', p.prefix || 'none'),
        dt('Retry count', p.retryCount === undefined ? '12 (default)' : p.retryCount),
        dt('Retry interval', (p.retryIntervalSeconds === undefined ? 5 : p.retryIntervalSeconds) + ' s'),
        dt('Write Delete Log', p.writeDeleteLog ? 'Yes' : 'No'),
        dt('Entities', p.entities.join(', '))]);
      entBody.replaceChildren(...status.entities.map(entityRow));
      renderRelationships();
      updated.textContent = 'Updated ' + new Date().toLocaleTimeString('en-GB');
    }

    async function renderRelationships() {
      let cat;
      try { cat = await catalog(); } catch (e) { relOut.replaceChildren(h('p', { class: 'lasterror' }, 'The org\'s relationships cannot be read: ' + e.message)); return; }
      const byEntity = Object.fromEntries(st.status.entities.map((e) => [e.entity, e]));
      const rels = cat.relationships.filter((r) => st.view.profile.entities.includes(r.intersectEntity));
      if (!rels.length) { relOut.replaceChildren(h('p', { class: 'empty' }, 'No many-to-many relationships are exported. Add them with Manage Relationships.')); return; }
      relOut.replaceChildren(h('div', { class: 'table-wrap' }, h('table', { class: 'responsive', id: 'relationships-table' },
        h('thead', {}, h('tr', {}, ['Relationship', 'Between', 'Table', 'Phase', 'Succeeded', 'Failed', 'Last sync'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rels.map((r) => {
          const e = byEntity[r.intersectEntity] || {};
          return h('tr', {},
            h('td', { 'data-label': 'Relationship' }, r.schemaName),
            h('td', { 'data-label': 'Between' }, r.entity1 + ' ↔ ' + r.entity2),
            h('td', { 'data-label': 'Table' }, r.intersectEntity),
            h('td', { 'data-label': 'Phase' }, e.description || '—'),
            h('td', { 'data-label': 'Succeeded', class: 'num' }, fmtNum(e.succeeded)),
            h('td', { 'data-label': 'Failed', class: 'num' }, fmtNum(e.failed)),
            h('td', { 'data-label': 'Last sync' }, e.lastSuccessfulSync ? ago(e.lastSuccessfulSync) : 'never'));
        })))));
    }

    async function refresh(loud) {
      try {
        st.status = (await api('GET', path + '/status')).data;
        if (loud) {
          const g = await api('GET', path);
          st.view = g.data; st.etag = g.etag;
        }
      } catch (e) { showError(e, 'The status of ' + name + ' cannot be read'); return; }
      if (gen !== generation) return;
      render();
      if (loud) { loadMetrics(); announce('Status of ' + name + ' refreshed'); }
    }

    async function loadMetrics() {
      try { st.metrics = (await api('GET', path + '/metrics', { query: { hours: st.hours } })).data; } catch (e) { showError(e, 'The activity of ' + name + ' cannot be read'); return; }
      if (gen !== generation) return;
      charts.replaceChildren(...st.metrics.entities.map((em) => chartCard(em, st.metrics)));
    }

    async function setState(action) {
      const b = action === 'activate' ? activateBtn : deactivateBtn;
      b.disabled = true;
      try {
        const r = await api('POST', path + '/' + action, { ifMatch: st.etag });
        st.view = r.data; st.etag = r.etag;
        st.status = (await api('GET', path + '/status')).data;
        render();
        showNotice(action === 'activate' ? 'Export profile ' + name + ' activated: synchronization resumes from where it stopped.' : 'Export profile ' + name + ' deactivated: polling stopped; changes already read are still applied.');
        (action === 'activate' ? deactivateBtn : activateBtn).focus();
      } catch (e) {
        showError(e, (action === 'activate' ? 'Activating ' : 'Deactivating ') + name + ' failed');
        if (e.status === 412) await refresh(true);
      } finally { b.disabled = false; }
    }

    async function runTest() {
      testBtn.disabled = true;
      testBtn.textContent = 'Testing…';
      try {
        const rep = (await api('POST', path + '/test')).data;
        select('overview', true);
        testOut.replaceChildren(h('h2', { tabindex: -1, id: 'test-heading' }, 'Test: ' + (rep.ok ? 'passed' : 'failed')),
          h('ul', { class: 'checks panel' }, rep.checks.map((c) => h('li', {}, h('span', { class: 'badge ' + c.status }, c.status), ' ', h('strong', {}, c.name), ': ', c.detail))));
        document.getElementById('test-heading').focus();
      } catch (e) { showError(e, 'Testing ' + name + ' failed'); } finally { testBtn.disabled = false; testBtn.textContent = 'Test'; }
    }

    // DES's "Resync failed records": read the failed records again from
    // Dataverse and apply them; those refused again stay failed.
    async function resyncFailures() {
      resyncBtn.disabled = true;
      resyncBtn.textContent = 'Resyncing…';
      try {
        const rep = (await api('POST', path + '/failures/resync')).data;
        st.status = (await api('GET', path + '/status')).data;
        render();
        const msg = 'Resync of failed records: ' + fmtNum(rep.resolved) + ' resolved, ' + fmtNum(rep.failedAgain) + ' failed again, ' + fmtNum(rep.remaining) + ' remaining.';
        const errs = (rep.entities || []).flatMap((e) => (e.errors || []).concat(e.error ? [e.error] : []).map((x) => e.entity + ': ' + x));
        showNotice(msg + (errs.length ? ' ' + errs.join('; ') : ''), rep.ok && rep.failedAgain === 0 ? 'ok' : 'info');
      } catch (e) { showError(e, 'Resyncing the failed records of ' + name + ' failed'); } finally { resyncBtn.disabled = false; resyncBtn.textContent = 'Resync failed records'; }
    }

    // DES's "Failed records": counts, the latest failure lines and a
    // read-only URL of the failures container for Azure Storage Explorer.
    async function failedRecords() {
      let rep;
      try { rep = (await api('GET', path + '/failures', { query: { lines: 20 } })).data; } catch (e) { showError(e, 'The failed records of ' + name + ' cannot be read'); return; }
      // Only the entities that have failed records (or a counter above 0).
      const failing = (rep.entities || []).filter((e) => e.failedRecords > 0 || e.failedNotifications > 0);
      const lines = (ls) => ls && ls.length ? h('pre', { class: 'lines' }, ls.map((l) => l.line).join('\n')) : h('p', { class: 'muted' }, 'None.');
      const url = h('input', { type: 'text', id: 'failures-url', readonly: true, value: rep.url || '' });
      const copied = h('span', { class: 'muted small', id: 'copy-status', 'aria-live': 'polite' });
      const dlg = modal('failures-title', [
        h('h2', { id: 'failures-title' }, 'Failed records: ' + name),
        h('p', { id: 'failures-summary' }, fmtNum(rep.failedRecords) + (rep.failedRecords === 1 ? ' failed record' : ' failed records') + ' (Failed Notifications ' + fmtNum(rep.failedNotifications) + ')' +
          (rep.metadataFailures ? '; ' + fmtNum(rep.metadataFailures) + ' metadata failures' : '') + (rep.unprocessableMessages ? '; ' + fmtNum(rep.unprocessableMessages) + ' unprocessable messages' : '') + '.'),
        failing.length ? h('table', { id: 'failures-table' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Entity'), h('th', { scope: 'col', class: 'num' }, 'Failed records'), h('th', { scope: 'col', class: 'num' }, 'Failed Notifications'))),
          h('tbody', {}, failing.map((e) => h('tr', {}, h('td', {}, e.entity), h('td', { class: 'num' }, fmtNum(e.failedRecords)), h('td', { class: 'num' }, fmtNum(e.failedNotifications)))))) : null,
        h('h3', {}, 'Latest failures'), h('div', { id: 'failure-lines' }, lines(rep.latestFailures)),
        h('h3', {}, 'Latest resync failures'), lines(rep.latestResyncFailures),
        rep.url ? h('div', { class: 'field' },
          h('label', { for: 'failures-url' }, 'Blob URL (read-only, valid until ' + fmtTime(rep.urlExpires) + ')'), url,
          h('p', { class: 'hint' }, 'In Azure Storage Explorer: Connect to Azure Storage, then paste this URL. Anyone holding it can read the failed records until it expires.'),
          h('button', { type: 'button', id: 'copy-url', onclick: async () => {
            url.select();
            try { await navigator.clipboard.writeText(rep.url); copied.textContent = 'Copied.'; } catch (e) { copied.textContent = 'Selected: press Ctrl+C to copy.'; }
          } }, 'Copy Blob URL'), ' ', copied) : null,
      ]);
      dlg.showModal();
    }

    // Reconcile: compare an entity's table with the source by id and
    // version; when they differ, offer to read it again in full.
    function reconcile() {
      const sel = h('select', { id: 'reconcile-entity' }, st.view.profile.entities.map((e) => h('option', { value: e }, e)));
      const out = h('div', { id: 'reconcile-result', 'aria-live': 'polite' });
      const go = h('button', { type: 'button', class: 'primary', id: 'reconcile-run', onclick: async () => {
        go.disabled = true;
        out.replaceChildren(h('p', { class: 'muted' }, 'Comparing ' + sel.value + ' with the source…'));
        const ent = sel.value;
        try {
          const r = (await api('GET', path + '/entities/' + encodeURIComponent(ent) + '/reconcile', { query: { limit: 20 } })).data;
          const ids = (label, xs, n) => n ? [h('h3', {}, label + ' (' + fmtNum(n) + ')'), h('pre', { class: 'lines' }, xs.map((x) => typeof x === 'string' ? x : x.id + ' (source ' + x.sourceVersion + ', destination ' + x.destinationVersion + ')').join('\n'))] : [];
          out.replaceChildren();
          append(out, [
            h('p', { class: r.equal ? 'ok-text' : 'bad-text', id: 'reconcile-verdict' }, r.equal ? ent + ' is equal to the source: ' + fmtNum(r.sourceRows) + ' rows.' : ent + ' differs from the source: ' + fmtNum(r.sourceRows) + ' rows in Dataverse, ' + fmtNum(r.destinationRows) + ' in ' + r.table + '.'),
            r.note ? h('p', { class: 'muted' }, r.note.charAt(0).toUpperCase() + r.note.slice(1) + '.') : null,
            ids('Missing in the destination', r.missing || [], r.missingCount),
            ids('Extra in the destination', r.extra || [], r.extraCount),
            ids('Older in the destination', r.stale || [], r.staleCount),
            r.equal ? null : h('button', { type: 'button', id: 'entity-resync', onclick: async (ev) => {
              ev.target.disabled = true;
              try {
                const x = (await api('POST', path + '/entities/' + encodeURIComponent(ent) + '/resync')).data;
                out.append(h('p', { id: 'entity-resync-result' }, x.description));
                refresh(false);
              } catch (e) { showError(e, 'Reading ' + ent + ' again failed'); }
            } }, 'Read ' + ent + ' again in full')]);
        } catch (e) { out.replaceChildren(); showError(e, 'Reconciling ' + ent + ' failed'); } finally { go.disabled = false; }
      } }, 'Compare');
      const dlg = modal('reconcile-title', [
        h('h2', { id: 'reconcile-title' }, 'Reconcile: ' + name),
        h('p', {}, 'Compares an entity\'s table with Dataverse by id and version; nothing is changed.'),
        h('div', { class: 'field' }, h('label', { for: 'reconcile-entity' }, 'Entity'), sel),
        go, out,
      ]);
      dlg.showModal();
    }

    function confirmDelete() {
      const dlg = h('dialog', { 'aria-labelledby': 'delete-title' },
        h('h2', { id: 'delete-title' }, 'Delete export profile ' + name + '?'),
        h('p', {}, 'Replication stops, and the profile\'s entity state, counters, activity and failed records are deleted. The tables in the destination database are kept.'),
        h('form', { method: 'dialog', class: 'wizard-actions' },
          h('button', { value: 'cancel', autofocus: true }, 'Cancel'),
          h('button', { value: 'delete', class: 'danger primary', id: 'confirm-delete' }, 'Delete')));
      dlg.addEventListener('close', async () => {
        dlg.remove();
        if (dlg.returnValue !== 'delete') { document.getElementById('delete').focus(); return; }
        try {
          await api('DELETE', path, { ifMatch: st.etag });
          go('#/', 'Export profile ' + name + ' deleted; the destination\'s tables were kept.');
        } catch (e) { showError(e, 'Deleting ' + name + ' failed'); }
      });
      document.body.append(dlg);
      dlg.showModal();
    }

    render();
    loadMetrics();
    focusHeading();
    every(3000, () => refresh(false));
    every(30000, loadMetrics);
  }

  // modal is a dialog with a Close button; Escape closes it too.
  function modal(labelledBy, children) {
    const opener = document.activeElement;
    const dlg = h('dialog', { 'aria-labelledby': labelledBy, class: 'wide' }, children,
      h('form', { method: 'dialog', class: 'wizard-actions' }, h('button', { value: 'close' }, 'Close')));
    dlg.addEventListener('close', () => { dlg.remove(); if (opener && opener.focus) opener.focus(); });
    document.body.append(dlg);
    return dlg;
  }

  function card(k, v, id, bad) {
    return h('div', { class: 'card', id }, h('div', { class: 'k' }, k), h('div', { class: 'v' + (bad ? ' failed-count' : '') }, v));
  }

  function entityRow(e) {
    return h('tr', { 'data-entity': e.entity },
      h('td', { 'data-label': 'Entity' }, h('strong', {}, e.entity)),
      h('td', { 'data-label': 'Phase' }, h('span', { class: 'phase ' + e.phase }, phaseLabel(e)), h('div', { class: 'small muted' }, e.description),
        e.lastError ? h('div', { class: 'lasterror' }, 'Last error (' + e.lastError.stage + ', ' + ago(e.lastError.at) + '): ' + e.lastError.message) : null),
      h('td', { 'data-label': 'Initial sync' }, progressCell(e)),
      h('td', { 'data-label': 'Succeeded', class: 'num' }, fmtNum(e.succeeded)),
      h('td', { 'data-label': 'Failed', class: 'num' }, h('span', { class: e.failed > 0 ? 'failed-count' : '' }, fmtNum(e.failed))),
      h('td', { 'data-label': 'Deleted', class: 'num' }, fmtNum(e.deleted)),
      h('td', { 'data-label': 'Last sync' }, e.lastSuccessfulSync ? h('span', { title: fmtTime(e.lastSuccessfulSync) }, ago(e.lastSuccessfulSync)) : 'never'),
      h('td', { 'data-label': 'Lag', class: 'num nowrap' }, e.lagSeconds === undefined ? '—' : fmtDuration(e.lagSeconds)));
  }
  function phaseLabel(e) {
    return { initial: 'Initial sync', delta: 'Running', blocked: 'Blocked', rebaseline: 'Re-baseline', notStarted: 'Not started' }[e.phase] || e.phase;
  }
  function progressCell(e) {
    const p = e.progress || {};
    const pct = p.percent === undefined ? null : p.percent;
    const label = 'Initial sync of ' + e.entity;
    const bar = h('div', { class: 'bar' + (p.complete ? ' complete' : ''), role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct === null ? null : Math.floor(pct), 'aria-valuetext': pct === null ? 'unknown' : pctText(pct) },
      h('span'));
    if (pct !== null) bar.firstChild.style.width = Math.max(0, Math.min(pct, 100)) + '%';
    let text;
    if (p.complete) text = ['100 % · complete', p.sourceRows !== undefined ? ', about ' + fmtNum(p.sourceRows) + ' rows in Dataverse' : ''];
    else if (pct !== null) text = [pctText(pct), ' · ', fmtNum(p.rowsDone), ' of about ', fmtNum(p.sourceRows), ' rows'];
    else text = [fmtNum(p.rowsDone), ' rows so far'];
    const rate = !p.complete && p.rowsPerMinute !== undefined ? h('div', { class: 'small muted' }, fmtNum(Math.round(p.rowsPerMinute)) + ' rows/min' + (p.etaSeconds !== undefined ? ' · about ' + fmtDuration(p.etaSeconds) + ' left' : '')) : null;
    return h('div', { class: 'progress' }, bar, h('div', { class: 'small progress-text' }, text), rate);
  }
  function pctText(p) { return (p >= 10 ? Math.floor(p) : Math.floor(p * 10) / 10) + ' %'; }

  // ---- Charts: inline SVG, no library ----

  function chartCard(em, m) {
    const from = new Date(m.from).getTime(), to = new Date(m.to).getTime();
    const minutes = Math.max(1, Math.round((to - from) / 60000));
    const W = 360, H = 90, L = 46, B = 16, T = 6;
    const x = (t) => L + (W - L - 4) * (new Date(t).getTime() - from) / (to - from);
    const pts = em.points;
    const total = pts.reduce((a, p) => a + p.applied, 0), failed = pts.reduce((a, p) => a + p.failed, 0);
    const peak = pts.reduce((a, p) => (p.applied + p.failed > (a ? a.applied + a.failed : -1) ? p : a), null);
    const maxY = Math.max(1, ...pts.map((p) => p.applied + p.failed));
    const bw = Math.max(1, (W - L - 4) / minutes);
    const y = (v) => T + (H - B - T) * (1 - v / maxY);
    const bars = s('g', { class: 'bars' }, pts.map((p) => [
      s('rect', { x: x(p.time).toFixed(1), y: y(p.applied).toFixed(1), width: bw.toFixed(2), height: (H - B - y(p.applied)).toFixed(1) }),
      p.failed ? s('rect', { class: 'failed', x: x(p.time).toFixed(1), y: y(p.applied + p.failed).toFixed(1), width: bw.toFixed(2), height: (y(p.applied) - y(p.applied + p.failed)).toFixed(1) }) : null,
    ]).flat());
    const axes = (maxLabel) => [
      s('line', { class: 'axis', x1: L, y1: H - B, x2: W - 4, y2: H - B }),
      s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
      s('text', { x: L - 4, y: T + 8, 'text-anchor': 'end', text: maxLabel }),
      s('text', { x: L - 4, y: H - B, 'text-anchor': 'end', text: '0' }),
      s('text', { x: L, y: H - 3, text: fmtClock(new Date(from)) }),
      s('text', { x: W - 4, y: H - 3, 'text-anchor': 'end', text: 'now' }),
    ];
    const appliedText = pts.length ? fmtNum(total) + ' rows applied' + (failed ? ', ' + fmtNum(failed) + ' failed' : '') + '; peak ' + fmtNum(peak.applied + peak.failed) + ' per minute at ' + fmtClock(new Date(peak.time)) : 'No rows applied in this window';
    const rowsChart = s('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Rows applied per minute, ' + em.entity + ': ' + appliedText }, s('title', { text: 'Rows applied per minute' }), axes(compact.format(maxY)), bars);

    const lagPts = pts.filter((p) => p.lagSeconds !== undefined);
    const maxLag = Math.max(0.001, ...lagPts.map((p) => p.lagMaxSeconds || p.lagSeconds));
    const ly = (v) => T + (H - B - T) * (1 - v / maxLag);
    const line = lagPts.length > 1 ? s('polyline', { class: 'line', points: lagPts.map((p) => x(p.time).toFixed(1) + ',' + ly(p.lagSeconds).toFixed(1)).join(' ') }) : null;
    const dots = s('g', {}, lagPts.map((p) => s('circle', { class: 'dot', cx: x(p.time).toFixed(1), cy: ly(p.lagSeconds).toFixed(1), r: 2 })));
    const last = lagPts[lagPts.length - 1];
    const lagText = lagPts.length ? 'latest ' + fmtDuration(last.lagSeconds) + ' at ' + fmtClock(new Date(last.time)) + '; largest ' + fmtDuration(maxLag) : 'No changes measured in this window';
    const lagChart = s('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Lag, ' + em.entity + ': ' + lagText }, s('title', { text: 'Lag' }), axes(fmtAxisDuration(maxLag)), line, dots);
    return h('div', { class: 'card chart-card', 'data-entity': em.entity },
      h('h3', {}, em.entity),
      h('div', { class: 'small' }, 'Rows applied per minute'), rowsChart, h('p', { class: 'chart-caption' }, appliedText),
      h('div', { class: 'small' }, 'Lag (change in Dataverse to row in the destination)'), lagChart, h('p', { class: 'chart-caption' }, lagText));
  }

  // ---- Manage Entities / Relationships ----

  async function manageEntitiesPage(name) { await managePage(name, 'entities'); }
  async function manageRelationshipsPage(name) { await managePage(name, 'relationships'); }

  async function managePage(name, what) {
    const gen = page((what === 'entities' ? 'Manage Entities' : 'Manage Relationships') + ' · ' + name);
    const path = 'profiles/' + encodeURIComponent(name);
    let got, cat;
    try { [got, cat] = await Promise.all([api('GET', path), catalog()]); } catch (e) { showError(e, 'Export profile ' + name + ' cannot be read'); return; }
    if (gen !== generation) return;
    const v = got.data, p = v.profile;
    const intersect = new Set(cat.entities.filter((e) => e.isIntersect).map((e) => e.logicalName));
    const ents = new Set(p.entities.filter((e) => !intersect.has(e)));
    const rels = new Set(p.entities.filter((e) => intersect.has(e)));
    const title = (what === 'entities' ? 'Manage Entities' : 'Manage Relationships') + ': ' + name;
    main.append(h('p', { class: 'small' }, h('a', { href: '#/' + path }, '← ' + name)), h('h1', {}, title));
    if (what === 'entities') {
      main.append(h('p', {}, 'Removing an entity stops its replication; its table stays in the destination. Re-adding it later reads it again in full.'), entityPicker(cat, ents).el);
    } else {
      main.append(relationshipPicker(cat, ents, rels));
    }
    const err = h('p', { class: 'error-text', id: 'manage-error', hidden: true });
    main.append(err, h('div', { class: 'wizard-actions' },
      h('a', { class: 'button', href: '#/' + path }, 'Cancel'),
      h('button', {
        type: 'button', class: 'primary', id: 'update', onclick: async (ev) => {
          const entities = [...ents];
          for (const r of rels) {
            const rel = cat.relationships.find((x) => x.intersectEntity === r);
            if (rel && ents.has(rel.entity1) && ents.has(rel.entity2) && !entities.includes(r)) entities.push(r);
          }
          if (!entities.length) { err.textContent = 'Select at least one entity.'; err.hidden = false; return; }
          const doc = Object.assign({}, p, { entities });
          ev.target.disabled = true;
          try {
            const r = await api('PUT', path, { body: doc, ifMatch: got.etag });
            const again = r.data.readAgainInFull || [];
            go('#/' + path + '/entities', 'Export profile ' + name + ' updated' + (again.length ? '; read again in full: ' + again.join(', ') : '') + '.');
          } catch (e) { showError(e, 'Export profile ' + name + ' was not updated'); ev.target.disabled = false; }
        },
      }, 'Update')));
    focusHeading();
  }

  // ---- Start ----

  loadMe();
  route();
})();
