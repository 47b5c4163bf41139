// The observer's pages: one page that routes on the URL fragment and
// follows the JSON API through server-sent events (api/events?view=...).
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';

// el builds an HTML element: el('td', {class: 'mono', text: 'x'}, child...).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  for (const c of children) if (c != null) e.append(c);
  return e;
}

// sv builds an SVG element the same way.
function sv(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  setAttrs(e, attrs);
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
}

const main = () => document.getElementById('main');
let source = null;
let nodeInfo = null; // the last /api/node answer, for allow_actions and panels

// follow streams one view; onData gets every update, onFailed the view's
// errors (a process that died).
// An update equal to the one before is skipped unless every is set (the
// mailbox chart wants a sample per tick), so the page does not redraw, and
// a row under the pointer stays the same element.
function follow(params, onData, onFailed, every) {
  if (source) source.close();
  const live = document.getElementById('live');
  let last = null;
  source = new EventSource('api/events?' + new URLSearchParams(params));
  source.addEventListener('open', () => live.classList.add('on'));
  source.addEventListener('error', () => live.classList.remove('on'));
  source.addEventListener('update', e => {
    if (!every && e.data === last) return;
    last = e.data;
    onData(JSON.parse(e.data));
  });
  source.addEventListener('failed', e => (onFailed || showError)(JSON.parse(e.data)));
}

function showError(d) {
  const box = document.getElementById('view-error');
  if (box) box.textContent = d.error;
}

function pidLink(pid, name) {
  if (!pid) return el('span', {class: 'muted', text: '-'});
  return el('a', {href: '#/process/' + encodeURIComponent(pid), class: 'mono', text: name ? name + ' ' + pid : pid});
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + units[i];
}

function duration(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's';
}

function card(k, v, id) {
  return el('div', {class: 'card'}, el('div', {class: 'k', text: k}), el('div', {class: 'v', text: String(v), 'data-card': id}));
}

// setCards fills box with cards [title, value, id], changing only the
// values when the same cards are there already.
function setCards(box, cards) {
  const have = [...box.querySelectorAll('[data-card]')].map(e => e.dataset.card);
  if (have.join() === cards.map(c => c[2]).join()) {
    for (const [, v, id] of cards) {
      const e = box.querySelector(`[data-card="${id}"]`);
      if (e.textContent !== String(v)) e.textContent = String(v);
    }
    return;
  }
  box.replaceChildren(...cards.map(([k, v, id]) => card(k, v, id)));
}

async function action(path) {
  const r = await fetch(path, {method: 'POST', headers: {'X-Gotp-Observer': '1'}});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) alert(body.error || r.statusText);
  return r.ok;
}

// ---- node -----------------------------------------------------------------

