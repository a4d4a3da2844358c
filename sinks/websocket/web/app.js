// The live chart page: one websocket to the pusher on the same host; 1m (or chosen) candles of one symbol
// building live, its last trades and its session. Plain script, no build step; the charting library is
// loaded before this file as a global (LightweightCharts).
"use strict";

const params = new URLSearchParams(location.search);
const statusEl = document.getElementById("status");
const sessionEl = document.getElementById("session");
const symbolEl = document.getElementById("symbol");
const intervalEl = document.getElementById("interval");
const tradesBody = document.querySelector("#trades tbody");
const MAX_TRADES = 50;

const state = {
  symbol: params.get("symbol") || "",
  interval: params.get("interval") || "1m",
  candles: new Map(), // bucket start (s) -> bar
  trades: 0,
  lastPrice: null,
  ws: null,
  nextId: 1,
  subscribed: [],
};

function setStatus(kind, text) {
  statusEl.dataset.state = kind;
  statusEl.dataset.candles = String(state.candles.size);
  statusEl.dataset.trades = String(state.trades);
  statusEl.dataset.subscribed = state.subscribed.join(" ");
  statusEl.textContent = text;
  document.title = `tickring ${state.symbol || "-"} ${state.interval}: ${kind}, ${state.candles.size} candles`;
}

let chart = null;
let series = null;
if (typeof LightweightCharts === "undefined") {
  setStatus("error", "charting library missing: run scripts/setup-web.sh");
} else {
  chart = LightweightCharts.createChart(document.getElementById("chart"), {
    autoSize: true,
    layout: { background: { color: "#101418" }, textColor: "#d8dee4" },
    grid: { vertLines: { color: "#1c252d" }, horzLines: { color: "#1c252d" } },
    timeScale: { timeVisible: true, secondsVisible: state.interval === "1s" },
  });
  series = chart.addSeries(LightweightCharts.CandlestickSeries, {
    upColor: "#26a69a", downColor: "#ef5350", borderVisible: false,
    wickUpColor: "#26a69a", wickDownColor: "#ef5350",
  });
}

function bar(c) {
  return {
    time: Math.floor(c.start_ns / 1e9),
    open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close),
  };
}

function drawAll() {
  if (!series) return;
  const bars = [...state.candles.values()].sort((a, b) => a.time - b.time);
  series.setData(bars);
}

function onCandle(c, redraw) {
  if (c.symbol !== state.symbol || c.interval !== state.interval) return;
  const b = bar(c);
  const newest = state.candles.size ? Math.max(...state.candles.keys()) : -Infinity;
  state.candles.set(b.time, b);
  if (redraw) return;
  if (series && b.time >= newest) series.update(b); else drawAll();
  showSession(c);
}

function showSession(ev) {
  sessionEl.dataset.session = ev.session;
  sessionEl.textContent = `${ev.exchange} session: ${ev.session}` + (ev.trading_day ? `, trading day ${ev.trading_day}` : "");
}

function onTrade(t) {
  if (t.symbol !== state.symbol) return;
  state.trades += 1;
  const tr = document.createElement("tr");
  const time = new Date(t.ts_event / 1e6).toISOString().slice(11, 23);
  const dir = state.lastPrice === null ? "" : Number(t.price) >= state.lastPrice ? "up" : "down";
  state.lastPrice = Number(t.price);
  for (const [text, cls] of [[time, ""], [t.price, dir], [t.size, ""], [t.session, ""]]) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  tradesBody.prepend(tr);
  while (tradesBody.children.length > MAX_TRADES) tradesBody.lastChild.remove();
  showSession(t);
}

function onPrice(p) {
  const list = document.getElementById("symbols");
  if (!list.querySelector(`option[value="${CSS.escape(p.symbol)}"]`)) {
    const o = document.createElement("option");
    o.value = p.symbol;
    list.appendChild(o);
  }
  if (!state.symbol) {
    state.symbol = p.symbol;
    symbolEl.value = p.symbol;
    subscribeSymbol();
  }
}

function handle(m) {
  switch (m.type) {
    case "hello": break;
    case "ack":
      state.subscribed = m.subscriptions;
      setStatus("live", `live: ${m.subscriptions.join(", ")}`);
      break;
    case "snapshot": {
      const kind = m.channel.split(".")[0];
      for (const ev of m.data) {
        if (kind === "candle") onCandle(ev, true);
        else if (kind === "trade") onTrade(ev);
        else if (kind === "price") onPrice(ev);
      }
      if (kind === "candle") {
        drawAll();
        if (chart) chart.timeScale().fitContent();
      }
      break;
    }
    case "candle": onCandle(m, false); break;
    case "trade": onTrade(m); break;
    case "price": onPrice(m); break;
    case "gap": console.warn("gap", m); break;
    case "error": setStatus("error", `error ${m.code}: ${m.message}`); return;
    case "pong": break;
  }
  if (statusEl.dataset.state === "live") setStatus("live", statusEl.textContent);
}

function send(op, channels) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({ op, channels, id: state.nextId++ }));
  }
}

function symbolChannels() {
  return state.symbol ? [`candle.${state.interval}.${state.symbol}`, `trade.${state.symbol}`] : [];
}

function subscribeSymbol() {
  if (state.symbol) send("subscribe", symbolChannels());
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const token = params.get("token");
  const url = `${proto}//${location.host}/ws` + (token ? `?token=${encodeURIComponent(token)}` : "");
  const ws = new WebSocket(url);
  state.ws = ws;
  setStatus("connecting", `connecting to ${url}`);
  ws.onopen = () => {
    send("subscribe", ["price.*"]);
    subscribeSymbol();
  };
  ws.onmessage = (e) => {
    let msgs;
    try { msgs = JSON.parse(e.data); } catch (_) { return; }
    for (const m of msgs) handle(m);
  };
  ws.onclose = (e) => {
    setStatus("closed", `disconnected (${e.code}${e.reason ? " " + e.reason : ""}); retrying`);
    setTimeout(connect, 2000);
  };
}

document.getElementById("pick").addEventListener("submit", (e) => {
  e.preventDefault();
  const symbol = symbolEl.value.trim();
  const interval = intervalEl.value;
  if (!symbol) return;
  const old = symbolChannels();
  if (old.length) send("unsubscribe", old);
  state.symbol = symbol;
  state.interval = interval;
  state.candles.clear();
  state.trades = 0;
  state.lastPrice = null;
  tradesBody.replaceChildren();
  if (series) series.setData([]);
  if (chart) chart.applyOptions({ timeScale: { secondsVisible: interval === "1s" } });
  const q = new URLSearchParams(location.search);
  q.set("symbol", symbol);
  q.set("interval", interval);
  history.replaceState(null, "", `?${q}`);
  subscribeSymbol();
});

symbolEl.value = state.symbol;
intervalEl.value = state.interval;
if (typeof LightweightCharts !== "undefined") connect();
