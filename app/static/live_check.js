// Live compliance check in the template editor: findings highlighted while typing.
// Posts the body to /api/v1/compliance/check 400 ms after the last keystroke (CSRF token in a
// header) and redraws the highlighted copy, the findings with their citations and the
// variables with today's values. Text is inserted with textContent only (never as HTML).
// With several wordings 措辞, the one typed in last is checked (its number is shown).
(function () {
  const box = document.getElementById("live-check");
  let body = document.querySelector("textarea[name=body]");
  if (!box || !body) return;
  const label = (field) => field.name === "body" ? "措辞 1" :
    "措辞 " + (Number(field.name.split("-")[1]) + 2);
  const marked = document.getElementById("live-marked");
  const list = document.getElementById("live-findings");
  const vars = document.getElementById("live-variables");
  const status = document.getElementById("live-status");
  const token = document.querySelector("input[name=csrf_token]").value;
  let timer = null;
  let sent = 0;

  function render(data) {
    marked.replaceChildren(...data.segments.map((s) => {
      const node = document.createElement(s.css ? "mark" : "span");
      node.textContent = s.text;
      if (s.css) { node.className = s.css; node.title = s.rules; node.dataset.rules = s.rules; }
      return node;
    }));
    list.replaceChildren(...data.findings.map((f) => {
      const item = document.createElement("li");
      item.className = "finding-" + f.severity;
      item.textContent = `${f.rule_id}（${f.severity === "block" ? "阻断" : "提示"}）：${f.message} 依据：${f.citation}`;
      return item;
    }));
    vars.replaceChildren(...data.variables.map((v) => {
      const row = document.createElement("tr");
      for (const text of [v.name, String(v.value)]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }));
    const found = data.findings.length ? `${data.findings.length} 条合规提示` : "未发现合规问题";
    status.textContent = document.querySelector("textarea[name^=variants-]") ?
      `${label(body)}：${found}` : found;
  }

  async function check() {
    const number = ++sent;
    status.textContent = "检查中…";
    const response = await fetch(box.dataset.url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({template_id: Number(box.dataset.template), body: body.value}),
    });
    if (number !== sent) return;  // a newer check is on its way
    if (!response.ok) { status.textContent = "无法检查（" + response.status + "）"; return; }
    render(await response.json());
  }

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLTextAreaElement) ||
        !(field.name === "body" || field.name.startsWith("variants-"))) return;
    body = field;
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  check();
})();