function viewNode() {
  const m = main();
  m.replaceChildren(el('h2', {text: 'Node'}), el('div', {id: 'view-error', class: 'error'}),
    el('div', {class: 'cards', id: 'node-cards'}), el('h3', {text: 'Peers'}), el('div', {id: 'node-peers'}));
  follow({view: 'node'}, d => {
    nodeInfo = d;
    document.getElementById('node-name').textContent = d.name;
    setCards(document.getElementById('node-cards'), [
      ['name', d.name, 'name'], ['creation', d.creation, 'creation'],
      ['uptime', duration(d.uptime_seconds), 'uptime'], ['processes', d.processes, 'processes'],
      ['running', d.running, 'running'], ['queued messages', d.mailbox_total, 'mailbox'],
      ['goroutines', d.goroutines, 'goroutines'], ['heap in use', bytes(d.memory.heap_inuse), 'heap'],
      ['stacks', bytes(d.memory.stack_inuse), 'stacks'], ['from the OS', bytes(d.memory.sys), 'sys'],
      ['GC cycles', d.memory.num_gc, 'gc'], ['Go', d.go_version, 'go'],
      ['messages/s', Math.round(d.messages_per_sec || 0), 'msg-rate'], ['frames in/s', Math.round(d.frames_in_per_sec || 0), 'frames-in'], ['frames out/s', Math.round(d.frames_out_per_sec || 0), 'frames-out']]);
    const peers = document.getElementById('node-peers');
    const peerKey = JSON.stringify([d.distributed, d.peers]);
    if (peers.dataset.key === peerKey) return;
    peers.dataset.key = peerKey;
    if (!d.distributed) { peers.replaceChildren(el('p', {class: 'muted', text: 'Not distributed (no remote layer given to the observer).'})); return; }
    const channels = [...new Set(d.peers.flatMap(p => Object.keys(p.connections)))].sort();
    peers.replaceChildren(el('table', {id: 'peer-table'},
      el('thead', {}, el('tr', {}, el('th', {text: 'peer'}), el('th', {text: 'addresses'}), el('th', {text: 'role'}), el('th', {text: 'connected'}),
        ...channels.map(c => el('th', {text: 'conns: ' + c})), el('th', {text: 'in'}), el('th', {text: 'out'}), el('th', {text: 'queued'}), el('th', {text: 'rtt (connect)'}), el('th', {text: 'rtt (live)'}))),
      el('tbody', {}, ...d.peers.map(p => el('tr', {},
        el('td', {class: 'mono', text: p.name}), el('td', {class: 'mono', text: (p.addrs || []).join(' ')}),
        el('td', {text: (p.tags || {}).role || ''}), el('td', {text: p.connected ? 'yes' : 'no'}),
        ...channels.map(c => el('td', {text: String(p.connections[c] || 0)})),
        el('td', {text: bytes(p.bytes_in)}), el('td', {text: bytes(p.bytes_out)}), el('td', {text: bytes(p.queue_bytes)}), el('td', {text: (p.rtt_seconds * 1000).toFixed(2) + ' ms'}),
        el('td', {text: p.live_rtt_seconds > 0 ? (p.live_rtt_seconds * 1000).toFixed(2) + ' ms' : '–'}))))));
  });
}

// ---- processes ------------------------------------------------------------

const procColumns = [
  ['id', 'PID', r => pidLink(r.pid)], ['name', 'name', r => r.name || ''], ['behaviour', 'behaviour', r => r.behaviour || el('span', {class: 'muted', text: '-'})],
  ['status', 'status', r => el('span', {class: 'status-' + r.status, text: r.status})], ['mailbox', 'mailbox', r => String(r.mailbox_len)],
  ['handled', 'handled', r => String(r.handled)], ['links', 'links', r => String(r.links)],
  ['monitors', 'monitors', r => String(r.monitors)], [null, 'monitored by', r => String(r.monitored_by)],
];
const procState = {sort: 'id', order: 'asc', filter: '', status: ''};

function viewProcesses() {
  const m = main();
  const filter = el('input', {id: 'proc-filter', placeholder: 'filter by PID or name', value: procState.filter});
  const status = el('select', {id: 'proc-status'}, el('option', {value: '', text: 'any status'}),
    el('option', {value: 'running', text: 'running'}), el('option', {value: 'waiting', text: 'waiting'}));
  status.value = procState.status;
  const count = el('span', {id: 'proc-count', class: 'muted'});
  const head = el('tr', {});
  const body = el('tbody', {id: 'proc-body'});
  m.replaceChildren(el('h2', {text: 'Processes'}), el('div', {id: 'view-error', class: 'error'}),
    el('div', {class: 'controls'}, filter, status, count), el('table', {id: 'proc-table'}, el('thead', {}, head), body));
  const restart = () => {
    head.replaceChildren(...procColumns.map(([key, title]) => el('th', {
      text: title, 'data-sort': key || null,
      class: [key ? 'sortable' : '', key === procState.sort ? 'sorted' : '', key === procState.sort && procState.order === 'desc' ? 'desc' : ''].join(' ').trim() || null,
      onclick: key ? () => {
        if (procState.sort === key) procState.order = procState.order === 'asc' ? 'desc' : 'asc';
        else { procState.sort = key; procState.order = key === 'id' || key === 'name' ? 'asc' : 'desc'; }
        restart();
      } : null,
    })));
    const params = {view: 'processes', sort: procState.sort, order: procState.order, limit: 1000};
    if (procState.filter) params.filter = procState.filter;
    if (procState.status) params.status = procState.status;
    follow(params, t => {
      count.textContent = `${t.processes.length} shown, ${t.matched} matching, ${t.total} in all`;
      body.replaceChildren(...t.processes.map(r => {
        const tr = el('tr', {class: 'clickable', 'data-pid': r.pid, 'data-name': r.name || null,
          onclick: ev => { if (ev.target.tagName !== 'A') location.hash = '#/process/' + encodeURIComponent(r.pid); }});
        for (const [, , cell] of procColumns) tr.append(el('td', {}, cell(r)));
        return tr;
      }));
    });
  };
  filter.addEventListener('input', () => { procState.filter = filter.value.trim(); restart(); });
  status.addEventListener('change', () => { procState.status = status.value; restart(); });
  restart();
}

