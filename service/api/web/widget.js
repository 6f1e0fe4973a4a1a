/* boardpapers chat widget: plain JavaScript, no build step, no third-party code.
 *
 * Embed with one script tag and one element:
 *   <div data-boardpapers></div>
 *   <script src="https://papers.example/static/widget.js"></script>
 * The API base is the script's own origin and folder (…/static/widget.js → …/), or the
 * script's (or element's) data-api attribute. Answers stream from POST {api}/ask/stream.
 * Where the service has keys, the script's (or element's) data-key names the widget's own
 * (`boardpapers keys create --role public --name widget --origin https://intranet.example`),
 * sent as `Authorization: Bearer`; it works only from the origins it was made for.
 *
 * Every failure is told in the widget's frame with what to do (`failures` below): the service
 * down, this page's origin not allowed (told apart from "down" by a no-cors probe of /healthz),
 * the key missing or refused, too many requests or the service busy (with when to retry), the
 * language model failing. When the service is down as the page loads, this script cannot load
 * either: the element's own content (see the README's snippet) is the frame shown instead.
 */
(() => {
  "use strict";
  const script = document.currentScript;
  const configured = script && script.dataset.api;
  const configuredKey = script && script.dataset.key;
  const scriptBase = script && script.src ? new URL("..", script.src).href : document.baseURI;
  let instances = 0;

  function withSlash(url) { return url.endsWith("/") ? url : url + "/"; }
  function apiUrl(base, path) { return new URL(path.replace(/^\//, ""), base).href; }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    node.append(...children);
    return node;
  }

  function longDate(iso) {
    if (!iso) return "";
    const date = new Date(iso.slice(0, 10) + "T00:00:00Z");
    if (Number.isNaN(date.getTime())) return iso;
    return date.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
  }

  function pages(c) { return c.page_end > c.page ? `pp. ${c.page}–${c.page_end}` : `p. ${c.page}`; }

  // A list entry's line while an answer streams in: "- ", "* ", "• ", "1. " or "1) ".
  const BULLET = /^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+(?=\S)/;

  /** The lead and entries of a list answer, or null for prose. Once the answer is done its
   * `items` decide (the text is the lead, then each item as a "- " line); while it streams,
   * lines that open with a bullet after a lead line are the entries so far. */
  function listParts(text, items) {
    if (items) {
      if (!items.length) return null;
      const tail = items.map((item) => "\n- " + item).join("");
      if (!text.endsWith(tail)) return null;
      return { lead: text.slice(0, text.length - tail.length).trim(), items };
    }
    const lines = text.split("\n");
    const first = lines.findIndex((line) => BULLET.test(line));
    if (first < 1) return null;
    const lead = lines.slice(0, first).join("\n").trim();
    if (!lead) return null;
    const entries = [];
    for (const line of lines.slice(first)) {
      const bullet = line.match(BULLET);
      if (bullet) entries.push(line.slice(bullet[0].length).trim());
      else if (!line.trim()) continue;
      else if (/^[ \t]/.test(line)) entries[entries.length - 1] += " " + line.trim();
      else return null;
    }
    return { lead, items: entries };
  }

  /** Text as compared for "is this quote already in the answer": whitespace collapsed, quote
   * marks straightened, markers ignored. */
  function squash(text) {
    return text.replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, " ").trim();
  }
  function quotedInAnswer(quote, answer) {
    const q = squash(quote);
    if (!q) return true;
    return squash(answer).includes(q) || squash(answer.replace(/[ \t]*\[\d+\]/g, "")).includes(q);
  }

  /** “quote” — Title, Body, 5 December 2024, p. 12, para 3.4 */
  function reference(c) {
    const parts = [c.document.title, c.document.body, longDate(c.document.date), pages(c)];
    if (c.paragraph) parts.push(`para ${c.paragraph}`);
    return `“${c.quote}” — ${parts.filter(Boolean).join(", ")}`;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      const area = el("textarea", { class: "bp-visually-hidden", "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      return ok;
    }
  }

  /** Server-sent events from a fetch response: calls onEvent(name, data) for each. */
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  /** A failure as the widget tells it: what happened and what to do, and the service's own
   * words for whoever runs it (shown folded, under "Details"). */
  class Failure extends Error {
    constructor(message, detail = "") {
      super(message);
      this.detail = detail;
    }
  }

  function detailOf(body) {
    const detail = body && body.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((d) => d && d.msg).filter(Boolean).join("; ");
    return "";
  }

  /** Seconds until a retry may succeed, from Retry-After (seconds or a date); null if not said
   * (or not readable: a cross-origin page reads it only when the service exposes it). */
  function retryAfter(response) {
    const value = (response.headers.get("Retry-After") || "").trim();
    if (/^\d+$/.test(value)) return Math.max(1, Number(value));
    const at = Date.parse(value);
    return Number.isNaN(at) ? null : Math.max(1, Math.ceil((at - Date.now()) / 1000));
  }

  function whenToRetry(seconds, otherwise) {
    if (!seconds) return otherwise;
    if (seconds < 90) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
    return `in ${Math.ceil(seconds / 60)} minutes`;
  }

  const PROBE_MS = 5000;
  const ADMIN = "the papers service's administrator";

  /** The failures of one widget, each with what to do. `api` is the service's base URL,
   * `key` the widget's key (or none). */
  function failures(api, key) {
    const origin = location.origin;
    const getKey = `Ask ${ADMIN} for a key made for this page (${origin}) and set it as the widget's data-key.`;
    const later = `Try again in a few minutes; if it keeps failing, tell ${ADMIN}.`;

    /** A fetch that failed outright ("Failed to fetch"): the service is down, or it refuses
     * this page's origin (CORS), which a script cannot tell from the error. A no-cors request
     * to /healthz can: it succeeds (opaquely) whenever the service answers at all. */
    async function unreachable() {
      if (new URL(api).origin !== origin) {
        const probe = new AbortController();
        const timer = setTimeout(() => probe.abort(), PROBE_MS);
        try {
          await fetch(apiUrl(api, "healthz"), { mode: "no-cors", cache: "no-store", signal: probe.signal });
          return new Failure(
            `The papers service at ${api} is running but does not accept requests from this page (${origin}). ` +
            `Ask ${ADMIN} to add ${origin} to BOARDPAPERS_CORS_ORIGINS and restart the service.`);
        } catch {
          // down as well: said below
        } finally {
          clearTimeout(timer);
        }
      }
      return new Failure(
        `The papers service at ${api} cannot be reached: it may be down or restarting. ` +
        `Try again in a few minutes; if it stays unreachable, tell ${ADMIN}.`);
    }

    function languageModel(timedOut, detail) {
      const what = timedOut ? "did not answer in time" : "failed";
      return new Failure(`The answer could not be written: the language model the papers service uses ${what}. ${later}`, detail);
    }

    /** A response that is not ok. */
    async function refused(response) {
      const status = response.status;
      const detail = detailOf(await response.json().catch(() => null));
      if (status === 401 && !key) {
        return new Failure(`The papers service needs a key, and this widget has none. ${getKey}`, detail);
      }
      if (status === 401) return new Failure(`The papers service refused this widget's key. ${getKey}`, detail);
      if (status === 403) return new Failure(`This widget's key is not allowed to do this. ${getKey}`, detail);
      if (status === 429) {
        return new Failure(`This widget has asked more questions than its key allows in a minute. Try again ${whenToRetry(retryAfter(response), "in a minute")}.`, detail);
      }
      if (status === 503) {
        return new Failure(`The papers service is busy answering other questions. Try again ${whenToRetry(retryAfter(response), "in a few seconds")}.`, detail);
      }
      if (status === 502 || status === 504) return languageModel(status === 504, detail);
      if (status >= 500) return new Failure(`The papers service could not answer (error ${status}). ${later}`, detail);
      if (status === 404) {
        return new Failure(`${api} has no papers service (error 404): the widget's data-api, or its script's address, should name the service.`, detail);
      }
      if (status === 413 || status === 422) return new Failure(`The papers service did not take the question: ${detail || `error ${status}`}. Shorten or reword it and ask again.`);
      return new Failure(`The papers service answered with error ${status}${detail ? `: ${detail}` : ""}.`);
    }

    /** An `error` event in the answer stream ("UpstreamTimeout: …" for the language model). */
    function streamFailed(detail) {
      const upstream = /^Upstream(Timeout|Error): /.exec(detail || "");
      if (upstream) return languageModel(upstream[1] === "Timeout", detail.slice(upstream[0].length));
      return new Failure(`The answer stopped part-way: the papers service failed while writing it. ${later}`, detail);
    }

    /** Any error thrown while asking, as a Failure. */
    async function explain(error) {
      if (error instanceof Failure) return error;
      if (error instanceof TypeError) return unreachable(); // fetch's "Failed to fetch"
      return new Failure(`Something went wrong: ${error.message || error}. ${later}`);
    }

    return { refused, streamFailed, explain };
  }

  /** The failure's message, with the service's own words folded under it. */
  function failureNodes(failure) {
    const nodes = [el("p", { class: "bp-failure-message", text: failure.message })];
    if (failure.detail) {
      nodes.push(el("details", { class: "bp-failure-detail" },
        el("summary", { text: "Details for the administrator" }), el("p", { text: failure.detail })));
    }
    return nodes;
  }

  function mount(host) {
    const api = withSlash(new URL(host.dataset.api || configured || scriptBase, document.baseURI).href);
    const key = host.dataset.key || configuredKey;
    const auth = key ? { Authorization: `Bearer ${key}` } : {};
    const failure = failures(api, key);
    // A plain link cannot send the key: with one, a paper opens from a copy fetched with it.
    if (key) host.addEventListener("click", (event) => {
      const link = event.target.closest && event.target.closest("a[href]");
      if (!link || !link.href.startsWith(api + "documents/")) return;
      event.preventDefault();
      const opened = window.open("", "_blank");
      const [address, fragment] = link.href.split("#");
      fetch(address, { headers: auth })
        .then(async (r) => (r.ok ? r.blob() : Promise.reject(await failure.refused(r))))
        .then((blob) => { if (opened) opened.location.href = URL.createObjectURL(blob) + (fragment ? `#${fragment}` : ""); })
        .catch(async (error) => {
          if (opened) opened.close();
          status.textContent = `The paper could not be opened. ${(await failure.explain(error)).message}`;
        });
    });
    const id = `bp${++instances}`;
    let conversationId = null;
    let turns = 0;
    let busy = false;

    const log = el("ol", { class: "bp-log", "aria-label": "Conversation" });
    // What stops the widget from working at all (the service down, this page or key refused),
    // found as it loads; cleared once a question is answered.
    const notice = el("div", { class: "bp-notice", role: "alert", hidden: true });
    const status = el("p", { class: "bp-status", role: "status", "aria-live": "polite" });
    const question = el("textarea", {
      id: `${id}-q`, name: "question", rows: "2", required: true, maxlength: "2000",
      "aria-describedby": `${id}-hint`, autocomplete: "off",
    });
    const body = el("select", { id: `${id}-body`, name: "body" }, el("option", { value: "", text: "All bodies" }));
    const dateFrom = el("input", { id: `${id}-from`, name: "date_from", type: "date" });
    const dateTo = el("input", { id: `${id}-to`, name: "date_to", type: "date" });
    const ask = el("button", { type: "submit", class: "bp-primary", text: "Ask" });
    const restart = el("button", { type: "button", class: "bp-new", text: "New conversation", onclick: () => {
      conversationId = null;
      log.replaceChildren();
      status.textContent = "New conversation started.";
      question.focus();
    } });
    const form = el("form", { class: "bp-form", "aria-label": "Ask a question" },
      el("label", { for: `${id}-q`, text: "Your question" }),
      question,
      el("p", { id: `${id}-hint`, class: "bp-hint",
        text: "Enter to ask, Shift+Enter for a new line. Follow-ups (“and what about …?”) continue the conversation." }),
      el("details", { class: "bp-filters" },
        el("summary", { text: "Filters" }),
        el("div", { class: "bp-filter-grid" },
          el("label", { for: `${id}-body` }, "Body", body),
          el("label", { for: `${id}-from` }, "Papers from", dateFrom),
          el("label", { for: `${id}-to` }, "Papers to", dateTo))),
      el("div", { class: "bp-row" }, restart, ask));
    const root = el("section", { class: "bp", "aria-labelledby": `${id}-title` },
      el("div", { class: "bp-head" }, el("h2", { class: "bp-title", id: `${id}-title`, text: host.dataset.title || "Ask the board papers" })),
      notice, log, form, status);
    host.replaceChildren(root);

    function showNotice(shown) {
      notice.replaceChildren(...(shown ? failureNodes(shown) : []));
      notice.hidden = !shown;
    }

    // The bodies for the filter; and, before anyone asks, whether the widget can work here.
    fetch(apiUrl(api, "documents"), { headers: auth })
      .then(async (r) => (r.ok ? r.json() : Promise.reject(await failure.refused(r))))
      .then((documents) => {
        for (const name of [...new Set(documents.map((d) => d.body))].sort()) {
          body.append(el("option", { value: name, text: name }));
        }
      })
      .catch(async (error) => showNotice(await failure.explain(error)));

    question.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = question.value.trim();
      if (!text || busy) return;
      askQuestion(text);
    });

    function filters() {
      return {
        bodies: body.value ? [body.value] : [],
        date_from: dateFrom.value || null,
        date_to: dateTo.value || null,
      };
    }

    async function askQuestion(text) {
      busy = true;
      ask.disabled = true;
      const n = ++turns;
      const turn = renderTurn(n, text);
      status.textContent = "Searching the papers…";
      const payload = { question: text, filters: filters() };
      if (conversationId) payload.conversation_id = conversationId;
      try {
        const response = await fetch(apiUrl(api, "ask/stream"), {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...auth },
          body: JSON.stringify(payload),
        });
        if (response.status === 404 && conversationId) {
          conversationId = null; // no longer kept by the service: the next question starts anew
          throw new Failure("This conversation is no longer kept by the papers service. Ask again: a new conversation will start.");
        }
        if (!response.ok) throw await failure.refused(response);
        question.value = "";
        let finished = false;
        await readEvents(response, (name, data) => {
          if (name === "passages") {
            conversationId = data.conversation_id;
            turn.searched(data.question, data.rewritten_question);
            status.textContent = `Found ${data.passages.length} passages; writing the answer…`;
          } else if (name === "citation") turn.cite(data);
          else if (name === "delta") turn.append(data.text);
          else if (name === "replace") turn.replace(data.text);
          else if (name === "done") {
            finished = true;
            turn.finish(data);
            status.textContent = data.answered
              ? `Answer ready, with ${data.citations.length} source${data.citations.length === 1 ? "" : "s"}.`
              : "The papers do not cover this question.";
          } else if (name === "error") throw failure.streamFailed(data.detail);
        });
        if (!finished) throw failure.streamFailed("the stream ended before its last event");
        showNotice(null);
      } catch (error) {
        if (!question.value) question.value = text; // to ask again as it is
        turn.fail(await failure.explain(error));
        status.textContent = "The question was not answered: the message above says why.";
      } finally {
        busy = false;
        ask.disabled = false;
      }
    }

    function renderTurn(n, text) {
      const answer = el("div", { class: "bp-answer", "aria-live": "polite", "aria-busy": "true", id: `${id}-a${n}` });
      const searched = el("p", { class: "bp-searched", hidden: true });
      const sourcesTitle = el("h3", { class: "bp-sources-title", id: `${id}-s${n}-title`, text: "Sources", hidden: true });
      const sources = el("ol", { class: "bp-sources", "aria-labelledby": `${id}-s${n}-title` });
      const item = el("li", { class: "bp-turn" },
        el("p", { class: "bp-you" }, el("span", { class: "bp-visually-hidden", text: "You asked: " }), text),
        searched, answer, sourcesTitle, sources);
      log.append(item);
      // The new turn's question at the top of the conversation, its answer growing below it.
      log.scrollTop = item.offsetTop;
      item.scrollIntoView({ block: "nearest" });
      const citations = new Map();
      let raw = "";
      let items = null; // the finished answer's list entries; null while it streams

      /** Text with each [n] of a known source as a link to its PDF page. */
      function marked(text) {
        const nodes = [];
        let last = 0;
        for (const match of text.matchAll(/\[(\d+)\]/g)) {
          nodes.push(text.slice(last, match.index));
          const c = citations.get(Number(match[1]));
          nodes.push(c ? el("a", {
            class: "bp-marker", href: apiUrl(api, c.url), target: "_blank", rel: "noopener",
            "aria-label": `source ${c.n}: ${c.document.title}, ${pages(c)} (opens the PDF)`,
            title: `${c.document.title}, ${pages(c)}`, "data-n": String(c.n),
            onmouseenter: () => highlight(c.n, true), onmouseleave: () => highlight(c.n, false),
            onfocus: () => highlight(c.n, true), onblur: () => highlight(c.n, false),
          }, `[${c.n}]`) : match[0]);
          last = match.index + match[0].length;
        }
        nodes.push(text.slice(last));
        return nodes;
      }
      function draw() {
        const list = listParts(raw, items);
        if (!list) {
          answer.replaceChildren(...marked(raw));
          return;
        }
        // A list answer: the lead as a paragraph, the entries as real bullets.
        answer.replaceChildren(
          el("p", { class: "bp-lead" }, ...marked(list.lead)),
          el("ul", { class: "bp-items" }, ...list.items.map((item) => el("li", {}, ...marked(item)))));
      }
      function highlight(n, on) {
        const card = sources.querySelector(`[data-n="${n}"]`);
        if (card) card.classList.toggle("bp-highlight", on);
      }
      /** A source card: document, page, paragraph and links. Its quote shows only once the
       * answer is complete, and only when the answer text does not already say it word for
       * word (an extractive answer's sentences are its quotes). */
      function sourceCard(c, answerText = null) {
        const meta = [c.document.body, longDate(c.document.date), pages(c), c.paragraph ? `para ${c.paragraph}` : ""];
        const repeated = answerText === null || quotedInAnswer(c.quote, answerText);
        const copy = el("button", { type: "button", class: "bp-copy", text: "Copy with reference",
          "aria-label": `Copy quote ${c.n} with its reference` });
        copy.addEventListener("click", async () => {
          const ok = await copyText(reference(c));
          copy.textContent = ok ? "Copied" : "Copy failed";
          status.textContent = ok ? `Quote ${c.n} copied with its reference.` : "Could not copy.";
          setTimeout(() => { copy.textContent = "Copy with reference"; }, 2000);
        });
        return el("li", { class: "bp-source", id: `${id}-t${n}-src${c.n}`, "data-n": String(c.n), value: String(c.n) },
          el("p", { class: "bp-source-title", text: c.document.title }),
          el("p", { class: "bp-source-meta", text: meta.filter(Boolean).join(" · ") }),
          el("blockquote", { class: "bp-quote", text: `“${c.quote}”`, hidden: repeated }),
          el("div", { class: "bp-actions" },
            el("a", { class: "bp-open", href: apiUrl(api, c.url), target: "_blank", rel: "noopener",
              text: `Open PDF at ${pages(c)}`, "aria-label": `Open ${c.document.title} at ${pages(c)} (PDF)` }),
            copy));
      }
      return {
        searched(asked, rewritten) {
          if (rewritten && rewritten.trim() !== asked.trim()) {
            searched.hidden = false;
            searched.textContent = `Searched for: ${rewritten}`;
          }
        },
        cite(c) {
          citations.set(c.n, c);
          sourcesTitle.hidden = false;
          sources.append(sourceCard(c));
          draw();
        },
        append(piece) { raw += piece; draw(); },
        replace(text) { raw = text; draw(); },
        finish(result) {
          citations.clear();
          sources.replaceChildren();
          for (const c of result.citations) {
            citations.set(c.n, c);
            sources.append(sourceCard(c, result.answer));
          }
          sourcesTitle.hidden = result.citations.length === 0;
          raw = result.answer;
          items = result.items || [];
          draw();
          answer.classList.toggle("bp-not-covered", !result.answered);
          answer.setAttribute("aria-busy", "false");
        },
        fail(failed) {
          answer.classList.add("bp-error");
          answer.replaceChildren(...failureNodes(failed));
          answer.setAttribute("aria-busy", "false");
        },
      };
    }
  }

  function start() {
    if (!document.querySelector("link[data-boardpapers-css]")) {
      const base = withSlash(new URL(configured || scriptBase, document.baseURI).href);
      document.head.append(el("link", { rel: "stylesheet", href: apiUrl(base, "static/widget.css"), "data-boardpapers-css": "" }));
    }
    document.querySelectorAll("[data-boardpapers]:not([data-bp-mounted])").forEach((host) => {
      host.setAttribute("data-bp-mounted", "");
      mount(host);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
