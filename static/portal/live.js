/* The live page: keeps the server-rendered page current from the household's socket.
 *
 * /ws/households/<id>/ sends {"type": "hello", "last": frame|null} on connect, then a
 * "flows" frame after every ingested batch and a "notification" when an overload starts or
 * becomes critical (apps/live). No library, no inline script: the page's data comes from
 * the json_script elements #live-config and #live-frame. Every text from the network is
 * written with textContent, never as HTML.
 */
(function () {
  "use strict";

  const root = document.getElementById("live");
  const configElement = document.getElementById("live-config");
  if (!root || !configElement) return;
  const config = JSON.parse(configElement.textContent);
  const text = config.text;
  const lang = document.documentElement.lang || "en";
  const SVG = "http://www.w3.org/2000/svg";

  // Formatting: the same rules as apps/portal/live_view.py (power, kva).
  const twoDecimals = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const oneDecimal = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  const clock = new Intl.DateTimeFormat(lang, { timeZone: config.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  const shortClock = new Intl.DateTimeFormat(lang, { timeZone: config.timezone, hour: "2-digit", minute: "2-digit", hour12: false });
  const dateTime = new Intl.DateTimeFormat(lang, { timeZone: config.timezone, dateStyle: "short", timeStyle: "short" });

  function power(watts) {
    if (watts === null || watts === undefined) return "—";
    const w = Math.abs(Math.round(watts));
    return w < 1000 ? w + " W" : twoDecimals.format(w / 1000) + " kW";
  }
  function kva(va) {
    return va === null || va === undefined ? "—" : oneDecimal.format(va / 1000) + " kVA";
  }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key])).replace(/%%/g, "%");
  }
  function $(selector, scope) {
    return (scope || root).querySelector(selector);
  }
  function setText(element, value) {
    if (element && element.textContent !== value) element.textContent = value;
  }
  function show(element, visible) {
    if (element) element.hidden = !visible;
  }

  // The flow diagram -----------------------------------------------------------------------

  /* The frame split into arrows, PV first to the home (live_view.arrows). */
  function arrows(frame) {
    const pv = Math.max(frame.pv_w || 0, 0);
    const battery = frame.battery_w || 0;
    const charging = Math.max(battery, 0);
    const pvBattery = Math.min(charging, pv);
    const pvGrid = Math.min(frame.grid_export_w || 0, pv - pvBattery);
    return {
      grid_house: frame.grid_import_w || 0,
      pv_house: Math.max(pv - pvBattery - pvGrid, 0),
      pv_battery: pvBattery,
      pv_grid: pvGrid,
      grid_battery: charging - pvBattery,
      battery_house: Math.max(-battery, 0),
    };
  }

  function renderFlows(frame) {
    const watts = arrows(frame);
    const largest = Math.max(...Object.values(watts), 0) || 1;
    for (const group of root.querySelectorAll("[data-flow]")) {
      const w = watts[group.dataset.flow] || 0;
      group.classList.toggle("on", w > 0);
      group.classList.toggle("off", w <= 0);
      $(".flow-line", group).setAttribute("stroke-width", (2 + (10 * w) / largest).toFixed(1));
      setText($("[data-flow-label]", group), power(w));
    }
    const grid = frame.grid_export_w ? "−" + power(frame.grid_export_w) : power(frame.grid_import_w);
    setText($('[data-node="grid"]'), grid);
    setText($('[data-node="pv"]'), power(frame.pv_w));
    setText($('[data-node="house"]'), power(frame.house_w));
    setText($('[data-node="battery"]'), power(frame.battery_w));
    const soc = frame.battery_soc_pct;
    setText($('[data-node="soc"]'), soc === null || soc === undefined ? "" : " · " + whole.format(soc) + " %");
    setText($('[data-field="self"]'), power(frame.self_consumption_w));
    const pct = frame.pv_w ? Math.round((100 * frame.self_consumption_w) / frame.pv_w) : null;
    setText($('[data-field="self-pct"]'), pct === null ? "" : "(" + fill(text.of_solar, { pct: pct }) + ")");
    const waiting = document.getElementById("live-waiting");
    if (waiting) waiting.remove();
  }

  // Devices and the supply gauge -----------------------------------------------------------

  function renderDevices(devices) {
    const list = document.getElementById("live-devices");
    const top = Math.max(...devices.map((d) => d.power_w || 0), 0) || 1;
    const items = devices.map((device) => {
      const item = document.createElement("li");
      if (device.on === false || !device.power_w) item.className = "idle";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = device.name;
      const bar = document.createElementNS(SVG, "svg");
      bar.setAttribute("class", "meter-bar");
      bar.setAttribute("viewBox", "0 0 100 8");
      bar.setAttribute("preserveAspectRatio", "none");
      bar.setAttribute("aria-hidden", "true");
      const rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("width", ((100 * (device.power_w || 0)) / top).toFixed(1));
      rect.setAttribute("height", "8");
      rect.setAttribute("rx", "2");
      bar.appendChild(rect);
      const figure = document.createElement("span");
      figure.className = "num";
      figure.textContent = power(device.power_w);
      item.append(name, bar, figure);
      return item;
    });
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = text.no_devices;
      items.push(empty);
    }
    list.replaceChildren(...items);
  }

  function renderGauge(overload) {
    const gauge = document.getElementById("live-gauge");
    const pct = overload.load_pct || 0;
    $(".gauge-fill", gauge).setAttribute("width", String(Math.min(pct, 100)));
    gauge.setAttribute("class", "gauge level-" + overload.level);
    setText($('[data-field="load"]'), kva(overload.load_va));
    setText($('[data-field="load-pct"]'), "(" + whole.format(pct) + " %)");
    setText($('[data-field="limit"]'), kva(overload.limit_va));
  }

  // The overload banner ----------------------------------------------------------------------

  function minutes(seconds) {
    return Math.max(1, Math.round(seconds / 60));
  }

  function loadItems(loads, withStart) {
    return loads.map((load) => {
      const item = document.createElement("li");
      let line = load.name + " (" + power(load.power_w) + ")";
      if (withStart && load.starts_at) {
        line += " · " + fill(text.starts_at, { time: shortClock.format(new Date(load.starts_at)) });
      }
      item.textContent = line;
      return item;
    });
  }

  function renderOverload(overload) {
    const banner = document.getElementById("live-overload");
    const level = overload.level;
    if (level !== "warning" && level !== "critical") {
      show(banner, false);
      return;
    }
    let title = text.near_limit;
    if (level === "critical" && overload.trip_in_s !== null) {
      title = fill(text.trip_in, { n: minutes(overload.trip_in_s) });
    } else if (level === "critical" && overload.scheduled_trip_in_s !== null) {
      title = fill(text.scheduled_trip_in, { n: minutes(overload.scheduled_trip_in_s) });
    }
    banner.className = "banner overload " + level;
    setText(document.getElementById("overload-title"), title);
    setText(
      document.getElementById("overload-usage"),
      kva(overload.load_va) + " / " + kva(overload.limit_va) + " (" + whole.format(overload.load_pct) + " %)"
    );
    const switchOff = overload.switch_off || [];
    const postpone = overload.postpone || [];
    $("#overload-switch-off ul").replaceChildren(...loadItems(switchOff, false));
    $("#overload-postpone ul").replaceChildren(...loadItems(postpone, true));
    show(document.getElementById("overload-switch-off"), switchOff.length > 0);
    show(document.getElementById("overload-postpone"), postpone.length > 0);
    show(banner, true);
  }

  // The rolling chart ------------------------------------------------------------------------

  const HEIGHT = 200, LEFT = 64, TOP = 10; // the width is the chart's own, so text stays legible
  const SERIES = {
    house: (f) => f.house_w,
    import: (f) => f.grid_import_w,
    export: (f) => f.grid_export_w,
    pv: (f) => f.pv_w,
  };
  const points = []; // {t: ms, house, import, export, pv}, oldest first

  function niceCeiling(value) {
    if (value <= 0) return 1000;
    const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5]) if (value <= step * magnitude) return step * magnitude;
    return 10 * magnitude;
  }

  function addPoint(point) {
    if (Number.isNaN(point.t) || points.some((p) => p.t === point.t)) return;
    points.push(point);
  }

  function trimPoints() {
    points.sort((a, b) => a.t - b.t);
    if (!points.length) return;
    const newest = points[points.length - 1].t;
    while (points.length && points[0].t < newest - config.window_s * 1000) points.shift();
  }

  // The server's chart points: one per meter reading ({t: iso, house, import, export, pv}).
  function rememberPoints(list) {
    for (const p of list || []) {
      const point = { t: Date.parse(p.t) };
      for (const key of Object.keys(SERIES)) point[key] = Math.max(p[key] || 0, 0);
      addPoint(point);
    }
    trimPoints();
  }

  function remember(frame) {
    if (Array.isArray(frame.points) && frame.points.length) return rememberPoints(frame.points);
    const point = { t: Date.parse(frame.time) };
    for (const [key, read] of Object.entries(SERIES)) point[key] = Math.max(read(frame) || 0, 0);
    addPoint(point);
    trimPoints();
  }

  function svgElement(name, attributes, content) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    if (content !== undefined) element.textContent = content;
    return element;
  }

  function renderChart() {
    const chart = document.getElementById("live-chart");
    const WIDTH = Math.max(Math.round(chart.getBoundingClientRect().width) || 720, 280);
    chart.setAttribute("viewBox", "0 0 " + WIDTH + " " + (HEIGHT + TOP + 26));
    chart.dataset.points = String(points.length);
    const end = points.length ? points[points.length - 1].t : Date.now();
    const start = end - config.window_s * 1000;
    const top = niceCeiling(Math.max(0, ...points.map((p) => Math.max(p.house, p.import, p.export, p.pv))));
    const x = (t) => LEFT + ((t - start) / (end - start)) * (WIDTH - LEFT - 8);
    const y = (w) => TOP + HEIGHT - (w / top) * HEIGHT;
    const grid = [];
    for (const fraction of [0, 0.5, 1]) {
      const w = top * fraction;
      grid.push(svgElement("line", { x1: LEFT, x2: WIDTH - 8, y1: y(w), y2: y(w), class: "grid-line" }));
      grid.push(svgElement("text", { x: LEFT - 6, y: y(w) + 4, class: "axis-y" }, power(w)));
    }
    const fiveMinutes = 5 * 60 * 1000;
    for (let t = Math.ceil(start / fiveMinutes) * fiveMinutes; t <= end; t += fiveMinutes) {
      grid.push(svgElement("line", { x1: x(t), x2: x(t), y1: TOP, y2: TOP + HEIGHT, class: "grid-line" }));
      grid.push(svgElement("text", { x: x(t), y: TOP + HEIGHT + 18, class: "tick" }, shortClock.format(new Date(t))));
    }
    $(".grid-lines", chart).replaceChildren(...grid);
    for (const line of chart.querySelectorAll("polyline[data-series]")) {
      const key = line.dataset.series;
      line.setAttribute("points", points.map((p) => x(p.t).toFixed(1) + "," + y(p[key]).toFixed(1)).join(" "));
    }
    const dots = points.map((p) =>
      svgElement("circle", { cx: x(p.t).toFixed(1), cy: y(p.house).toFixed(1), r: 3, class: "dot s-house" })
    );
    $(".dots", chart).replaceChildren(...dots);
  }

  // Presence: the box and the socket ---------------------------------------------------------

  const state = {
    lastSeen: config.last_seen ? new Date(config.last_seen) : null,
    boxOnline: config.online,
    heardAt: Date.now(), // when this page last heard of the box (a frame, or the render)
    connected: false,
    everConnected: false,
    closedForGood: false,
  };

  function renderPresence() {
    const status = document.getElementById("live-status");
    const banner = document.getElementById("live-offline");
    show(status, true);
    if (state.closedForGood) {
      status.className = "badge off";
      setText(status, text.closed);
    } else if (!state.connected) {
      status.className = "badge wait";
      setText(status, state.everConnected ? text.reconnecting : text.connecting);
    } else {
      status.className = "badge ok";
      setText(status, text.live);
    }
    let message = null;
    if (!state.boxOnline) {
      message = state.lastSeen ? fill(text.offline, { time: dateTime.format(state.lastSeen) }) : text.never_seen;
    } else if (state.everConnected && !state.connected && !state.closedForGood) {
      message = text.reconnecting;
    }
    if (message !== null) setText(banner, message);
    show(banner, message !== null);
  }

  function watchdog() {
    if (state.boxOnline && Date.now() - state.heardAt > config.quiet_after_s * 1000) {
      state.boxOnline = false;
    }
    renderPresence();
  }

  // Frames -----------------------------------------------------------------------------------

  function render(frame) {
    if (!frame || frame.type !== "flows") return;
    renderFlows(frame);
    renderDevices(frame.devices || []);
    if (frame.overload) {
      renderGauge(frame.overload);
      renderOverload(frame.overload);
    }
    remember(frame);
    renderChart();
    setText(document.getElementById("live-updated"), fill(text.updated, { time: clock.format(new Date(frame.time)) }));
    const stale = document.getElementById("live-stale");
    if (frame.stale) setText(stale, fill(text.stale, { time: dateTime.format(new Date(frame.time)) }));
    show(stale, Boolean(frame.stale));
  }

  function heard(frame) {
    // A frame is the box's batch just taken (last_seen), even when its readings are a backlog.
    state.lastSeen = frame.last_seen ? new Date(frame.last_seen) : new Date();
    state.boxOnline = true;
    state.heardAt = Date.now();
  }

  // The box's guard actions: the newest on top of the table --------------------------------

  function addActions(actions) {
    const body = document.querySelector('[data-testid="guard-actions"] tbody');
    if (!body || !actions || !actions.length) return;
    const empty = body.querySelector("td.empty");
    if (empty) empty.parentElement.remove();
    for (const action of actions) {
      const row = document.createElement("tr");
      const device = action.device + (action.device_power_w ? " (" + power(action.device_power_w) + ")" : "");
      const cells = [
        dateTime.format(new Date(action.time)),
        action.action === "shed" ? text.shed : text.restored,
        device,
        kva(action.load_va) + " / " + kva(action.limit_va),
      ];
      cells.forEach((value, index) => {
        const cell = document.createElement("td");
        cell.textContent = value;
        if (index === 0 || index === 3) cell.className = index === 3 ? "num nowrap" : "nowrap";
        row.appendChild(cell);
      });
      body.prepend(row);
    }
  }

  // An overload under way shows in the episodes table as "ongoing" --------------------------

  function markEpisode(frame) {
    const overload = frame.overload;
    const body = document.querySelector('[data-testid="episodes"] tbody');
    if (!body || !overload || overload.level === "ok" || frame.stale) return;
    if (body.querySelector("tr[data-ongoing]")) return;
    const empty = body.querySelector("td.empty");
    if (empty) empty.parentElement.remove();
    const row = document.createElement("tr");
    row.dataset.ongoing = "true";
    const level = document.createElement("span");
    level.className = "badge " + (overload.level === "critical" ? "off" : "wait");
    level.textContent = text["level_" + overload.level] || overload.level;
    const cells = [dateTime.format(new Date(frame.time)), text.ongoing, level, kva(overload.load_va) + " / " + kva(overload.limit_va)];
    cells.forEach((value, index) => {
      const cell = document.createElement("td");
      if (typeof value === "string") cell.textContent = value;
      else cell.appendChild(value);
      if (index === 3) cell.className = "num nowrap";
      row.appendChild(cell);
    });
    body.prepend(row);
  }

  // Notifications: a toast, and the nav's badge counts one more ------------------------------

  function toast(notification) {
    const box = document.createElement("div");
    box.className = "toast " + notification.level;
    box.setAttribute("role", notification.level === "critical" ? "alert" : "status");
    box.dataset.testid = "toast";
    const title = document.createElement("strong");
    title.textContent = notification.title;
    const body = document.createElement("p");
    body.textContent = notification.body;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = text.dismiss;
    close.addEventListener("click", () => box.remove());
    box.append(title, body, close);
    document.getElementById("toasts").appendChild(box);
    window.setTimeout(() => box.remove(), 15000);
    bumpBadge();
  }

  function bumpBadge() {
    const link = document.getElementById("nav-notifications");
    if (!link) return;
    let badge = link.querySelector(".badge");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge count";
      badge.dataset.testid = "notification-badge";
      link.append(" ", badge);
    }
    badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
    badge.removeAttribute("aria-label");
  }

  // The socket, reconnected with exponential backoff -----------------------------------------

  const CLOSED_FOR_GOOD = [4403, 4404]; // the reader may not (or no longer) watch this home
  let retry = 0;

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + config.socket);
    socket.addEventListener("open", () => {
      state.connected = true;
      state.everConnected = true;
      retry = 0;
      renderPresence();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.type === "hello") {
        rememberPoints(message.history);
        if (message.last) render(message.last);
        else renderChart();
      } else if (message.type === "flows") {
        heard(message);
        render(message);
        addActions(message.actions);
        markEpisode(message);
      } else if (message.type === "notification") {
        toast(message);
      }
      renderPresence();
    });
    socket.addEventListener("close", (event) => {
      state.connected = false;
      if (CLOSED_FOR_GOOD.includes(event.code)) {
        state.closedForGood = true;
      } else {
        const delay = Math.min(1000 * Math.pow(2, retry), 60000) * (0.75 + Math.random() / 2);
        retry += 1;
        window.setTimeout(connect, delay);
      }
      renderPresence();
    });
  }

  rememberPoints(config.history);
  const initial = document.getElementById("live-frame");
  const frame = initial ? JSON.parse(initial.textContent) : null;
  if (frame) render(frame);
  else renderChart();
  renderPresence();
  window.setInterval(watchdog, 5000);
  window.addEventListener("resize", renderChart);
  connect();
})();