// ---- one process ----------------------------------------------------------

function viewProcess(pid) {
  const m = main();
  const samples = [];
  const spark = sv('svg', {id: 'mailbox-chart', width: 480, height: 120, viewBox: '0 0 480 120'});
  m.replaceChildren(el('h2', {}, 'Process ', el('span', {class: 'mono', text: pid})),
    el('div', {id: 'view-error', class: 'error'}), el('div', {class: 'cards', id: 'proc-cards'}),
    el('div', {id: 'proc-actions'}), el('h3', {text: 'Mailbox length over time'}), spark,
    el('div', {class: 'grid2', id: 'proc-refs'}), el('div', {id: 'proc-state'}));
  let refsKey = '';
  follow({view: 'process', pid: pid}, d => {
    document.getElementById('view-error').textContent = '';
    setCards(document.getElementById('proc-cards'), [
      ['name', d.name || '-', 'name'], ['behaviour', d.behaviour || '-', 'behaviour'], ['status', d.status, 'status'], ['mailbox', d.mailbox_len, 'mailbox'],
      ['handled', d.handled, 'handled'], ['started', d.started, 'started'], ['traps exits', d.trap_exit ? 'yes' : 'no', 'trap'], ['links', d.links, 'links'], ['monitors', d.monitors, 'monitors']]);
    const acts = document.getElementById('proc-actions');
    if (nodeInfo && nodeInfo.allow_actions && !acts.firstChild) {
      acts.append(el('button', {class: 'danger', id: 'kill', text: 'Kill process',
        onclick: () => { if (confirm('Kill ' + pid + '?')) action('api/process/' + encodeURIComponent(pid) + '/kill'); }}));
    }
    samples.push(d.mailbox_len);
    if (samples.length > 120) samples.shift();
    drawSpark(spark, samples);
    const stateBox = document.getElementById('proc-state');
    if (d.inspectable && !stateBox.firstChild) {
      const pre = el('pre', {id: 'state-data', class: 'mono'});
      const show = () => fetch('api/process/' + encodeURIComponent(pid) + '/state').then(r => r.json())
        .then(st => { pre.textContent = st.error ? 'error: ' + st.error : (st.state !== undefined ? JSON.stringify(st.state, null, 2) : st.text); });
      stateBox.append(el('h3', {text: 'State (' + (d.behaviour || 'inspectable') + ')'}),
        el('button', {class: 'act', id: 'show-state', text: 'Show state', onclick: show}), pre);
    }
    const key = JSON.stringify([d.link_list, d.monitor_list, d.monitors_by_name, d.monitored_by_list, d.parent, d.supervisor, d.is_supervisor]);
    if (key === refsKey) return;
    refsKey = key;
    const list = (title, refs, id) => el('div', {}, el('h3', {text: title}),
      refs.length ? el('ul', {class: 'refs', id: id}, ...refs.map(r => el('li', {}, pidLink(r.pid, r.name)))) : el('p', {class: 'muted', text: 'none'}));
    document.getElementById('proc-refs').replaceChildren(
      el('div', {}, el('h3', {text: 'Parent'}), pidLink(d.parent),
        el('h3', {text: 'Supervisor'}), d.supervisor ? el('a', {href: '#/apps', text: d.supervisor, class: 'mono'}) : el('span', {class: 'muted', text: d.is_supervisor ? 'this is a supervisor' : 'none known'})),
      list('Links', d.link_list, 'links-list'), list('Monitors', d.monitor_list.concat(d.monitors_by_name.map(n => ({pid: '', name: n}))), 'monitors-list'),
      list('Monitored by', d.monitored_by_list, 'monitored-list'));
  }, f => {
    document.getElementById('view-error').textContent = 'The process is gone (' + f.error + ').';
    setCards(document.getElementById('proc-cards'), [['status', 'exited', 'status']]);
  }, true);
}

