// A small renderer for the API's OpenAPI document: every operation with its parameters, request
// body and responses, schemas shown as JSON with their references resolved one level.
// Plain DOM and textContent only, so the page runs under the server's strict CSP.

const METHODS = ["get", "post", "put", "patch", "delete"];

function element(tag, { text, className, children = [], attributes = {} } = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function resolver(document) {
  return function resolve(value) {
    if (!value || typeof value !== "object" || typeof value.$ref !== "string") return value;
    const path = value.$ref.replace(/^#\//, "").split("/");
    return resolve(path.reduce((node, key) => node?.[key], document));
  };
}

function expand(schema, resolve, depth = 0) {
  const resolved = resolve(schema);
  if (depth > 3 || !resolved || typeof resolved !== "object") return resolved;
  if (Array.isArray(resolved)) return resolved.map((item) => expand(item, resolve, depth + 1));
  return Object.fromEntries(
    Object.entries(resolved).map(([key, value]) => [key, expand(value, resolve, depth + 1)]),
  );
}

function schemaBlock(schema, resolve) {
  return element("pre", { text: JSON.stringify(expand(schema, resolve), null, 2) });
}

function parametersTable(parameters, resolve) {
  const rows = parameters.map(resolve).map((p) =>
    element("tr", {
      children: [
        element("td", { children: [element("code", { text: p.name })] }),
        element("td", { text: p.in + (p.required ? ", required" : "") }),
        element("td", { text: JSON.stringify(expand(p.schema, resolve)) }),
        element("td", { text: p.description ?? "" }),
      ],
    }),
  );
  return element("table", { children: rows });
}

function operationSection(method, path, operation, resolve, anchor) {
  const heading = element("h2", {
    children: [element("span", { className: `method ${method}`, text: method.toUpperCase() }), element("code", { text: path })],
  });
  if (Array.isArray(operation.security) && operation.security.length === 0) {
    heading.append(element("span", { className: "public", text: "no sign-in" }));
  }
  const section = element("section", { className: "operation", attributes: { id: anchor }, children: [heading] });
  if (operation.summary) section.append(element("p", { text: operation.summary }));
  if (operation.parameters?.length) {
    section.append(element("h3", { text: "Parameters" }), parametersTable(operation.parameters, resolve));
  }
  const body = resolve(operation.requestBody);
  if (body?.content?.["application/json"]) {
    section.append(element("h3", { text: "Request body (application/json)" }));
    section.append(schemaBlock(body.content["application/json"].schema, resolve));
  }
  section.append(element("h3", { text: "Responses" }));
  for (const [status, reference] of Object.entries(operation.responses ?? {})) {
    const response = resolve(reference);
    const line = [element("strong", { text: status }), ` ${response.description ?? ""}`];
    const schema = response.content?.["application/json"]?.schema;
    if (!schema) {
      section.append(element("p", { children: line }));
    } else if (Number(status) >= 400) {
      // Errors all share one shape: folded, so the successful answers stand out.
      section.append(element("details", { children: [element("summary", { children: line }), schemaBlock(schema, resolve)] }));
    } else {
      section.append(element("p", { children: line }), schemaBlock(schema, resolve));
    }
  }
  return section;
}

async function main() {
  const operations = document.getElementById("operations");
  let spec;
  try {
    const response = await fetch("/openapi.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    spec = await response.json();
  } catch (error) {
    operations.replaceChildren(element("p", { text: `Could not load /openapi.json (${error.message}): is the server running?` }));
    return;
  }
  const resolve = resolver(spec);
  document.getElementById("title").textContent = `${spec.info.title} ${spec.info.version}`;
  document.getElementById("description").textContent = spec.info.description ?? "";
  const contents = element("ul");
  const sections = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of Object.keys(item).filter((key) => METHODS.includes(key))) {
      const anchor = `${method}-${path}`.replace(/[^A-Za-z0-9-]+/g, "-");
      contents.append(element("li", { children: [element("a", { text: `${method.toUpperCase()} ${path}`, attributes: { href: `#${anchor}` } })] }));
      sections.push(operationSection(method, path, item[method], resolve, anchor));
    }
  }
  document.getElementById("contents").replaceChildren(contents);
  operations.replaceChildren(...sections);
}

main();
