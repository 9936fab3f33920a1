// Runs the web chat page's own script under Node against a live server, with a minimal DOM
// stand-in (there is no browser here), and prints what the page showed as JSON.
// Usage: node page_harness.js PAGE_URL TOKEN
"use strict";

const [pageUrl, token] = process.argv.slice(2);

class Element {
  constructor(tag, id) {
    Object.assign(this, { tag, id, children: [], parent: null, listeners: {}, attributes: {} });
    Object.assign(this, { className: "", textContent: "", value: "", hidden: false, disabled: false });
  }
  append(...children) {
    for (const child of children) {
      child.parent = this;
      this.children.push(child);
    }
  }
  remove() {
    if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this);
    this.parent = null;
  }
  replaceChildren(...children) { this.children = []; this.append(...children); }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  dispatch(type, event = {}) {
    event.preventDefault = () => {};
    for (const fn of this.listeners[type] || []) fn(event);
  }
  setAttribute(key, value) { this.attributes[key] = String(value); }
  focus() {}
  requestSubmit() { this.dispatch("submit"); }
  click() { this.dispatch("click"); }
  get scrollHeight() { return 0; }
  find(predicate) {
    for (const child of this.children) {
      if (predicate(child)) return child;
      const deeper = child.find(predicate);
      if (deeper) return deeper;
    }
    return null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, what) {
  for (let i = 0; i < 600; i++) {
    const value = check();
    if (value) return value;
    await sleep(50);
  }
  throw new Error("timed out waiting for " + what);
}

async function main() {
  const html = await (await fetch(pageUrl)).text();
  const script = html.match(/<script>([\s\S]*?)<\/script>/)[1];
  const byId = {};
  for (const match of html.matchAll(/id="([^"]+)"/g)) byId[match[1]] = new Element("div", match[1]);
  byId["token-panel"].hidden = true;
  const store = new Map();
  globalThis.document = { getElementById: (id) => byId[id], createElement: (tag) => new Element(tag), hidden: false };
  globalThis.sessionStorage = {
    getItem: (k) => (store.has(k) ? store.get(k) : null),
    setItem: (k, v) => store.set(k, String(v)),
    removeItem: (k) => store.delete(k),
  };
  const requests = [];
  const realFetch = fetch;
  globalThis.fetch = (url, init) => {
    requests.push({ url, method: init.method, auth: init.headers.Authorization === "Bearer " + token });
    return realFetch(new URL(url, pageUrl), init);
  };
  globalThis.window = { confirm: () => true };
  globalThis.setInterval = () => 0;
  new Function(script)();

  const log = byId.log;
  const entries = () => log.children.filter((e) => !e.className.includes("pending"));
  const texts = () => entries().map((e) => ({ kind: e.className, text: e.children[1].textContent }));
  const result = { tokenAsked: !byId["token-panel"].hidden };

  byId["token-input"].value = "wrong-token-0123456789abcdef";
  byId["token-form"].dispatch("submit");
  await until(() => !byId["token-panel"].hidden, "the refused token to be asked again");
  result.refusedMessage = byId["token-message"].textContent;

  byId["token-input"].value = token;
  byId["token-form"].dispatch("submit");
  await until(() => byId["dag-list"].children.length, "the DAG list");
  result.dags = byId["dag-list"].children.map((li) => li.children.map((c) => c.textContent));

  async function say(text) {
    const before = entries().length;
    byId.message.value = text;
    byId.message.dispatch("keydown", { key: "Enter", shiftKey: false, isComposing: false });
    await until(() => entries().length >= before + 2 && !byId.send.disabled, "the reply to " + text);
  }
  await say("run etl_daily");
  await say("show its logs");
  result.session = store.get("assistant.chatSession");
  await realFetch(new URL("api/v1/chat/" + result.session, pageUrl), {
    method: "DELETE",
    headers: { Authorization: "Bearer " + token },
  });  // as if it had expired: the page starts a new session and says so
  await say("list dags");

  const runButton = byId["dag-list"].children[0].find((c) => c.tag === "button");
  runButton.click();
  await until(() => texts().some((t) => t.text.startsWith("Triggered")), "the run note");

  result.entries = texts();
  result.requests = requests;
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