function drawSpark(svg, samples) {
  const w = 480, h = 120, pad = 20;
  const max = Math.max(1, ...samples);
  const step = (w - 2 * pad) / 119;
  const pts = samples.map((v, i) => `${(pad + i * step).toFixed(1)},${(h - pad - v / max * (h - 2 * pad)).toFixed(1)}`).join(' ');
  svg.replaceChildren(
    sv('line', {class: 'axis', x1: pad, y1: h - pad, x2: w - pad, y2: h - pad}),
    sv('text', {x: 2, y: pad, text: String(max)}), sv('text', {x: 2, y: h - pad, text: '0'}),
    sv('polyline', {class: 'spark', points: pts}),
    sv('text', {x: w - pad - 100, y: h - 4, text: `last ${samples.length} samples`}));
}

// ---- applications ---------------------------------------------------------

function viewApps() {
  const m = main();
  m.replaceChildren(el('h2', {text: 'Applications'}), el('div', {id: 'view-error', class: 'error'}), el('div', {id: 'trees'}));
  follow({view: 'supervisors'}, trees => {
    const box = document.getElementById('trees');
    if (!trees.length) { box.replaceChildren(el('p', {class: 'muted', text: 'No supervisors given to the observer (Options.Supervisors).'})); return; }
    box.replaceChildren(...trees.map(drawTree));
  });
}

// drawTree lays a supervision tree out top-down: leaves side by side,
// each supervisor centred over its children.
function drawTree(t) {
  const boxW = 200, boxH = 52, gapX = 14, gapY = 46;
  const nodes = [], edges = [];
  let nextX = 0, depthMax = 0;
  function place(item, depth) {
    depthMax = Math.max(depthMax, depth);
    const kids = item.sup ? item.sup.children.map(c => ({child: c, sup: c.supervisor})) : [];
    let x;
    if (!kids.length) { x = nextX; nextX += boxW + gapX; }
    else {
      const xs = kids.map(k => place(k, depth + 1));
      x = (xs[0] + xs[xs.length - 1]) / 2;
      for (const cx of xs) edges.push([x, depth, cx]);
    }
    nodes.push({item, x, depth});
    return x;
  }
  place({child: null, sup: t}, 0);
  const width = Math.max(nextX, boxW + gapX) + 10, height = (depthMax + 1) * (boxH + gapY) + 10;
  const svg = sv('svg', {class: 'tree', width, height, viewBox: `0 0 ${width} ${height}`, 'data-root': t.pid});
  const y = d => 5 + d * (boxH + gapY);
  for (const [px, d, cx] of edges) {
    svg.append(sv('path', {class: 'edge', d: `M${px + 5 + boxW / 2},${y(d) + boxH} C${px + 5 + boxW / 2},${y(d) + boxH + gapY / 2} ${cx + 5 + boxW / 2},${y(d + 1) - gapY / 2} ${cx + 5 + boxW / 2},${y(d + 1)}`}));
  }
  for (const {item, x, depth} of nodes) {
    const c = item.child;
    const isSup = !!item.sup;
    const pid = c ? c.pid : t.pid;
    const status = c ? c.status : (t.error ? 'exited' : 'running');
    const bad = status === 'restarting' || status === 'stopped' || status === 'exited' || (item.sup && item.sup.error);
    const line1 = c ? c.id : (t.name || t.root || 'supervisor');
    const line2 = c ? `${c.restart} · ${status}` : `${t.strategy ? t.strategy + ' · ' : ''}${t.counts.active}/${t.counts.specs} up`;
    // The supervisor's own counts when it reports them, else what the
    // observer saw change.
    const restarts = c ? (c.restarts || c.restarts_seen) : (t.strategy ? t.restarts : t.restarts_seen);
    const line3 = restarts ? `restarts: ${restarts}` + (c ? '' : ` (${t.recent_restarts} of ${t.intensity} in ${t.period_seconds}s)`) : (c && c.name ? 'name: ' + c.name : '');
    const g = sv('a', {class: 'tnode ' + (isSup ? 'sup' : 'worker') + (bad ? ' bad' : ''), href: pid ? '#/process/' + encodeURIComponent(pid) : null,
      'data-id': c ? c.id : 'root', 'data-pid': pid || null, 'data-status': status},
      sv('title', {text: `${pid || 'no process'}${c && c.name ? ' (' + c.name + ')' : ''}`}),
      sv('rect', {x: x + 5, y: y(depth), width: boxW, height: boxH}),
      sv('text', {x: x + 12, y: y(depth) + 15, text: clip(line1)}),
      sv('text', {x: x + 12, y: y(depth) + 30, text: clip(line2)}),
      sv('text', {x: x + 12, y: y(depth) + 45, text: clip(line3)}));
    svg.append(g);
  }
  const wrap = el('div', {class: 'tree-wrap'}, el('h3', {}, 'Tree ', el('span', {class: 'mono', text: t.root || t.pid})));
  if (t.error) wrap.append(el('p', {class: 'error', text: t.error}));
  wrap.append(svg);
  if (nodeInfo && nodeInfo.allow_actions) {
    const buttons = el('div', {class: 'controls'});
    (function collect(tree) {
      for (const c of tree.children) {
        if (c.id) buttons.append(el('button', {class: 'act', 'data-restart': c.id, text: 'restart ' + c.id,
          onclick: () => action('api/supervisor/' + encodeURIComponent(tree.pid) + '/restart/' + encodeURIComponent(c.id))}));
        if (c.supervisor) collect(c.supervisor);
      }
    })(t);
    wrap.append(buttons);
  }
  return wrap;
}

