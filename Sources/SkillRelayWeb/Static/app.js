// SkillRelay's web page: topic suggestions as you type, and live answers and inbox notices over server-sent events.
// Everything people typed is put into the page as text (textContent, option values), never as HTML.
"use strict";

function suggestTopics(input) {
  const list = document.getElementById(input.dataset.suggest);
  const status = document.querySelector('[data-suggest-status="' + input.id + '"]');
  let timer = null;
  let latest = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = input.value.trim();
    if (query.length < 2) { list.replaceChildren(); return; }
    timer = setTimeout(async () => {
      const ticket = ++latest;
      try {
        const response = await fetch("/suggest/topics?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } });
        if (!response.ok || ticket !== latest) return;
        const topics = (await response.json()).topics;
        list.replaceChildren(...topics.map((topic) => {
          const option = document.createElement("option");
          option.value = topic.slug;
          option.label = topic.name;
          option.textContent = topic.name;
          return option;
        }));
        if (status) {
          status.textContent = topics.length === 0 ? "No topic matches yet." :
            "Topics: " + topics.map((topic) => topic.name + " (" + topic.slug + ")").join(", ");
          status.title = status.textContent;
        }
      } catch (error) {
        // Suggestions are a help, not a need: the form works without them.
      }
    }, 150);
  });
}

function fillButtons() {
  for (const button of document.querySelectorAll("[data-fill]")) {
    button.addEventListener("click", () => {
      const target = document.getElementById(button.dataset.fill);
      target.value = button.dataset.value;
      target.focus();
    });
  }
}

function liveAnswers(list) {
  const template = document.getElementById("answer-template");
  const status = document.getElementById("status");
  const empty = document.getElementById("no-answers");
  const cancel = document.getElementById("cancel-form");
  let lastRank = Number(list.dataset.lastRank || "0");
  const source = new EventSource(list.dataset.events);
  source.addEventListener("answer", (event) => {
    const answer = JSON.parse(event.data);
    if (answer.rank <= lastRank) return;
    lastRank = answer.rank;
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.rank = String(answer.rank);
    item.querySelector('[data-field="rank"]').textContent = String(answer.rank);
    item.querySelector('[data-field="alias"]').textContent = answer.alias;
    // A label that says nothing more than "a specialist" (it has no topic) is left out, as on the page.
    item.querySelector('[data-field="label"]').textContent = answer.label.topic ? " (" + answer.label.text + ")" : "";
    item.querySelector('[data-field="text"]').textContent = answer.text;
    item.querySelector('[data-field="rank-value"]').value = String(answer.rank);
    list.appendChild(item);
    if (empty) empty.hidden = true;
  });
  // The stream replays the thread's messages first; those the page already shows are skipped.
  let shownMessages = Number(list.dataset.followUps || "0");
  source.addEventListener("message", (event) => {
    if (shownMessages > 0) {
      shownMessages -= 1;
      return;
    }
    const message = JSON.parse(event.data);
    const thread = list.querySelector(`[data-rank="${message.rank}"] .thread`);
    if (!thread) return;
    const item = document.createElement("li");
    item.className = "follow-up";
    const meta = document.createElement("p");
    meta.className = "meta";
    const alias = document.createElement("strong");
    alias.textContent = message.alias;
    meta.appendChild(alias);
    const text = document.createElement("p");
    text.className = "follow-up-text";
    text.textContent = message.text;
    item.append(meta, text);
    thread.appendChild(item);
  });
  source.addEventListener("wave", (event) => {
    const wave = JSON.parse(event.data);
    const delivered = document.getElementById("delivered");
    if (delivered) delivered.textContent = String(wave.deliveredTo);
  });
  source.addEventListener("closed", (event) => {
    const reason = JSON.parse(event.data).reason;
    status.textContent = reason;
    status.dataset.status = reason;
    if (cancel) cancel.remove();
    source.close();
  });
}

function liveInbox(notice) {
  const source = new EventSource(notice.dataset.inboxEvents);
  const show = () => { notice.hidden = false; };
  // The server ends the stream when it may have missed something; the browser reconnects, and what was missed is on
  // the page once it is shown again.
  let opened = false;
  source.addEventListener("open", () => {
    if (opened) show();
    opened = true;
  });
  source.addEventListener("delivery", show);
  source.addEventListener("closed", show);
  source.addEventListener("message", show);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-suggest]")) suggestTopics(input);
  fillButtons();
  const answers = document.querySelector("[data-events]");
  if (answers) liveAnswers(answers);
  const inbox = document.querySelector("[data-inbox-events]");
  if (inbox) liveInbox(inbox);
});
