/**
 * A form generated from a JSON Schema (a tool's input schema): strings,
 * numbers, integers, booleans, enums, nested objects and arrays of scalars,
 * anything else as JSON text. Fields start with the model's values; a field
 * the reviewer changed is highlighted and marked "changed" in its label.
 * `schemaForm(schema, value)` answers `{ node, read(), check() }`: `read()`
 * the edited value, `check()` whether anything differs from `value`.
 */
export const formJs = String.raw`
let fieldSeq = 0;
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
function typeOf(schema) {
  if (schema.enum) return 'enum';
  if (schema.const !== undefined) return 'enum';
  let t = schema.type;
  if (Array.isArray(t)) t = t.find((x) => x !== 'null');
  if (!t && schema.properties) return 'object';
  return t || 'any';
}
const SCALARS = ['string', 'number', 'integer', 'boolean', 'enum'];

function labelFor(id, text, required) {
  return h('label', { for: id }, text, required ? h('span', { class: 'muted' }, ' (required)') : null, h('span', { class: 'changed-mark', hidden: true }, 'changed'));
}
function markChanged(wrapper, changed) {
  wrapper.classList.toggle('changed', changed);
  const mark = wrapper.querySelector(':scope > label > .changed-mark, :scope > legend > .changed-mark');
  if (mark) mark.hidden = !changed;
  return changed;
}

function scalarControl(schema, type, value, id, label, describedBy) {
  const common = { id, 'aria-describedby': describedBy, 'data-path': label };
  if (type === 'enum') {
    const options = schema.enum || [schema.const];
    const select = h('select', common, h('option', { value: '' }, '(none)'),
      options.map((o) => h('option', { value: JSON.stringify(o), selected: same(o, value) }, typeof o === 'string' ? o : JSON.stringify(o))));
    return { el: select, read: () => (select.value === '' ? undefined : JSON.parse(select.value)) };
  }
  if (type === 'boolean') {
    const box = h('input', Object.assign({ type: 'checkbox', checked: value === true }, common));
    return { el: box, read: () => (value === undefined && !box.checked ? undefined : box.checked) };
  }
  if (type === 'number' || type === 'integer') {
    const input = h('input', Object.assign({ type: 'number', step: type === 'integer' ? '1' : 'any', value: value === undefined || value === null ? '' : String(value),
      min: schema.minimum, max: schema.maximum }, common));
    return { el: input, read: () => (input.value.trim() === '' ? undefined : Number(input.value)) };
  }
  if (type === 'string') {
    const text = value === undefined || value === null ? '' : String(value);
    const long = text.length > 80 || (schema.maxLength || 0) > 200;
    const input = long ? h('textarea', Object.assign({ rows: 3 }, common)) : h('input', Object.assign({ type: 'text' }, common));
    input.value = text;
    return { el: input, read: () => (value === undefined && input.value === '' ? undefined : input.value) };
  }
  const area = h('textarea', Object.assign({ rows: 3, spellcheck: 'false' }, common));
  area.value = value === undefined ? '' : JSON.stringify(value, null, 2);
  return { el: area, read: () => {
    if (area.value.trim() === '') return undefined;
    try { return JSON.parse(area.value); } catch (e) { throw new Error(label + ' is not valid JSON'); }
  } };
}

function buildField(schema, value, label, path, required) {
  schema = schema || {};
  const type = typeOf(schema);
  const id = 'f' + (++fieldSeq);
  const hintId = schema.description ? id + '-hint' : null;
  const hint = hintId ? h('span', { class: 'hint', id: hintId }, schema.description) : null;
  if (type === 'object' && schema.properties) {
    const req = schema.required || [];
    const children = Object.keys(schema.properties).map((k) => [k, buildField(schema.properties[k], value ? value[k] : undefined, k, path ? path + '.' + k : k, req.includes(k))]);
    const node = path ? h('fieldset', { 'data-path': path }, h('legend', null, label, h('span', { class: 'changed-mark', hidden: true }, 'changed')), hint, children.map((c) => c[1].node))
      : h('div', null, children.map((c) => c[1].node));
    return {
      node,
      read: () => {
        const out = {};
        // Keys the schema does not describe are kept as the model gave them.
        if (value && typeof value === 'object') for (const k of Object.keys(value)) if (!(k in schema.properties)) out[k] = value[k];
        for (const [k, f] of children) { const v = f.read(); if (v !== undefined) out[k] = v; }
        return out;
      },
      check: () => children.map((c) => c[1].check()).some(Boolean),
    };
  }
  if (type === 'array' && SCALARS.includes(typeOf(schema.items || {}))) {
    const itemSchema = schema.items || {};
    const itemType = typeOf(itemSchema);
    const list = h('div');
    const items = [];
    const renumber = () => items.forEach((it, i) => {
      it.control.el.setAttribute('aria-label', label + ' item ' + (i + 1));
      it.remove.setAttribute('aria-label', 'Remove ' + label + ' item ' + (i + 1));
    });
    const add = (v) => {
      const control = scalarControl(itemSchema, itemType, v, 'f' + (++fieldSeq), label, null);
      const item = { control, remove: null, row: null };
      item.remove = h('button', { type: 'button', onclick: () => { items.splice(items.indexOf(item), 1); item.row.remove(); renumber(); node.dispatchEvent(new Event('input', { bubbles: true })); } }, 'Remove');
      item.row = h('div', { class: 'item' }, control.el, item.remove);
      items.push(item);
      list.appendChild(item.row);
      renumber();
      return control.el;
    };
    for (const v of Array.isArray(value) ? value : []) add(v);
    const node = h('fieldset', { 'data-path': path }, h('legend', null, label, h('span', { class: 'changed-mark', hidden: true }, 'changed')), hint, list,
      h('button', { type: 'button', onclick: () => { add(undefined).focus(); node.dispatchEvent(new Event('input', { bubbles: true })); } }, 'Add ' + label + ' item'));
    const read = () => items.map((it) => it.control.read()).filter((v) => v !== undefined);
    return { node, read, check: () => markChanged(node, !same(read(), value === undefined ? [] : value)) };
  }
  const control = scalarControl(schema, SCALARS.includes(type) ? type : 'any', value, id, path, hintId);
  const node = h('div', { class: 'field' }, labelFor(id, label, required), control.el, hint);
  return { node, read: control.read, check: () => markChanged(node, !same(control.read(), value)) };
}

function schemaForm(schema, value) {
  const root = buildField(schema || {}, value, '', '', false);
  const safeCheck = () => { try { return root.check(); } catch (e) { return true; } };
  root.node.addEventListener('input', safeCheck);
  root.node.addEventListener('change', safeCheck);
  return { node: root.node, read: root.read, check: safeCheck };
}
`;