// clip shortens a label to what a tree box holds.
function clip(s) { return s.length > 26 ? s.slice(0, 25) + '…' : s; }

// ---- cluster --------------------------------------------------------------

// The cluster page's choice of broadcast tree, kept across redraws.
const clusterState = {tree: ''};

function viewCluster() {
  const m = main();
  m.replaceChildren(el('h2', {text: 'Cluster'}), el('div', {id: 'view-error', class: 'error'}),
    el('div', {id: 'cluster-graph'}),
    el('p', {class: 'muted', text: 'Squares are servers (or full-mesh members), circles clients; green: the failure detector holds the node up, red: down, blue: this node. Lines are the connections this node holds.'}),
    el('div', {id: 'cluster-info'}), el('h3', {text: 'Raft groups'}), el('div', {id: 'rafted'}),
    el('h3', {text: 'Ensembles'}), el('div', {id: 'ensembles'}),
    el('h3', {text: 'Broadcast tree'}), el('div', {class: 'controls', id: 'plumtree-controls'}), el('div', {id: 'plumtree'}));
  // The panels the page draws, by kind (Panel.Kind); asked once per visit.
  const kinds = {};
  const panelsOf = kind => kinds[kind] || (kinds[kind] = fetch('api/panels?kind=' + kind).then(r => r.json()).catch(() => []));
  // Every tick, even when the membership is the same: the tables and the
  // tree below change on their own. Each part is redrawn when its data
  // changed only.
  follow({view: 'cluster'}, c => {
    redraw(document.getElementById('cluster-graph'), c, () => [drawCluster(c)]);
    redraw(document.getElementById('cluster-info'), c, () => [
      el('p', {class: 'muted', text: c.membership ? `membership digest ${c.digest}, ${c.gossip_rounds} gossip rounds, ${c.pending_acks} pending acks` : 'No peer service given: members are the connected nodes.'}),
      c.error ? el('p', {class: 'error', text: c.error}) : '',
      el('h3', {text: 'Partitions'}),
      c.partitions.length ? el('ul', {}, ...c.partitions.map(p => el('li', {class: 'mono', text: `${p.ref} (origin ${p.origin})`}))) : el('p', {class: 'muted', text: 'none'})]);
    fetch('api/rafted').then(r => r.json()).then(groups => {
      const box = document.getElementById('rafted');
      if (!box) return;
      redraw(box, groups, () => [!groups.length ? el('p', {class: 'muted', text: 'none given (Options.Rafted)'}) : dataTable('rafted-table', ['member', 'state', 'term', 'leader', 'members', 'unresponsive', 'commit', 'applied', 'follower lag'],
        groups, g => [el('td', {class: 'mono', text: g.server}),
          el('td', {class: g.error ? 'error' : '', text: g.error || g.state}), String(g.term),
          el('td', {}, pidLink(g.leader)), el('td', {class: 'mono', text: g.members.join(' ')}), el('td', {class: 'mono', text: g.unresponsive.join(' ')}),
          String(g.commit), String(g.applied), lagCell(g.lag)])]);
    }).catch(() => {});
    panelsOf('ensembles').then(names => Promise.all(names.map(n => panelData(n)))).then(tables => {
      const box = document.getElementById('ensembles');
      if (!box) return;
      const rows = tables.filter(Array.isArray).flat(), errors = tables.filter(t => !Array.isArray(t));
      redraw(box, tables, () => [...errors.map(e => el('p', {class: 'error', text: e.error || 'not an ensemble panel'})),
        !rows.length ? el('p', {class: 'muted', text: tables.length ? 'no ensembles' : 'none given (Options.Panels: observer.EnsemblePanel)'}) : dataTable('ensemble-table', ['ensemble', 'leader', 'term', 'members', 'commit', 'applied', 'follower lag', 'state'],
        rows, e => [el('td', {class: 'mono', text: e.ensemble}), el('td', {class: 'mono leader', text: e.leader || '-'}), String(e.term),
          el('td', {class: 'mono', text: e.members.join(' ') + (e.old_members ? ' (was ' + e.old_members.join(' ') + ')' : '')}),
          String(e.commit), String(e.applied), lagCell(e.lag),
          el('td', {class: e.error ? 'error' : 'muted', text: e.error || (e.quiescent ? 'quiescent' : '')})],
        e => ({'data-ensemble': e.ensemble, 'data-leader': e.leader}))]);
    });
    panelsOf('plumtree').then(names => {
      const controls = document.getElementById('plumtree-controls'), box = document.getElementById('plumtree');
      if (!box) return;
      if (!names.length) { redraw(box, [], () => [el('p', {class: 'muted', text: 'none given (Options.Panels: observer.PlumtreePanel)'})]); return; }
      if (!names.includes(clusterState.tree)) clusterState.tree = names[0];
      if (names.length > 1 && !controls.firstChild) {
        const pick = el('select', {id: 'plumtree-root'}, ...names.map(n => el('option', {value: n, text: n})));
        pick.value = clusterState.tree;
        pick.addEventListener('change', () => { clusterState.tree = pick.value; });
        controls.append(el('label', {text: 'tree: '}), pick);
      }
      return panelData(clusterState.tree).then(t => {
        if (!document.getElementById('plumtree')) return;
        redraw(box, t, () => [t.error ? el('p', {class: 'error', text: t.error}) : drawBroadcastTree(t),
          el('p', {class: 'muted', text: 'Root ' + (t.root || '?') + ' at the top; solid lines are eager links (the tree broadcasts travel), dashed lines lazy ones (announcements only); red: a member that did not answer.'})]);
      });
    });
  }, null, true);
}

// redraw replaces box's children with build()'s when data differs from
// what box shows, so that an unchanged table is not rebuilt every tick.
function redraw(box, data, build) {
  const key = JSON.stringify(data);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...build());
}

// panelData fetches one panel's data; an error is {error}.
function panelData(name) {
  return fetch('api/panels/' + encodeURIComponent(name)).then(r => r.json()).catch(e => ({error: String(e)}));
}

// dataTable builds a table: headers, then for each item its cells (a string
// or a td element) and, optionally, its row's attributes.
function dataTable(id, headers, items, cells, rowAttrs) {
  return el('table', {id}, el('thead', {}, el('tr', {}, ...headers.map(h => el('th', {text: h})))),
    el('tbody', {}, ...items.map(item => el('tr', rowAttrs ? rowAttrs(item) : {},
      ...cells(item).map(c => typeof c === 'string' ? el('td', {text: c}) : c)))));
}

// lagCell shows a leader's followers' lag, {follower: entries}.
function lagCell(lag) {
  return el('td', {class: 'mono', text: Object.entries(lag || {}).map(([p, n]) => p + ': ' + n).join(' ')});
}

// drawCluster puts the members on a circle (this node first, at the top):
// servers as squares, clients as circles, coloured by the failure
// detector's verdict, and this node's connections as lines.
function drawCluster(c) {
  const ms = c.members.slice().sort((a, b) => (b.name === c.self) - (a.name === c.self));
  return drawGraph({id: 'cluster-svg', width: 560, height: 420,
    pos: circleLayout(ms.map(m => m.name), 560, 420),
    edges: c.edges.map(e => ({from: e.from, to: e.to, cls: 'edge', attrs: {'data-edge': e.from + '-' + e.to}})),
    nodes: ms.map(m => ({name: m.name, cls: 'member ' + m.verdict, round: m.role === 'client', lines: [m.name, m.verdict],
      title: `${m.name} ${m.role || ''} ${m.verdict} ${(m.addrs || []).join(' ')}`, attrs: {'data-member': m.name, 'data-verdict': m.verdict}}))});
}

// drawBroadcastTree draws a Plumtree tree: the root at the top and each
// member one row below the nearest member that pushes to it eagerly, eager
// links solid, lazy links dashed, members that did not answer red. A link
// two members see differently (one eager, one lazy, while a prune or graft
// is under way) is drawn eager.
function drawBroadcastTree(t) {
  const names = [...new Set([t.root, ...t.tree.flatMap(n => [n.node, ...n.eagers, ...n.lazys])])].filter(n => n).sort();
  const down = new Set(t.tree.filter(n => n.down).map(n => n.node));
  const links = new Map(); // "a|b" (sorted) -> eager?
  const eagerOf = new Map(names.map(n => [n, []]));
  for (const n of t.tree) {
    for (const [peers, eager] of [[n.eagers, true], [n.lazys, false]]) {
      for (const p of peers) {
        const key = [n.node, p].sort().join('|');
        links.set(key, links.get(key) || eager);
        if (eager) { eagerOf.get(n.node).push(p); eagerOf.get(p).push(n.node); }
      }
    }
  }
  // Levels: breadth first from the root along eager links; members the
  // eager tree does not reach go in a last row.
  const level = new Map([[t.root, 0]]);
  for (const queue = [t.root]; queue.length;) {
    const n = queue.shift();
    for (const p of eagerOf.get(n) || []) if (!level.has(p)) { level.set(p, level.get(n) + 1); queue.push(p); }
  }
  const depth = Math.max(0, ...level.values());
  for (const n of names) if (!level.has(n)) level.set(n, depth + 1);
  const rows = [];
  for (const n of names) (rows[level.get(n)] = rows[level.get(n)] || []).push(n);
  const width = Math.max(560, 130 * Math.max(...rows.map(r => (r || []).length))), height = 70 + 90 * rows.length;
  return drawGraph({id: 'plumtree-svg', width, height, attrs: {'data-root': t.root}, labelsRight: true, pos: layerLayout(rows, width, height),
    edges: [...links].map(([key, eager]) => {
      const [a, b] = key.split('|');
      // Lazy links bend, so that one beside an eager path stays visible.
      return {from: a, to: b, bend: eager ? 0 : 50, cls: 'edge ' + (eager ? 'eager' : 'lazy'), attrs: {'data-edge': a + '-' + b, 'data-kind': eager ? 'eager' : 'lazy'}};
    }),
    nodes: names.map(n => {
      const state = down.has(n) ? 'down' : n === t.root ? 'self' : 'up';
      return {name: n, cls: 'member ' + state, lines: [n, n === t.root ? 'root' : down.has(n) ? 'down' : 'level ' + level.get(n)],
        title: n + (down.has(n) ? ' (did not answer)' : ''), attrs: {'data-tree-node': n, 'data-down': down.has(n) ? 'true' : null}};
    })});
}

// circleLayout puts names on a circle, the first at the top.
function circleLayout(names, w, h) {
  const cx = w / 2, cy = h / 2, r = Math.min(w, h) / 2 - 60, pos = {};
  names.forEach((n, i) => {
    const a = -Math.PI / 2 + 2 * Math.PI * i / Math.max(1, names.length);
    pos[n] = names.length === 1 ? [cx, cy] : [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
  return pos;
}

// layerLayout puts rows of names one under the other, each row centred.
function layerLayout(rows, w, h) {
  const pos = {}, step = (h - 70) / Math.max(1, rows.length);
  rows.forEach((row, i) => (row || []).forEach((n, j) => { pos[n] = [w * (j + 1) / (row.length + 1), 35 + step * i + step / 2 - 10]; }));
  return pos;
}

// drawGraph draws nodes (squares, or circles when round, with two lines of
// label, below them or with labelsRight beside them) at their positions,
// and edges between them: straight lines, or arcs bent sideways by bend
// pixels.
function drawGraph(g) {
  const svg = sv('svg', {id: g.id, width: g.width, height: g.height, viewBox: `0 0 ${g.width} ${g.height}`, ...g.attrs});
  for (const e of g.edges) {
    const a = g.pos[e.from], b = g.pos[e.to];
    if (!a || !b) continue;
    if (!e.bend) { svg.append(sv('line', {class: e.cls, x1: a[0], y1: a[1], x2: b[0], y2: b[1], ...e.attrs})); continue; }
    // The same bend whichever way the edge is given: downwards, to the left.
    const [p, q] = a[1] < b[1] || (a[1] === b[1] && a[0] <= b[0]) ? [a, b] : [b, a];
    const dx = q[0] - p[0], dy = q[1] - p[1], len = Math.hypot(dx, dy) || 1;
    const cx = (p[0] + q[0]) / 2 - dy / len * e.bend, cy = (p[1] + q[1]) / 2 + dx / len * e.bend;
    svg.append(sv('path', {class: e.cls, d: `M${p[0]},${p[1]} Q${cx},${cy} ${q[0]},${q[1]}`, ...e.attrs}));
  }
  for (const n of g.nodes) {
    const [x, y] = g.pos[n.name];
    const shape = n.round ? sv('circle', {cx: x, cy: y, r: 18}) : sv('rect', {x: x - 18, y: y - 18, width: 36, height: 36});
    const label = (line, i) => g.labelsRight ? sv('text', {x: x + 24, y: y - 2 + 14 * i, text: line}) : sv('text', {x: x - 30, y: y + 34 + 14 * i, text: line});
    svg.append(sv('g', {class: n.cls, ...n.attrs}, sv('title', {text: n.title}), shape, ...n.lines.map(label)));
  }
  return svg;
}

// ---- panels ---------------------------------------------------------------

function viewPanels(name) {
  const m = main();
  m.replaceChildren(el('h2', {text: 'Panels'}), el('div', {id: 'view-error', class: 'error'}), el('div', {class: 'controls', id: 'panel-list'}), el('pre', {id: 'panel-data'}));
  fetch('api/panels').then(r => r.json()).then(names => {
    const list = document.getElementById('panel-list');
    if (!list) return;
    if (!names.length) { list.replaceChildren(el('p', {class: 'muted', text: 'No panels registered (Options.Panels).'})); return; }
    list.replaceChildren(...names.map(n => el('a', {href: '#/panels/' + encodeURIComponent(n), text: n})));
    const current = name || names[0];
    follow({view: 'panel', name: current}, d => { document.getElementById('panel-data').textContent = JSON.stringify(d, null, 2); });
  });
}

// ---- routing --------------------------------------------------------------

function route() {
  const parts = (location.hash || '#/node').slice(2).split('/');
  const view = parts[0] || 'node';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.view === view || (view === 'process' && a.dataset.view === 'processes'));
  const arg = parts.slice(1).map(decodeURIComponent).join('/');
  switch (view) {
    case 'processes': return viewProcesses();
    case 'process': return viewProcess(arg);
    case 'apps': return viewApps();
    case 'cluster': return viewCluster();
    case 'panels': return viewPanels(arg);
    default: return viewNode();
  }
}

window.addEventListener('hashchange', route);
fetch('api/node').then(r => r.json()).then(d => { nodeInfo = d; document.getElementById('node-name').textContent = d.name; }).finally(route);
